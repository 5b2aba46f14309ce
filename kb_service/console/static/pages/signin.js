import { clear, errorBox, field, h } from "../dom.js";

/** Sign in with an API key; it is kept in this tab's sessionStorage only. */
export function signInPage(main, _params, ctx) {
  const input = h("input", { type: "password", name: "api-key", autocomplete: "off", spellcheck: "false", required: true, placeholder: "sk_..." });
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card narrow", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title", tabindex: "-1" }, "Sign in"),
    h("p", {}, "Paste an API key. It stays in this browser tab (session storage) and is sent only as the X-API-Key header."),
    field("API key", input, "Create one with: kb-service keys create --org my-org --role admin"),
    h("button", { type: "submit" }, "Sign in"),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(status, h("p", { class: "muted" }, "Checking the key…"));
    try {
      await ctx.onSignedIn(input.value.trim());
    } catch (error) {
      clear(status, errorBox(error));
      input.focus();
    }
  });
  main.append(form);
  input.focus();
}
