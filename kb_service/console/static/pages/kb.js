import { all, del, get } from "../api.js";
import { append, clear, confirmDialog, empty, errorBox, h, link, plural, table, when } from "../dom.js";
import { askBox } from "./answer.js";
import { uploader } from "./upload.js";

/** One knowledge base: its documents, the upload zone and a question box over it. */
export async function knowledgeBasePage(main, [kbId], ctx) {
  const kb = await get(`/knowledge-bases/${kbId}`);
  const summary = h("p", { class: "muted", "data-testid": "kb-summary" });
  const list = h("div", { "aria-live": "polite" });
  append(main, [h("p", { class: "crumbs" }, link("/console/kb", "Knowledge bases"), " / "), h("h1", {}, kb.name), summary, kb.description ? h("p", {}, kb.description) : null]);
  let refreshing = null;
  async function refresh() {
    const docs = await all(`/knowledge-bases/${kbId}/documents`);
    const chunks = docs.reduce((n, d) => n + d.chunk_count, 0);
    summary.textContent = `${plural(docs.length, "document")}, ${plural(chunks, "chunk")} · chunks of ${kb.chunking.max_tokens} tokens, ${kb.chunking.overlap_tokens} overlap`;
    if (!docs.length) {
      clear(list, empty("No documents yet.", ctx.can("writer") ? h("p", {}, "Drop files into the upload zone above.") : null));
      return;
    }
    clear(list, table("Documents", ["Title", "Status", "Version", "Type", "Size", "Chunks", "Updated", ""], docs.map((d) => row(d, refresh, ctx))));
  }
  const later = () => {
    // many uploads finish close together: one refresh for a burst
    clearTimeout(refreshing);
    refreshing = setTimeout(() => refresh().catch((e) => list.prepend(errorBox(e))), 300);
  };
  if (ctx.can("writer")) main.append(uploader(kbId, ctx, later));
  main.append(askBox(`Ask ${kb.name}`, () => ({ path: `/knowledge-bases/${kbId}/query`, extra: {} })));
  main.append(h("section", { "aria-labelledby": "docs-title" }, h("h2", { id: "docs-title" }, "Documents"), list));
  await refresh();
}

function row(doc, refresh, ctx) {
  const cell = h("td", { class: "actions" });
  if (ctx.can("writer")) {
    const remove = h("button", { type: "button", class: "danger", "aria-label": `Delete ${doc.title}` }, "Delete");
    remove.addEventListener("click", async () => {
      if (!(await confirmDialog(`Delete "${doc.title}" and its ${doc.chunk_count} chunks?`))) return remove.focus();
      try {
        await del(`/knowledge-bases/${doc.knowledge_base_id}/documents/${doc.id}`);
        await refresh();
      } catch (error) {
        cell.append(errorBox(error));
      }
    });
    cell.append(remove);
  }
  return h(
    "tr",
    { "data-document": doc.source },
    h("td", {}, link(`/console/kb/${doc.knowledge_base_id}/doc/${doc.id}`, doc.title), h("div", { class: "muted" }, doc.source)),
    h("td", {}, h("span", { class: `badge badge-${doc.status}` }, doc.status)),
    h("td", {}, `v${doc.version}`),
    h("td", {}, doc.source_type),
    h("td", {}, `${doc.char_count.toLocaleString()} characters`),
    h("td", {}, doc.chunk_count),
    h("td", {}, when(doc.updated_at)),
    cell,
  );
}
