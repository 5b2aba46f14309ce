import { all, get, post } from "../api.js";
import { append, clear, empty, errorBox, field, h, link, table, when } from "../dom.js";
import { MEETING_COLUMNS, meetingRows } from "./meetings.js";

/** Projects: list and create. */
export async function projectsPage(main, _params, ctx) {
  main.append(h("h1", {}, "Projects"));
  if (ctx.can("writer")) {
    const name = h("input", { required: true, maxlength: "200" });
    const status = h("div", { "aria-live": "polite" });
    const form = h("form", { class: "card", "aria-labelledby": "new-project" }, h("h2", { id: "new-project" }, "New project"), field("Name", name), h("button", { type: "submit" }, "Create"), status);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const project = await post("/projects", { name: name.value });
        ctx.navigate(`/projects/${project.id}`);
      } catch (error) {
        clear(status, errorBox(error));
      }
    });
    main.append(form);
  }
  const projects = await all("/projects");
  if (!projects.length) {
    main.append(empty("No projects yet.", h("p", {}, "A project groups knowledge bases and meetings.")));
    return;
  }
  const rows = projects.map((p) => h("tr", {}, h("td", {}, link(`/console/projects/${p.id}`, p.name)), h("td", {}, p.knowledge_base_count), h("td", {}, p.meeting_count), h("td", {}, when(p.created_at))));
  main.append(table("Projects", ["Name", "Knowledge bases", "Meetings", "Created"], rows));
}

/** One project: its knowledge bases and its meeting history. */
export async function projectPage(main, [projectId]) {
  const [project, kbs, meetings] = await Promise.all([get(`/projects/${projectId}`), all("/knowledge-bases"), all(`/projects/${projectId}/meetings`, 5)]);
  const mine = kbs.filter((kb) => kb.project_id === projectId);
  append(main, [h("p", { class: "crumbs" }, link("/console/projects", "Projects"), " / "), h("h1", {}, project.name), project.description ? h("p", {}, project.description) : null]);
  const kbRows = mine.map((kb) => h("tr", {}, h("td", {}, link(`/console/kb/${kb.id}`, kb.name)), h("td", {}, kb.document_count), h("td", {}, kb.chunk_count)));
  main.append(
    h("h2", {}, "Knowledge bases"),
    mine.length ? table("Knowledge bases of the project", ["Name", "Documents", "Chunks"], kbRows) : empty("No knowledge bases in this project."),
    h("h2", {}, "Meetings"),
    meetings.length ? table("Meeting history", MEETING_COLUMNS, meetingRows(meetings)) : empty("No meetings in this project yet."),
  );
}
