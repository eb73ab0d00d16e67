// The weekly early-signal section: one area's released weekly series as a line with its 95%
// band (Vega-Lite spec from GET /v1/weekly/{year}/chart, rendered with the vendored
// vega-embed and its interpreter), its text alternative, and the same numbers as a table
// (GET /v1/weekly/{year}/series). Follows the page's level and language.
import { TEXTS, fill } from "./i18n.js";
import { clearChart, showChart } from "./embed.js";
import { readView, writeView } from "./view.js";

const YEAR = "2025-2026";
const MEASURES = ["attendance_rate_4wk", "attendance_rate_week", "chronic_share_4wk", "new_long_term_ytd"];
const AREA_LEVELS = { municipality: ["municipality"], swv: ["swv_po", "swv_vo"], rmc: ["rmc"],
  province: ["province"] };
const $ = (id) => document.getElementById(id);
const lang = () => (document.documentElement.lang === "en" ? "en" : "nl");
const t = (key) => TEXTS[lang()][key];
let draws = 0;

async function areas(level) {
  const out = [];
  for (const l of AREA_LEVELS[level] || []) {
    const r = await fetch(`/v1/areas?level=${l}&pageSize=1000`);
    if (r.ok) out.push(...(await r.json()).data);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function labelMeasures() {
  for (const o of $("series-measure").options) o.textContent = t("seriesMeasures")[o.value] ?? o.value;
}

/** The weekly area's options follow the page's level; `want` (from the URL) or the current
 * choice stays selected where it is among them, else the Netherlands. */
async function fillAreas(want = null) {
  const level = $("level").value || readView().level || "municipality";
  const select = $("series-area");
  const keep = want || select.value;
  const list = await areas(level);
  select.replaceChildren();
  const national = document.createElement("option");
  national.value = "country:NL"; national.textContent = t("levels").country;
  select.append(national);
  for (const a of list) {
    const o = document.createElement("option");
    o.value = `${level}:${a.code}`; o.textContent = `${a.name} (${a.code})`;
    select.append(o);
  }
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

function format(value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const locale = lang() === "nl" ? "nl-NL" : "en-GB";
  if (unit === "pupils") return value.toLocaleString(locale, { maximumFractionDigits: 0 });
  return value.toLocaleString(locale, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

// The same words as the chart's axis and tooltip (service/weekly/chart.py, MONTHS): school
// weeks start on different dates per holiday region, so each week shows the area's days.
const MONTHS = {
  nl: ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
  en: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
};

/** "2025-09-01" → {day: 1, month: 8} (no Date: no time zone can move the day). */
function parts(iso) {
  const [, month, day] = iso.split("-").map(Number);
  return { day, month: month - 1 };
}

/** A week's days, "1–5 sep", "29 sep – 3 okt"; "" without dates. */
export function weekDates(first, last) {
  if (!first || !last) return "";
  const months = MONTHS[lang()];
  const a = parts(first), b = parts(last);
  if (first === last) return `${a.day} ${months[a.month]}`;
  if (a.month === b.month) return `${a.day}\u2013${b.day} ${months[b.month]}`;
  return `${a.day} ${months[a.month]} \u2013 ${b.day} ${months[b.month]}`;
}

function fillTable(points, measureLabel, areaLabel) {
  $("series-caption").textContent = fill(t("seriesCaption"), { measure: measureLabel, area: areaLabel });
  const body = $("series-table").tBodies[0];
  body.replaceChildren();
  for (const p of points) {
    const tr = document.createElement("tr");
    const week = document.createElement("th");
    week.scope = "row";
    const dates = weekDates(p.first_day, p.last_day);
    week.textContent = dates ? `${p.week} (${dates})` : String(p.week);
    tr.append(week);
    if (p.estimate === null || p.estimate === undefined) {
      const td = document.createElement("td");           // the reason, not an empty number
      td.colSpan = 3; td.textContent = t("seriesTooFew");
      tr.append(td);
    } else {
      for (const value of [p.estimate, p.lower, p.upper]) {
        const td = document.createElement("td");
        td.className = "num"; td.textContent = format(value, p.unit);
        tr.append(td);
      }
    }
    body.append(tr);
  }
}

/** The early-warning signals of the latest published week for the area on screen
 * (GET /v1/weekly/{year}/warnings, every area), beside the chart: a flag prominently, else
 * why there is none; before enough weeks are published, that there is none yet. */
async function showSignals(level, area, token) {
  const box = $("series-warnings");
  const response = await fetch(`/v1/weekly/${YEAR}/warnings?flaggedOnly=false`);
  if (token !== draws) return;
  const rows = response.ok ? await response.json() : [];
  if (token !== draws) return;
  const mine = rows.filter((r) => r.level === level && r.area_code === area);
  const locale = lang() === "nl" ? "nl-NL" : "en-GB";
  const num = (x) => (x == null ? "\u2013" : x.toLocaleString(locale, { maximumFractionDigits: 1, minimumFractionDigits: 1 }));
  const lines = mine.map((r) => {
    const values = { week: r.week, z: num(r.z), threshold: num(r.threshold) };
    if (r.flagged) return fill(t(r.signal === "new_long_term" ? "signalLongTermFlagged" : "signalFlagged"), values);
    if (r.z != null) return fill(t("signalQuiet"), values);
    return fill(t(r.reason === "no estimate" ? "signalNoEstimate" : "signalUntested"), values);
  });
  if (!rows.length) lines.push(t("signalNotYet"));
  box.replaceChildren(...lines.map((line) => {
    const p = document.createElement("p");
    p.textContent = line;
    if (line.startsWith("\u26a0")) p.className = "flagged";
    return p;
  }));
  box.hidden = lines.length === 0;
}

async function draw() {
  const token = ++draws;
  const section = $("series-section");
  section.setAttribute("aria-busy", "true");
  const [level, area] = $("series-area").value.split(":");
  const measure = $("series-measure").value;
  const params = new URLSearchParams({ measure, level, area, lang: lang() });
  const rows = new URLSearchParams({ measure, level, area });
  $("series-csv").href = `/v1/weekly/${YEAR}/series?${rows}&format=csv`;
  const [chart, series] = await Promise.all([
    fetch(`/v1/weekly/${YEAR}/chart?${params}`), fetch(`/v1/weekly/${YEAR}/series?${rows}`)]);
  if (token !== draws) return;
  if (!chart.ok || !series.ok) {
    clearChart($("series"), $("series-summary"));
    $("series-warnings").hidden = true;
    $("series").textContent = t("seriesNone");
    fillTable([], "", "");
  } else {
    const [spec, data] = await Promise.all([chart.json(), series.json()]);
    if (token !== draws) return;
    await Promise.all([showChart($("series"), spec, $("series-summary")), showSignals(level, area, token)]);
    if (token !== draws) return;
    const select = $("series-area");
    fillTable(data.data || [], t("seriesMeasures")[measure] ?? measure,
      select.options[select.selectedIndex]?.textContent ?? area);
  }
  section.setAttribute("aria-busy", "false");
}

function saveView(push) {
  writeView({ wmeasure: $("series-measure").value, warea: $("series-area").value }, push);
}

/** Show the weekly measure and area a URL names (on load and on back/forward). */
async function applyView(view) {
  const select = $("series-measure");
  if (view.wmeasure && MEASURES.includes(view.wmeasure)) select.value = view.wmeasure;
  else if (!select.value) select.value = MEASURES[0];
  labelMeasures();
  await fillAreas(view.warea || null);
  await draw();
}

async function start() {
  // Only when weeks are published: asking for a chart otherwise would be a 404.
  const weeks = await fetch("/v1/releases?kind=week&pageSize=1");
  if (!weeks.ok || (await weeks.json()).count === 0) {
    $("series").textContent = t("seriesNone");
    $("series-measure").disabled = true; $("series-area").disabled = true;
    $("series-details").hidden = true;
    $("series-csv").hidden = true;
    $("series-section").setAttribute("aria-busy", "false");
    return;
  }
  for (const m of MEASURES) {
    const o = document.createElement("option");
    o.value = m;
    $("series-measure").append(o);
  }
  labelMeasures();
  await new Promise((resolve) => setTimeout(resolve, 0));
  await applyView(readView());
  saveView(false);
  $("series-measure").addEventListener("change", () => { saveView(true); draw(); });
  $("series-area").addEventListener("change", () => { saveView(true); draw(); });
  const busy = () => $("series-section").setAttribute("aria-busy", "true");
  // a new level offers other areas: the weekly area becomes the Netherlands unless it exists
  $("level").addEventListener("change", async () => { busy(); await fillAreas(); saveView(false); await draw(); });
  // app.js switches the language on the same click; the timeout runs after both handlers.
  $("lang").addEventListener("click", () => {
    busy();
    setTimeout(async () => { labelMeasures(); await fillAreas(); await draw(); }, 0);
  });
  // back/forward or a view applied by app.js: the URL names the weekly choice too
  document.addEventListener("aanwezig:view", (event) => { busy(); applyView(event.detail); });
}

start();
