// The weekly early-signal section: one area's released weekly series as a line with its 95%
// band (Vega-Lite spec from GET /v1/weekly/{year}/chart, rendered with the vendored
// vega-embed and its interpreter). Follows the page's level and language.
import { expressionInterpreter } from "./vendor/vega-interpreter.js";
import { TEXTS } from "./i18n.js";

const YEAR = "2025-2026";
const MEASURES = ["attendance_rate_4wk", "attendance_rate_week", "chronic_share_4wk", "new_long_term_ytd"];
const AREA_LEVELS = { municipality: ["municipality"], swv: ["swv_po", "swv_vo"], rmc: ["rmc"],
  province: ["province"] };
const EMBED = { actions: false, defaultStyle: false, renderer: "svg", ast: true,
  expr: expressionInterpreter, tooltip: { disableDefaultStyle: true } };
const $ = (id) => document.getElementById(id);
const lang = () => (document.documentElement.lang === "en" ? "en" : "nl");

async function areas(level) {
  const out = [];
  for (const l of AREA_LEVELS[level] || []) {
    const r = await fetch(`/v1/areas?level=${l}&pageSize=1000`);
    if (r.ok) out.push(...(await r.json()).data);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

async function fillAreas() {
  const level = $("level").value || "municipality";
  const select = $("series-area");
  const keep = select.value;
  select.replaceChildren();
  const national = document.createElement("option");
  national.value = "country:NL"; national.textContent = TEXTS[lang()].levels.country;
  select.append(national);
  for (const a of await areas(level)) {
    const o = document.createElement("option");
    o.value = `${level}:${a.code}`; o.textContent = `${a.name} (${a.code})`;
    select.append(o);
  }
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

async function draw() {
  const [level, area] = $("series-area").value.split(":");
  const params = new URLSearchParams({ measure: $("series-measure").value, level, area, lang: lang() });
  const r = await fetch(`/v1/weekly/${YEAR}/chart?${params}`);
  if (!r.ok) { $("series").textContent = TEXTS[lang()].seriesNone; return; }
  await vegaEmbed("#series", await r.json(), EMBED);
}

async function start() {
  // Only when weeks are published: asking for a chart otherwise would be a 404.
  const weeks = await fetch("/v1/releases?kind=week&pageSize=1");
  if (!weeks.ok || (await weeks.json()).count === 0) {
    $("series").textContent = TEXTS[lang()].seriesNone;
    $("series-measure").disabled = true; $("series-area").disabled = true;
    return;
  }
  for (const m of MEASURES) {
    const o = document.createElement("option");
    o.value = m; o.textContent = m.replaceAll("_", " ");
    $("series-measure").append(o);
  }
  await new Promise((resolve) => setTimeout(resolve, 0));
  await fillAreas();
  await draw();
  $("series-measure").addEventListener("change", draw);
  $("series-area").addEventListener("change", draw);
  $("level").addEventListener("change", async () => { await fillAreas(); await draw(); });
  $("lang").addEventListener("click", () => setTimeout(draw, 0));
}

start();
