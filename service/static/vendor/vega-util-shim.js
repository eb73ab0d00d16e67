// vega-interpreter imports three helpers from 'vega-util'; vega.min.js (loaded first as a
// classic script) already carries vega-util and exposes it on window.vega. Vendored, no CDN.
const v = window.vega;
export const ascending = v.ascending;
export const isString = v.isString;
export const DisallowedObjectProperties = v.DisallowedObjectProperties || new Set(["__proto__", "constructor", "prototype"]);
