// DOM helpers: elements are built with text nodes only (never innerHTML), so
// nothing the API returns is ever parsed as markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "class") {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A link inside the console; the router handles the click without a reload. */
export function link(href, ...children) {
  return h("a", { href }, ...children);
}

/** An error box with the API's message verbatim (and its code). */
export function errorBox(error) {
  const code = error && error.code ? ` (${error.code})` : "";
  return h("div", { class: "error", role: "alert" }, String(error && error.message ? error.message : error) + code);
}

export function empty(message, ...more) {
  return h("div", { class: "empty" }, h("p", {}, message), ...more);
}

export function field(label, input, hint) {
  const id = input.id || "f-" + Math.random().toString(36).slice(2, 9);
  input.id = id;
  const hintEl = hint ? h("small", { id: id + "-hint", class: "muted" }, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hintEl);
}

/** A table wrapped so that it scrolls sideways on a narrow screen. */
export function table(caption, headers, rows) {
  return h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h(
      "table",
      {},
      h("caption", { class: "sr-only" }, caption),
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows),
    ),
  );
}

export function badge(status) {
  return h("span", { class: `badge badge-${status}` }, status);
}

/** A modal confirmation; resolves true when the person confirms. */
export function confirmDialog(message, confirmLabel = "Delete") {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": "confirm-text" },
      h("p", { id: "confirm-text" }, message),
      h(
        "form",
        { method: "dialog", class: "row" },
        h("button", { value: "cancel", class: "secondary" }, "Cancel"),
        h("button", { value: "confirm", class: "danger" }, confirmLabel),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "confirm");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A secret shown once, with a copy button. */
export function secretBox(label, secret) {
  const out = h("code", { class: "secret", "data-secret": "" }, secret);
  const status = h("span", { role: "status", class: "muted" });
  const copy = h("button", { type: "button", class: "secondary" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret);
      status.textContent = "Copied.";
    } catch {
      getSelection().selectAllChildren(out);
      status.textContent = "Selected: press Ctrl+C to copy.";
    }
  });
  return h(
    "div",
    { class: "secret-box", role: "status" },
    h("p", {}, h("strong", {}, label), " — shown only now; store it somewhere safe."),
    h("div", { class: "row" }, out, copy, status),
  );
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

/** Seconds from the start of a meeting as m:ss (or h:mm:ss). */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

export function plural(n, one, many = one + "s") {
  return `${n} ${n === 1 ? one : many}`;
}
