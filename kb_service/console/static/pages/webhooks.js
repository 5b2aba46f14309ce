import { all, del, post } from "../api.js";
import { badge, clear, confirmDialog, empty, errorBox, field, h, secretBox, table, when } from "../dom.js";

/** Webhooks (admin): endpoints, their deliveries (retry a dead one), secret rotation. */
export async function webhooksPage(main) {
  const url = h("input", { type: "url", required: true, maxlength: "2000", placeholder: "https://hooks.example.com/kb" });
  const types = h("input", { value: "*", placeholder: "kb.ingest.completed, meeting.indexed" });
  const created = h("div", { "aria-live": "polite" });
  const list = h("div");
  const form = h("form", { class: "card", "aria-labelledby": "new-hook" }, h("h2", { id: "new-hook" }, "New endpoint"), h("div", { class: "grid" }, field("URL", url), field("Event types", types, "comma-separated; * for all")), h("button", { type: "submit" }, "Add endpoint"), created);
  main.append(h("h1", {}, "Webhooks"), form, list);

  async function refresh() {
    const hooks = await all("/webhooks");
    if (!hooks.length) return clear(list, empty("No webhook endpoints.", h("p", {}, "Add one above to be told when ingestion finishes.")));
    clear(list, hooks.map((hook) => endpoint(hook, refresh)));
  }
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const event_types = types.value.split(",").map((t) => t.trim()).filter(Boolean);
      const hook = await post("/webhooks", { url: url.value, event_types });
      clear(created, secretBox("Signing secret", hook.secret));
      await refresh();
    } catch (error) {
      clear(created, errorBox(error));
    }
  });
  await refresh();
}

function endpoint(hook, refresh) {
  const note = h("div", { "aria-live": "polite" });
  const deliveries = h("div");
  const filter = h("select", { "aria-label": `Delivery status of ${hook.url}` }, ["all", "pending", "delivering", "succeeded", "dead"].map((s) => h("option", { value: s }, s)));
  const rotate = h("button", { type: "button", class: "secondary" }, "Rotate secret");
  const remove = h("button", { type: "button", class: "danger" }, "Delete");
  rotate.addEventListener("click", async () => {
    try {
      const rotated = await post(`/webhooks/${hook.id}/rotate-secret`);
      clear(note, secretBox("New signing secret", rotated.secret), h("p", { class: "muted" }, `The old secret also signs until ${when(rotated.previous_secret_expires_at)}.`));
    } catch (error) {
      clear(note, errorBox(error));
    }
  });
  remove.addEventListener("click", async () => {
    if (!(await confirmDialog(`Delete the endpoint ${hook.url} and its delivery history?`))) return remove.focus();
    try {
      await del(`/webhooks/${hook.id}`);
      await refresh();
    } catch (error) {
      clear(note, errorBox(error));
    }
  });
  async function load() {
    try {
      const status = filter.value === "all" ? "" : `?status=${filter.value}`;
      const items = await all(`/webhooks/${hook.id}/deliveries${status}`, 2);
      clear(deliveries, items.length ? table(`Deliveries to ${hook.url}`, ["Event", "Status", "Attempts", "Last answer", "Created", "Next attempt", ""], items.map((d) => delivery(hook, d, load, note))) : empty("No deliveries."));
    } catch (error) {
      clear(deliveries, errorBox(error));
    }
  }
  filter.addEventListener("change", load);
  load();
  return h(
    "section",
    { class: "card", "data-webhook": hook.id, "aria-label": `Endpoint ${hook.url}` },
    h("h2", {}, h("code", {}, hook.url)),
    h("p", {}, badge(hook.status), ` events: ${hook.event_types.join(", ")}`, hook.disabled_reason ? ` — ${hook.disabled_reason}` : ""),
    h("div", { class: "row" }, rotate, remove, field("Show", filter)),
    note,
    deliveries,
  );
}

function delivery(hook, d, reload, note) {
  const attempts = d.attempts.length
    ? h("details", {}, h("summary", {}, `${d.attempt_count} attempts`), h("ol", {}, d.attempts.map((a) => h("li", {}, `${when(a.started_at)}: ${a.status_code ?? "no answer"}${a.error ? " — " + a.error : ""} (${a.latency_ms} ms)`))))
    : "0";
  const cell = h("td", { class: "actions" });
  if (d.status === "dead") {
    const retry = h("button", { type: "button", "aria-label": `Retry delivery ${d.id}` }, "Retry");
    retry.addEventListener("click", async () => {
      try {
        await post(`/webhooks/${hook.id}/deliveries/${d.id}/retry`);
        await reload();
      } catch (error) {
        clear(note, errorBox(error));
      }
    });
    cell.append(retry);
  }
  return h(
    "tr",
    { "data-delivery": d.id },
    h("td", {}, d.event_type),
    h("td", { "data-testid": "delivery-status" }, badge(d.status)),
    h("td", {}, attempts),
    h("td", {}, d.last_status_code ? String(d.last_status_code) : "—", d.last_error ? h("div", { class: "muted" }, d.last_error) : null),
    h("td", {}, when(d.created_at)),
    h("td", {}, when(d.next_attempt_at)),
    cell,
  );
}
