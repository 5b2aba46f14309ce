import { all, del, patch, post } from "../api.js";
import { clear, confirmDialog, empty, errorBox, field, h, link, table, when } from "../dom.js";

/** Knowledge bases: list with counts, create (with chunking), rename, delete. */
export async function knowledgeBasesPage(main, _params, ctx) {
  const list = h("div", { "aria-live": "polite" });
  main.append(h("h1", {}, "Knowledge bases"));
  const projects = await all("/projects").catch(() => []);
  if (ctx.can("writer")) main.append(createForm(projects, ctx));
  main.append(list);

  async function refresh() {
    const kbs = await all("/knowledge-bases");
    if (!kbs.length) {
      clear(list, empty("No knowledge bases yet.", ctx.can("writer") ? h("p", {}, "Create one above, then drop files into it.") : null));
      return;
    }
    const names = Object.fromEntries(projects.map((p) => [p.id, p.name]));
    const rows = kbs.map((kb) => row(kb, names, refresh, ctx));
    clear(list, table("Knowledge bases", ["Name", "Documents", "Chunks", "Project", "Chunking", "Created", ""], rows));
  }
  await refresh();
}

function row(kb, projectNames, refresh, ctx) {
  const actions = h("td", { class: "actions" });
  const status = h("div", { "aria-live": "polite" });
  if (ctx.can("writer")) {
    const rename = h("button", { type: "button", class: "secondary", "aria-label": `Rename ${kb.name}` }, "Rename");
    rename.addEventListener("click", () => {
      const input = h("input", { value: kb.name, required: true, maxlength: "200" });
      const form = h("form", { class: "row" }, field("New name", input), h("button", { type: "submit" }, "Save"));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        try {
          await patch(`/knowledge-bases/${kb.id}`, { name: input.value });
          await refresh();
        } catch (error) {
          clear(status, errorBox(error));
        }
      });
      clear(actions, form, status);
      input.focus();
    });
    const remove = h("button", { type: "button", class: "danger", "aria-label": `Delete ${kb.name}` }, "Delete");
    remove.addEventListener("click", async () => {
      const sure = await confirmDialog(`Delete the knowledge base "${kb.name}" with its ${kb.document_count} documents and ${kb.chunk_count} chunks? This cannot be undone.`);
      if (!sure) return remove.focus();
      try {
        await del(`/knowledge-bases/${kb.id}`);
        await refresh();
      } catch (error) {
        clear(status, errorBox(error));
      }
    });
    actions.append(rename, remove, status);
  }
  return h(
    "tr",
    {},
    h("td", {}, link(`/console/kb/${kb.id}`, kb.name), kb.description ? h("div", { class: "muted" }, kb.description) : null),
    h("td", { "data-testid": "document-count" }, kb.document_count),
    h("td", { "data-testid": "chunk-count" }, kb.chunk_count),
    h("td", {}, kb.project_id ? link(`/console/projects/${kb.project_id}`, projectNames[kb.project_id] || kb.project_id) : "—"),
    h("td", {}, `${kb.chunking.max_tokens} tokens, ${kb.chunking.overlap_tokens} overlap`),
    h("td", {}, when(kb.created_at)),
    actions,
  );
}

function createForm(projects, ctx) {
  const name = h("input", { name: "name", required: true, maxlength: "200" });
  const description = h("input", { name: "description", maxlength: "5000" });
  const project = h("select", { name: "project" }, h("option", { value: "" }, "No project"), projects.map((p) => h("option", { value: p.id }, p.name)));
  const maxTokens = h("input", { name: "max_tokens", type: "number", min: "16", max: "8192", placeholder: "default" });
  const overlap = h("input", { name: "overlap_tokens", type: "number", min: "0", max: "4096", placeholder: "default" });
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "create-kb" },
    h("h2", { id: "create-kb" }, "New knowledge base"),
    h(
      "div",
      { class: "grid" },
      field("Name", name),
      field("Description", description),
      field("Project", project),
      field("Chunk size (tokens)", maxTokens, "16–8192; empty: the service's default"),
      field("Chunk overlap (tokens)", overlap, "smaller than the chunk size"),
    ),
    h("button", { type: "submit" }, "Create"),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: name.value };
    if (description.value) body.description = description.value;
    if (project.value) body.project_id = project.value;
    const chunking = {};
    if (maxTokens.value) chunking.max_tokens = Number(maxTokens.value);
    if (overlap.value) chunking.overlap_tokens = Number(overlap.value);
    if (Object.keys(chunking).length) body.chunking = chunking;
    try {
      const kb = await post("/knowledge-bases", body);
      ctx.navigate(`/kb/${kb.id}`);
    } catch (error) {
      clear(status, errorBox(error));
    }
  });
  return form;
}
