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

// Phone width (docs/page.md, "Phone"): Vega does not wrap text, so a title or subtitle wider
// than the chart's box ran off both sides of it at 390 px. Each line is wrapped at word
// boundaries to the box's width, measured with the font Vega draws it in.
const measure = document.createElement("canvas").getContext("2d");
const NARROW = 560;

/** `text` (a string or lines) as lines no wider than `max` px in `font`. */
export function wrapText(text, font, max) {
  measure.font = font;
  const out = [];
  for (const line of [text].flat()) {
    let current = "";
    for (const word of String(line).split(" ")) {
      const next = current ? `${current} ${word}` : word;
      if (current && measure.measureText(next).width > max) { out.push(current); current = word; }
      else current = next;
    }
    out.push(current);
  }
  return out;
}

/** The spec with its title and subtitle wrapped to `width` px (a copy; the spec stays). */
function fitTitle(spec, width) {
  if (!spec.title || !(width > 0)) return spec;
  const title = typeof spec.title === "string" ? { text: spec.title } : { ...spec.title };
  const config = spec.config?.title ?? {};
  const size = title.fontSize ?? config.fontSize ?? 13;               // Vega's defaults
  const subSize = title.subtitleFontSize ?? config.subtitleFontSize ?? 12;
  const max = width - 24;
  if (width < NARROW) Object.assign(title, { anchor: "start", frame: "bounds" });   // not centred on the plot
  title.text = wrapText(title.text, `bold ${size}px sans-serif`, max);
  if (title.subtitle) title.subtitle = wrapText(title.subtitle, `${subSize}px sans-serif`, max);
  return { ...spec, title };
}

/** Narrow charts (phone), on the compiled Vega spec: legends side by side at one edge are
 * stacked from the left; the labels of a vertical axis (area names) get at most a third of
 * the width, so the plot keeps the rest; axis titles wrap to the plot's width. */
function fitNarrow(vgSpec, width) {
  if (width >= NARROW) return vgSpec;
  const config = vgSpec.config ?? {};
  const stacked = { anchor: "start", direction: "vertical" };
  const labels = Math.round(width / 3);
  const room = width - labels - 32;          // a legend starts where the plot starts
  config.legend = { ...(config.legend ?? {}), layout: { top: stacked, bottom: stacked },
    titleLimit: room, labelLimit: room - 20 };
  const size = config.axis?.titleFontSize ?? 11;
  const legendSize = config.legend?.titleFontSize ?? 11;
  const walk = (node) => {
    for (const axis of node.axes ?? []) {
      const vertical = axis.orient === "left" || axis.orient === "right";
      if (vertical) axis.labelLimit = Math.min(axis.labelLimit ?? labels, labels);
      else Object.assign(axis, { labelFlush: true, labelBound: true });   // end labels never past the chart
      if (typeof axis.title === "string") {
        axis.title = wrapText(axis.title, `bold ${size}px sans-serif`, vertical ? 200 : width - labels - 40);
      }
    }
    for (const legend of node.legends ?? []) {
      if (typeof legend.title === "string") legend.title = wrapText(legend.title, `bold ${legendSize}px sans-serif`, room);
    }
    for (const mark of node.marks ?? []) walk(mark);
  };
  walk(vgSpec);
  return { ...vgSpec, config };
}

/** Render `spec` into `target`; `summary` (a <p>) receives the text alternative. */
export async function showChart(target, spec, summary) {
  target.replaceChildren();
  const lang = spec.usermeta?.lang || (document.documentElement.lang === "en" ? "en" : "nl");
  const width = target.clientWidth;
  const result = await vegaEmbed(target, fitTitle(spec, width), { ...EMBED, formatLocale: LOCALES[lang] ?? LOCALES.nl,
    patch: (vgSpec) => fitNarrow(vgSpec, width) });
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
