// The URL is the view (docs/page.md, "A view you can share"): every choice on the page lives in
// the query string, so a link shows a colleague the same view, and a reload or back/forward
// restores it. app.js owns the compare controls, series.js the weekly ones; both read and
// write through here. Only the keys below are read; anything else in the URL is left alone.
export const KEYS = ["lang", "measure", "level", "sector", "areas", "sort", "wmeasure", "warea", "release"];

/** The view in the current URL: {key: value} for the keys present (areas as a list). */
export function readView() {
  const params = new URLSearchParams(window.location.search);
  const view = {};
  for (const key of KEYS) {
    const value = params.get(key);
    if (value !== null && value !== "") view[key] = value;
  }
  view.areas = (view.areas || "").split(",").map((a) => a.trim()).filter((a) => a.includes(":"));
  return view;
}

/** Readable in the address bar: `:` and `,` (level:code lists) are left unescaped. */
function encode(value) {
  return encodeURIComponent(value).replace(/%3A/gi, ":").replace(/%2C/gi, ",");
}

/** Merge `patch` into the URL (null or "" removes a key). `push`: a new history entry (a
 * choice the user made), otherwise the current entry is replaced (the page's own defaults). */
export function writeView(patch, push = false) {
  const params = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(patch)) {
    const text = Array.isArray(value) ? value.join(",") : value;
    if (text === null || text === undefined || text === "") params.delete(key);
    else params.set(key, text);
  }
  const ordered = KEYS.filter((k) => params.has(k)).map((k) => `${k}=${encode(params.get(k))}`);
  const others = [...params.keys()].filter((k) => !KEYS.includes(k))
    .map((k) => `${encodeURIComponent(k)}=${encode(params.get(k))}`);
  const search = [...ordered, ...others].join("&");
  const url = window.location.pathname + (search ? `?${search}` : "");
  if (url === window.location.pathname + window.location.search) return;
  if (push) window.history.pushState(null, "", url);
  else window.history.replaceState(null, "", url);
}
