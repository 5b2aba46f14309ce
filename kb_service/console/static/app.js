// The console's shell: who is signed in, the navigation, and a router over
// location.pathname (history API), so every page has a shareable URL.
import { ApiError, get, session } from "./api.js";
import { clear, errorBox, h, link } from "./dom.js";
import { signInPage } from "./pages/signin.js";
import { knowledgeBasesPage } from "./pages/kbs.js";
import { knowledgeBasePage } from "./pages/kb.js";
import { documentPage } from "./pages/document.js";
import { askPage } from "./pages/ask.js";
import { projectPage, projectsPage } from "./pages/projects.js";
import { meetingPage, meetingsPage } from "./pages/meetings.js";
import { webhooksPage } from "./pages/webhooks.js";
import { keysPage } from "./pages/keys.js";

const BASE = "/console";
const ROUTES = [
  [/^\/?$/, knowledgeBasesPage],
  [/^\/kb\/?$/, knowledgeBasesPage],
  [/^\/kb\/([^/]+)\/?$/, knowledgeBasePage],
  [/^\/kb\/([^/]+)\/doc\/([^/]+)\/?$/, documentPage],
  [/^\/ask\/?$/, askPage],
  [/^\/projects\/?$/, projectsPage],
  [/^\/projects\/([^/]+)\/?$/, projectPage],
  [/^\/meetings\/?$/, meetingsPage],
  [/^\/meetings\/([^/]+)\/?$/, meetingPage],
  [/^\/webhooks\/?$/, webhooksPage, "admin"],
  [/^\/keys\/?$/, keysPage, "admin"],
];
const NAV = [
  ["Knowledge bases", "/kb"],
  ["Ask", "/ask"],
  ["Projects", "/projects"],
  ["Meetings", "/meetings"],
  ["Webhooks", "/webhooks", "admin"],
  ["API keys", "/keys", "admin"],
];
const RANK = { reader: 1, writer: 2, admin: 3 };

let me = null;
let leaving = [];
const main = document.getElementById("main");
const top = document.getElementById("top");

export function navigate(path, { replace = false } = {}) {
  const url = path.startsWith(BASE) ? path : BASE + path;
  history[replace ? "replaceState" : "pushState"](null, "", url);
  render();
}

/** Whether the signed-in key has at least `role` (the API enforces it either way). */
export const can = (role) => !!me && RANK[me.role] >= RANK[role];

function header() {
  const here = location.pathname.slice(BASE.length) || "/";
  if (!me) return clear(top, h("span", { class: "brand" }, "kb-service"));
  const items = NAV.filter(([, , role]) => !role || can(role)).map(([label, path]) => {
    const current = here === path || here.startsWith(path + "/") || (path === "/kb" && here === "/");
    return h("li", {}, h("a", { href: BASE + path, "aria-current": current ? "page" : false }, label));
  });
  const signOut = h("button", { type: "button", class: "secondary" }, "Sign out");
  signOut.addEventListener("click", () => {
    session.signOut();
    me = null;
    navigate("/");
  });
  clear(
    top,
    h("a", { class: "brand", href: BASE }, "kb-service"),
    h("nav", { "aria-label": "Main" }, h("ul", {}, items)),
    h(
      "div",
      { class: "who", "data-testid": "who" },
      h("span", {}, me.organization_name),
      h("span", { class: `badge badge-role` }, me.role),
      signOut,
    ),
  );
}

async function whoAmI() {
  if (me || !session.key()) return me;
  try {
    me = await get("/workspaces/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) session.signOut();
    throw error;
  }
  return me;
}

async function render() {
  for (const stop of leaving) stop();
  leaving = [];
  const path = location.pathname.slice(BASE.length) || "/";
  const ctx = { can, navigate, hash: location.hash, onLeave: (fn) => leaving.push(fn) };
  try {
    await whoAmI();
  } catch (error) {
    header();
    clear(main, errorBox(error));
    if (!session.key()) signInPage(main, [], { ...ctx, onSignedIn });
    return;
  }
  header();
  if (!me) {
    document.title = "Sign in · kb-service";
    signInPage(main, [], { ...ctx, onSignedIn });
    return;
  }
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  if (!route) {
    clear(main, h("h1", { tabindex: "-1" }, "Page not found"), h("p", {}, link(BASE, "Go to the knowledge bases")));
    return;
  }
  const [pattern, page, role] = route;
  if (role && !can(role)) {
    clear(
      main,
      h("h1", { tabindex: "-1" }, "Not available"),
      h("p", { class: "error", role: "alert" }, `This page needs the ${role} role; your key has the ${me.role} role.`),
    );
    return;
  }
  const params = path.match(pattern).slice(1).map(decodeURIComponent);
  clear(main);
  try {
    await page(main, params, ctx);
  } catch (error) {
    main.append(errorBox(error));
  }
  if (!location.hash.startsWith("#span=")) {
    const heading = main.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
      document.title = `${heading.textContent} · kb-service`;
    }
  }
}

async function onSignedIn(key) {
  session.signIn(key);
  me = null;
  await whoAmI(); // throws the API's message for a bad key
  render();
}

document.addEventListener("click", (event) => {
  const a = event.target.closest("a[href]");
  if (!a || a.getAttribute("href").startsWith("#") || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE) || a.target) return;
  if (url.pathname.startsWith(BASE + "/static/")) return;
  event.preventDefault();
  history.pushState(null, "", url.pathname + url.search + url.hash);
  render();
});
window.addEventListener("popstate", render);
// a new cited span on the same page; in-page anchors (#main) are left to the browser
window.addEventListener("hashchange", () => location.hash.startsWith("#span=") && render());
render();
