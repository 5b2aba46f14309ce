import { call, stream } from "../api.js";
import { clear, clock, errorBox, field, h } from "../dom.js";

/** The console page that shows a cited span: a document's text or a meeting's transcript. */
export function spanLink(c) {
  const span = `#span=${c.char_start}-${c.char_end}`;
  if (c.meeting_id) return `/console/meetings/${c.meeting_id}${span}`;
  return `/console/kb/${c.knowledge_base_id}/doc/${c.document_id}${span}`;
}

function where(c) {
  if (c.meeting_id) return [c.speaker, c.timestamp != null ? `at ${clock(c.timestamp)}` : null].filter(Boolean).join(" ");
  return [c.page_number ? `page ${c.page_number}` : null, (c.section || []).join(" › ") || null].filter(Boolean).join(", ");
}

/** `[n]` markers become links to `citations[n-1]`; markers that resolve nowhere stay text. */
function linkedAnswer(text, citations) {
  const byIndex = Object.fromEntries(citations.map((c) => [c.index, c]));
  return text.split(/(\[\d+\])/).map((part) => {
    const m = part.match(/^\[(\d+)\]$/);
    const c = m && byIndex[Number(m[1])];
    if (!c) return part;
    return h("a", { href: spanLink(c), class: "cite", "data-citation": c.index, "aria-label": `Source ${c.index}: ${c.title}${where(c) ? ", " + where(c) : ""}` }, part);
  });
}

function verdict(data) {
  const confidence = `confidence ${Math.round((data.confidence ?? 0) * 100)}%`;
  if (data.found === false) {
    return h("div", { class: "notfound", role: "status", "data-testid": "not-found" }, h("strong", {}, "Not found. "), data.reason || "The knowledge base does not answer this.", ` (${confidence})`);
  }
  return h("p", { class: "muted", "data-testid": "found" }, `Found, ${confidence}`);
}

function citationList(citations) {
  if (!citations.length) return null;
  return h(
    "ol",
    { class: "citations", "aria-label": "Sources" },
    citations.map((c) =>
      h(
        "li",
        { value: c.index, "data-citation-text": "" },
        h("a", { href: spanLink(c) }, c.title || c.source),
        where(c) ? h("span", { class: "muted" }, " — ", where(c)) : null,
        h("blockquote", {}, c.text),
      ),
    ),
  );
}

function rankedChunks(chunks) {
  if (!chunks.length) return h("p", { class: "empty" }, "No passages matched.");
  return h(
    "ol",
    { class: "ranked", "aria-label": "Ranked passages" },
    chunks.map((c) =>
      h(
        "li",
        {},
        h("div", { class: "row" }, h("a", { href: spanLink(c) }, c.title || c.source), h("span", { class: "score", "data-testid": "score" }, `score ${Number(c.score).toFixed(3)}`)),
        where(c) ? h("div", { class: "muted" }, where(c)) : null,
        h("blockquote", {}, c.text),
      ),
    ),
  );
}

/** A question box: answers streamed with clickable citations, or ranked chunks with scores.
 * `target()` gives {path, extra}: the query URL and extra body fields (scope, filters). */
export function askBox(title, target) {
  const question = h("textarea", { name: "question", rows: "2", required: true, maxlength: "2000" });
  const mode = h("select", { name: "mode" }, h("option", { value: "answer" }, "Answer with citations"), h("option", { value: "retrieve" }, "Retrieve: ranked passages"));
  const topK = h("input", { type: "number", name: "top_k", min: "1", max: "100", value: "5" });
  const types = h("input", { name: "source_types", placeholder: "e.g. pdf, markdown" });
  const out = h("div", { class: "answer", "data-testid": "answer-area" });
  const status = h("p", { class: "muted", role: "status" });
  const button = h("button", { type: "submit" }, "Ask");
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "ask-title" },
    h("h2", { id: "ask-title" }, title),
    field("Question", question),
    h("div", { class: "grid" }, field("Mode", mode), field("Results (top k)", topK), field("Only these source types", types, "comma-separated; empty: all")),
    button,
    status,
    out,
  );
  question.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { path, extra } = target();
    const body = { query: question.value.trim(), top_k: Number(topK.value) || 5, mode: mode.value, ...extra };
    const sourceTypes = types.value.split(",").map((s) => s.trim()).filter(Boolean);
    if (sourceTypes.length) body.filter = { ...(body.filter || {}), source_types: sourceTypes };
    button.disabled = true;
    out.setAttribute("aria-busy", "true");
    clear(out);
    try {
      if (mode.value === "retrieve") {
        status.textContent = "Searching…";
        const { data } = await call("POST", path, body);
        clear(out, verdict(data), rankedChunks(data.chunks));
      } else {
        status.textContent = "Composing the answer…";
        const draft = h("p", { class: "draft", "data-testid": "draft" });
        out.append(draft);
        const plain = await stream(path, body, (name, data) => {
          if (name === "delta") draft.append(data.text);
          else if (name === "error") out.append(errorBox(data));
          else if (name === "done") clear(out, verdict(data), h("p", { class: "final", "data-testid": "final-answer" }, linkedAnswer(data.answer || "", data.citations)), citationList(data.citations));
        });
        if (plain) clear(out, verdict(plain.data), h("p", { class: "final" }, linkedAnswer(plain.data.answer || "", plain.data.citations)), citationList(plain.data.citations));
      }
      status.textContent = "Done.";
    } catch (error) {
      status.textContent = "";
      clear(out, errorBox(error));
    } finally {
      button.disabled = false;
      out.removeAttribute("aria-busy");
    }
  });
  return form;
}
