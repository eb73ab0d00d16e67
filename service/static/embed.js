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

/** Dutch number format in the charts (docs/page.md): decimal comma, thousands point. */
const LOCALES = {
  nl: { decimal: ",", thousands: ".", grouping: [3], currency: ["€\u00a0", ""], percent: "%" },
  en: { decimal: ".", thousands: ",", grouping: [3], currency: ["£", ""], percent: "%" },
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

/** The chart's place in the page: its scroll region when it has one (the ranking). */
const placeOf = (target) => (target.parentElement?.classList.contains("chart-scroll") ? target.parentElement : target);

const EXPORT_TEXTS = {
  nl: { png: "Grafiek als PNG", svg: "Grafiek als SVG" },
  en: { png: "Chart as PNG", svg: "Chart as SVG" },
};

/** Buttons under a chart that save it as PNG or SVG (Vega's own export, no outside request):
 * a figure from the page can go into a report as it is. */
function exportButtons(target, view, spec) {
  const lang = spec.usermeta?.lang === "en" ? "en" : "nl";
  const texts = EXPORT_TEXTS[lang];
  const anchor = placeOf(target);
  let bar = anchor.nextElementSibling;
  if (!bar || !bar.classList.contains("exports")) {
    bar = document.createElement("p");
    bar.className = "exports";
    anchor.after(bar);
  }
  bar.replaceChildren();
  for (const kind of ["png", "svg"]) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary small";
    button.dataset.export = kind;
    button.textContent = texts[kind];
    // the accessible name starts with the visible text (WCAG 2.5.3), then says which chart
    button.setAttribute("aria-label", `${texts[kind]}: ${titleOf(spec)}`);
    button.addEventListener("click", async () => {
      const url = await view.toImageURL(kind, kind === "png" ? 2 : 1);
      const link = document.createElement("a");
      link.href = url;
      link.download = `${target.id}.${kind}`;
      document.body.append(link);
      link.click();
      link.remove();
    });
    bar.append(button);
  }
}

/** Render `spec` into `target`; `summary` (a <p>) receives the text alternative. */
export async function showChart(target, spec, summary) {
  target.replaceChildren();
  const lang = spec.usermeta?.lang || (document.documentElement.lang === "en" ? "en" : "nl");
  const result = await vegaEmbed(target, spec, { ...EMBED, formatLocale: LOCALES[lang] ?? LOCALES.nl });
  target.setAttribute("role", "img");
  target.setAttribute("aria-label", titleOf(spec) || spec.description || "");
  if (summary) {
    summary.textContent = spec.description || "";
    if (summary.id) target.setAttribute("aria-describedby", summary.id);
  }
  exportButtons(target, result.view, spec);
  return result;
}

/** Empty a chart's place: no image left behind without a name, no stale summary. */
export function clearChart(target, summary) {
  target.replaceChildren();
  const next = placeOf(target).nextElementSibling;
  if (next?.classList.contains("exports")) next.remove();
  for (const name of ["role", "aria-label", "aria-describedby"]) target.removeAttribute(name);
  if (summary) summary.textContent = "";
}
