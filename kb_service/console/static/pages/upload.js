import { get, upload } from "../api.js";
import { clear, h, table } from "../dom.js";

const POLL_MS = 500;
const PARALLEL = 3;

/** Collect the files of a drop, walking into dropped folders. */
async function droppedFiles(dataTransfer) {
  const entries = [...dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  if (!entries.length) return [...dataTransfer.files];
  const files = [];
  async function walk(entry, prefix) {
    if (entry.isFile) {
      const file = await new Promise((ok, fail) => entry.file(ok, fail));
      if (prefix) file.relativePath = prefix + file.name;
      files.push(file);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
        if (!batch.length) break;
        for (const child of batch) await walk(child, prefix + entry.name + "/");
      }
    }
  }
  for (const entry of entries) await walk(entry, "");
  return files;
}

function describe(job, item) {
  if (!item || item.status === "pending") {
    return job.status === "queued" ? ["queued", "waiting for a worker"] : ["running", "parsing, chunking and embedding"];
  }
  if (item.status === "indexed") {
    const info = item.version > 1 ? `new version: v${item.version} replaces v${item.version - 1}` : `v${item.version}, ${item.chunk_count} chunks`;
    return ["indexed", info];
  }
  if (item.status === "unchanged") return ["unchanged", `no-op: the same content is already v${item.version}`];
  if (item.status === "superseded") return ["superseded", "a newer upload of this document was indexed first"];
  return ["failed", item.error || job.error || "failed"];
}

/** The drop zone and the per-file table: upload progress, then the ingest job's live status. */
export function uploader(kbId, ctx, onIngested) {
  let stopped = false;
  ctx.onLeave(() => (stopped = true));
  const rows = h("tbody");
  const results = h("div", { "aria-live": "polite" });
  const input = h("input", { type: "file", multiple: true, class: "sr-only", id: "upload-files" });
  const folder = h("input", { type: "file", multiple: true, webkitdirectory: true, class: "sr-only", id: "upload-folder" });
  const zone = h(
    "div",
    { class: "dropzone", "data-testid": "dropzone" },
    h("p", {}, "Drop files or a folder here, or"),
    h("div", { class: "row" }, h("label", { for: "upload-files", class: "button" }, "Choose files"), h("label", { for: "upload-folder", class: "button secondary" }, "Choose a folder")),
    input,
    folder,
    h("p", { class: "muted" }, "Each file is uploaded on its own; its ingest job is then polled every half second until the document is indexed or fails."),
  );
  for (const el of [input, folder]) el.addEventListener("change", () => start([...el.files]).finally(() => (el.value = "")));
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    start(await droppedFiles(e.dataTransfer));
  });

  async function start(files) {
    if (!files.length) return;
    if (!rows.isConnected) clear(results, table("Uploads", ["File", "Upload", "Status", "Details"], rows));
    const queue = files.map((file) => ({ file, ...addRow(file) }));
    const workers = Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
      while (queue.length && !stopped) await one(queue.shift());
    });
    await Promise.all(workers);
  }

  function addRow(file) {
    const bar = h("progress", { max: "100", value: "0", "aria-label": `Upload of ${file.name}` });
    const status = h("td", { "data-testid": "upload-status" }, h("span", { class: "badge" }, "uploading"));
    const details = h("td", { "data-testid": "upload-details" }, `${Math.ceil(file.size / 1024)} KiB`);
    rows.append(h("tr", { "data-file": file.relativePath || file.name }, h("td", {}, file.relativePath || file.name), h("td", {}, bar), status, details));
    return { bar, status, details };
  }

  function show(row, state, info) {
    clear(row.status, h("span", { class: `badge badge-${state}` }, state));
    clear(row.details, info);
  }

  async function one(row) {
    let job;
    try {
      job = await upload(kbId, row.file, (f) => (row.bar.value = Math.round(f * 100)));
    } catch (error) {
      show(row, "failed", error.message);
      return;
    }
    while (!stopped) {
      const [state, info] = describe(job, job.documents[0]);
      show(row, state, info);
      if (["completed", "failed", "partially_failed"].includes(job.status)) break;
      await new Promise((ok) => setTimeout(ok, POLL_MS));
      try {
        job = await get(`/ingest-jobs/${job.id}`);
      } catch (error) {
        show(row, "failed", error.message);
        return;
      }
    }
    if (!stopped) onIngested();
  }

  return h("section", { class: "card", "aria-labelledby": "upload-title" }, h("h2", { id: "upload-title" }, "Upload"), zone, results);
}
