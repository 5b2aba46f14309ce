import { all, del, get } from "../api.js";
import { confirmDialog, errorBox, h, link, plural } from "../dom.js";
import { renderRegions, revealSpan, spanOf } from "../text.js";

/** A document's extracted text with its chunk boundaries, pages and headings; a cited span highlighted. */
export async function documentPage(main, [kbId, docId], ctx) {
  const [kb, doc, chunks] = await Promise.all([
    get(`/knowledge-bases/${kbId}`),
    get(`/knowledge-bases/${kbId}/documents/${docId}?include_text=true`),
    all(`/knowledge-bases/${kbId}/documents/${docId}/chunks`),
  ]);
  const text = doc.text || "";
  const span = spanOf(ctx.hash);
  // a chunk's region runs to the next chunk's start (chunks may overlap)
  const starts = [...chunks].sort((a, b) => a.char_start - b.char_start);
  const regions = starts.map((c, i) => ({
    start: c.char_start,
    end: i + 1 < starts.length ? Math.max(c.char_start, starts[i + 1].char_start) : Infinity,
    attrs: { "data-chunk": c.ordinal },
    head: h(
      "div",
      { class: "region-head", "aria-label": `Chunk ${c.ordinal + 1}` },
      h("span", {}, `Chunk ${c.ordinal + 1}`),
      c.page_number ? h("span", {}, `page ${c.page_number}`) : null,
      c.section && c.section.length ? h("span", { class: "heading" }, c.section.join(" › ")) : null,
      h("span", { class: "muted" }, `chars ${c.char_start}–${c.char_end}, ${c.token_count} tokens`),
    ),
  }));
  main.append(
    h("p", { class: "crumbs" }, link("/console/kb", "Knowledge bases"), " / ", link(`/console/kb/${kbId}`, kb.name), " / "),
    h("h1", {}, doc.title),
    h("p", { class: "muted" }, `${doc.source} · ${doc.source_type} · v${doc.version} · ${doc.status} · ${plural(doc.chunk_count, "chunk")} · ${doc.char_count.toLocaleString()} characters`),
  );
  if (ctx.can("writer")) {
    const remove = h("button", { type: "button", class: "danger" }, "Delete document");
    remove.addEventListener("click", async () => {
      if (!(await confirmDialog(`Delete "${doc.title}" and its ${doc.chunk_count} chunks?`))) return remove.focus();
      try {
        await del(`/knowledge-bases/${kbId}/documents/${docId}`);
        ctx.navigate(`/kb/${kbId}`);
      } catch (error) {
        remove.after(errorBox(error));
      }
    });
    main.append(remove);
  }
  if (span) {
    main.append(h("p", { class: "cited-note", role: "status" }, `Showing the cited passage (characters ${span.start}–${span.end}), highlighted below.`));
  }
  if (!text) {
    main.append(h("p", { class: "empty" }, "This document has no extracted text."));
    return;
  }
  const body = renderRegions(text, regions, span, "doc-text");
  main.append(h("section", { "aria-label": "Extracted text" }, body));
  if (span) revealSpan(body);
}
