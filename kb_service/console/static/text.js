// Renders an extracted text exactly (character for character) in regions — a
// document's chunks, a meeting's speaker turns — with one span highlighted.
// The API's offsets count Unicode code points (Python's str), so the text is cut as
// an array of code points, never with String.slice (UTF-16 units).
import { h } from "./dom.js";

/** `#span=START-END` of a deep link, or null. */
export function spanOf(hash) {
  const m = /^#span=(\d+)-(\d+)$/.exec(hash || "");
  return m && Number(m[2]) > Number(m[1]) ? { start: Number(m[1]), end: Number(m[2]) } : null;
}

/** points[a, b) as nodes, the part inside `span` wrapped in <mark class="cited">. */
function pieces(points, a, b, span) {
  const cut = (x, y) => points.slice(x, y).join("");
  if (!span || span.end <= a || span.start >= b) return [cut(a, b)];
  const s = Math.max(a, span.start);
  const e = Math.min(b, span.end);
  return [cut(a, s), h("mark", { class: "cited" }, cut(s, e)), cut(e, b)].filter((p) => p !== "");
}

/**
 * The whole `text` in a container: each region ({start, end, head, attrs}, sorted,
 * disjoint) is a block whose head (chrome, not text) precedes its text; what lies
 * between regions stays plain text. Joining every mark's text gives text[span].
 */
export function renderRegions(text, regions, span, className) {
  const box = h("div", { class: className });
  const points = Array.from(text);
  let at = 0;
  for (const r of regions) {
    if (r.start > at) box.append(...pieces(points, at, r.start, span));
    box.append(h("div", { class: "region", ...(r.attrs || {}) }, r.head, h("div", { class: "region-text" }, ...pieces(points, r.start, r.end, span))));
    at = r.end;
  }
  if (at < points.length) box.append(...pieces(points, at, points.length, span));
  return box;
}

/** Scroll the highlighted span into view and move the keyboard focus there. */
export function revealSpan(container) {
  const first = container.querySelector("mark.cited");
  if (!first) return false;
  first.setAttribute("tabindex", "-1");
  first.scrollIntoView({ block: "center" });
  first.focus({ preventScroll: true });
  return true;
}
