import { all, del, post } from "../api.js";
import { clear, confirmDialog, empty, errorBox, field, h, secretBox, table, when } from "../dom.js";

/** API keys (admin): list, create (the secret shown once), revoke. */
export async function keysPage(main) {
  const name = h("input", { maxlength: "200", placeholder: "e.g. support bot" });
  const role = h("select", {}, ["reader", "writer", "admin"].map((r) => h("option", { value: r }, r)));
  const created = h("div", { "aria-live": "polite" });
  const list = h("div");
  const form = h("form", { class: "card", "aria-labelledby": "new-key" }, h("h2", { id: "new-key" }, "New API key"), h("div", { class: "grid" }, field("Name", name), field("Role", role)), h("button", { type: "submit" }, "Create key"), created);
  main.append(h("h1", {}, "API keys"), form, list);

  async function refresh() {
    const keys = await all("/api-keys");
    if (!keys.length) return clear(list, empty("No API keys."));
    const rows = keys.map((k) => {
      const cell = h("td", { class: "actions" });
      if (!k.revoked_at) {
        const revoke = h("button", { type: "button", class: "danger", "aria-label": `Revoke ${k.name || k.prefix}` }, "Revoke");
        revoke.addEventListener("click", async () => {
          if (!(await confirmDialog(`Revoke the key ${k.prefix}…? Requests with it fail from now on.`, "Revoke"))) return revoke.focus();
          try {
            await del(`/api-keys/${k.id}`);
            await refresh();
          } catch (error) {
            cell.append(errorBox(error));
          }
        });
        cell.append(revoke);
      }
      return h("tr", {}, h("td", {}, k.name || "—"), h("td", {}, h("code", {}, k.prefix + "…")), h("td", {}, k.role), h("td", {}, when(k.created_at)), h("td", {}, k.revoked_at ? `revoked ${when(k.revoked_at)}` : "active"), cell);
    });
    clear(list, table("API keys", ["Name", "Key", "Role", "Created", "Status", ""], rows));
  }
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const key = await post("/api-keys", { name: name.value || null, role: role.value });
      clear(created, secretBox(`New ${key.role} key`, key.key));
      await refresh();
    } catch (error) {
      clear(created, errorBox(error));
    }
  });
  await refresh();
}
