import { all } from "../api.js";
import { h } from "../dom.js";
import { askBox } from "./answer.js";

function checkboxes(legend, items, name) {
  const boxes = items.map((item) => h("input", { type: "checkbox", name, value: item.id, id: `${name}-${item.id}` }));
  const set = h(
    "fieldset",
    {},
    h("legend", {}, legend),
    items.length ? boxes.map((box, i) => h("div", { class: "check" }, box, h("label", { for: box.id }, items[i].name))) : h("p", { class: "muted" }, "None yet."),
  );
  return { set, chosen: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}

/** Ask the whole organization (`/search`), optionally scoped to projects and knowledge bases. */
export async function askPage(main) {
  const [projects, kbs] = await Promise.all([all("/projects"), all("/knowledge-bases")]);
  const byProject = checkboxes("Projects", projects, "project");
  const byKb = checkboxes("Knowledge bases", kbs, "kb");
  const meetings = h("input", { type: "checkbox", id: "include-meetings", checked: true });
  main.append(
    h("h1", {}, "Ask the organization"),
    h("p", {}, "Searches every knowledge base and meeting your key may see. Narrow it below; nothing checked means everything."),
    h("details", { class: "card" }, h("summary", {}, "Scope"), h("div", { class: "grid" }, byProject.set, byKb.set), h("div", { class: "check" }, meetings, h("label", { for: "include-meetings" }, "Include the projects' meetings"))),
    askBox("Your question", () => {
      const scope = { include_meetings: meetings.checked };
      if (byProject.chosen().length) scope.project_ids = byProject.chosen();
      if (byKb.chosen().length) scope.knowledge_base_ids = byKb.chosen();
      return { path: "/search", extra: { scope } };
    }),
  );
}
