// The console's only way to the server: the public /api/v1 API, with the API key
// from sessionStorage in the X-API-Key header (never in a URL, never logged).

const KEY = "kb-service.api-key";
export const API = "/api/v1";

export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

function headers(extra = {}) {
  const key = session.key();
  return key ? { "X-API-Key": key, ...extra } : extra;
}

async function envelope(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${response.status} without a JSON body.`, "bad_response", response.status);
  }
  if (!response.ok || !body.success) {
    throw new ApiError(body.message || `Request failed (${response.status}).`, body.meta && body.meta.code, response.status);
  }
  return body;
}

/** One API call; resolves to the envelope ({data, meta}) or throws ApiError. */
export async function call(method, path, body) {
  const init = { method, headers: headers() };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(API + path, init);
  } catch {
    throw new ApiError("The server cannot be reached.", "network", 0);
  }
  return envelope(response);
}

export const get = async (path) => (await call("GET", path)).data;
export const post = async (path, body) => (await call("POST", path, body ?? {})).data;
export const patch = async (path, body) => (await call("PATCH", path, body)).data;
export const del = async (path) => (await call("DELETE", path)).data;

/** Every item of a cursor-paginated list (at most `maxPages` pages of 100). */
export async function all(path, maxPages = 20) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await call("GET", `${path}${sep}limit=100${cursor ? "&cursor=" + encodeURIComponent(cursor) : ""}`);
    items.push(...page.data);
    cursor = page.meta && page.meta.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** Upload one file as multipart `files`; `onProgress(fraction)` as it is sent. Resolves to the ingest job. */
export function upload(kbId, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API}/knowledge-bases/${encodeURIComponent(kbId)}/ingest`);
    for (const [name, value] of Object.entries(headers())) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300 && body && body.success) {
        onProgress(1);
        resolve(body.data);
      } else {
        reject(new ApiError((body && body.message) || `Upload failed (${xhr.status}).`, body && body.meta && body.meta.code, xhr.status));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError("The upload could not reach the server.", "network", 0)));
    const form = new FormData();
    form.append("files", file, file.name); // the server keeps the last path component only
    xhr.send(form);
  });
}

/** POST with `stream: true` and read the Server-Sent Events; `onEvent(name, data)` per event. */
export async function stream(path, body, onEvent) {
  let response;
  try {
    response = await fetch(API + path, {
      method: "POST",
      headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
      body: JSON.stringify({ ...body, stream: true }),
    });
  } catch {
    throw new ApiError("The server cannot be reached.", "network", 0);
  }
  if (!response.ok || !(response.headers.get("content-type") || "").startsWith("text/event-stream")) {
    return envelope(response); // an error in the envelope (or a plain JSON answer)
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      onEvent(name, data ? JSON.parse(data) : null);
    }
  }
  return null;
}
