// Rendering a Vega-Lite spec from this server as an accessible image (WCAG 2.1, 1.1.1): the
// chart's element gets role="img", its title as name and the summary paragraph under it as
// description; the summary is the spec's `description`, written on the server
// (service/compare/summary.py, service/weekly/chart.py). The specs hide their marks from
// assistive technology; the page's tables hold the same numbers.
// vega-embed runs with its interpreter (no eval) and without injected styles, so the
// Content-Security-Policy stays 'self' only.
import { expressionInterpreter } from "./vendor/vega-interpreter.js";

export const EMBED = {
  actions: false, defaultStyle: false, renderer: "svg", ast: true, expr: expressionInterpreter,
  tooltip: { disableDefaultStyle: true },
};

function titleOf(spec) {
  const title = spec.title;
  if (!title) return "";
  return typeof title === "string" ? title : [title.text].flat().join(" ");
}

// WCAG 1.4.13: a tooltip that appeared on hover can be dismissed with Escape without moving
// the pointer (vega-tooltip shows it again on the next pointer move over a mark).
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") document.getElementById("vg-tooltip-element")?.classList.remove("visible");
});

/** Render `spec` into `target`; `summary` (a <p>) receives the text alternative. */
export async function showChart(target, spec, summary) {
  target.replaceChildren();
  const result = await vegaEmbed(target, spec, EMBED);
  target.setAttribute("role", "img");
  target.setAttribute("aria-label", titleOf(spec) || spec.description || "");
  if (summary) {
    summary.textContent = spec.description || "";
    if (summary.id) target.setAttribute("aria-describedby", summary.id);
  }
  return result;
}

/** Empty a chart's place: no image left behind without a name, no stale summary. */
export function clearChart(target, summary) {
  target.replaceChildren();
  for (const name of ["role", "aria-label", "aria-describedby"]) target.removeAttribute(name);
  if (summary) summary.textContent = "";
}
