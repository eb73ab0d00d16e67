// The compare page: fetches options, comparisons and Vega-Lite specs from this server and
// renders them with the vendored vega-embed. Expressions are evaluated by vega-interpreter,
// so the Content-Security-Policy needs no 'unsafe-eval'. No request leaves this origin.
// Accessibility (WCAG 2.1 AA, docs/page.md): each chart is an image named by its title and
// described by the summary paragraph under it (the spec's description); the table holds every
// number; results of an action are announced or receive focus; the newest choice wins.
import { TEXTS, fill } from "./i18n.js";
import { clearChart, showChart } from "./embed.js";
import { readView, writeView } from "./view.js";

const LEVEL_ORDER = ["municipality", "residence", "swv", "rmc", "province", "school"];
const SORTS = ["rank", "estimate", "name", "verdict"];
const state = { lang: "nl", options: null, comparison: null, chosen: new Set(), names: new Map(),
  renders: 0, compared: false };
const $ = (id) => document.getElementById(id);

function t(key) { return TEXTS[state.lang][key]; }

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) {
    const detail = (body.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
    const error = new Error(detail || body.detail || response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  return q.toString();
}

/** Round outward to `decimals` decimals of a percentage (or whole pupils): a printed interval
 * never narrows the published one (the server prints its texts the same way). */
function outward(value, unit, decimals, up) {
  const step = unit === "pupils" ? 1 : 10 ** -(decimals + 2);
  const k = Number((value / step).toFixed(6));
  return (up ? Math.ceil(k) : Math.floor(k)) * step;
}

/** A difference: signed pupils, or signed percentage points for rates and shares, with the
 * decimals the server chose so that a decided difference never prints an end at 0. */
function points(value, unit, decimals = 1, up = null) {
  if (value === null || value === undefined) return "–";
  const locale = state.lang === "nl" ? "nl-NL" : "en-GB";
  if (up !== null) value = outward(value, unit, decimals, up);
  // the minus sign U+2212, as in the sentences (service/compare/comparison.py)
  if (unit === "pupils") {
    return value.toLocaleString(locale, { maximumFractionDigits: 0, signDisplay: "exceptZero" })
      .replace("-", "\u2212") + " " + t("pupilsWord");
  }
  return (value * 100).toLocaleString(locale, { minimumFractionDigits: decimals, maximumFractionDigits: decimals,
    signDisplay: "exceptZero" }).replace("-", "\u2212") + " " + t("percentPoints");
}

/** A value as people read it: never a negative count (the files keep the estimate). */
function number(value, unit, decimals = 1) {
  if (value === null || value === undefined) return "–";
  const locale = state.lang === "nl" ? "nl-NL" : "en-GB";
  if (unit === "pupils") return Math.max(value, 0).toLocaleString(locale, { maximumFractionDigits: 0 });
  return value.toLocaleString(locale, { style: "percent", minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** The verdict cell: the call, and beside a call the national value at the row's precision. */
function verdictText(area, v) {
  const nat = area.vs_national?.national_text?.[state.lang];
  return (v.key === "higher" || v.key === "lower") && nat ? `${t(v.key)} (${t("national")} ${nat})` : t(v.key);
}

function applyTexts(want = {}) {
  document.documentElement.lang = state.lang;
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  const other = state.lang === "nl" ? "en" : "nl";
  $("lang").textContent = t("language");
  $("lang").lang = other;
  $("lang").setAttribute("aria-label", t("languageLabel"));
  $("statement").href = t("statementHref");
  if (state.options) {
    const o = state.options;
    let text = fill(t("release"), { id: o.release_id, dataset: o.dataset });
    if (state.linkedRelease && state.linkedRelease !== o.release_id) {
      text += " " + fill(t("otherRelease"), { linked: state.linkedRelease, id: o.release_id });
    }
    $("release").textContent = text;
    fillSelects(want);
    showContext();
  }
}

/** What the chosen measure means, when the release was published, where the method is. */
function showContext() {
  const o = state.options;
  const m = o.measures.find((item) => item.name === $("measure").value);
  if (m) {
    $("definition").textContent = `${t("definitionLabel")} ${m.label[state.lang]}: ` +
      `${t("definitions")[m.name] ?? m.definition}.`;
  }
  const date = o.created_at ? new Date(o.created_at) : null;
  $("published").textContent = date ? fill(t("published"), {
    date: date.toLocaleDateString(state.lang === "nl" ? "nl-NL" : "en-GB", { day: "numeric", month: "long", year: "numeric" }),
    dataset: o.dataset }) : "";
  $("method").textContent = t("method");
  const quick = $("quick");
  quick.replaceChildren(cell("span", `${t("quickLinks")}: `));
  const links = [["thuiszittersSwv", { measure: "long_term_count", level: "swv" }],
    ["thuiszittersGm", { measure: "long_term_count", level: "municipality" }],
    ["school", { level: "school" }]];
  links.forEach(([key, view], i) => {
    if (!(view.level in o.levels) || (view.measure && !o.measures.some((x) => x.name === view.measure))) return;
    const a = document.createElement("a");
    a.href = `/?${query({ lang: state.lang, ...view })}`;
    a.textContent = t("quick")[key];
    if (quick.children.length > 1) quick.append(" · ");
    quick.append(a);
  });
}

function option(select, value, text, selected) {
  const el = document.createElement("option");
  el.value = value; el.textContent = text; el.selected = value === selected;
  select.append(el);
}

/** Fill the three selects; `want` (from the URL) wins over the current choice where the
 * release has it, otherwise the page's defaults. */
function fillSelects(want = {}) {
  const { measures, levels } = state.options;
  const m = $("measure"), l = $("level"), s = $("sector");
  const has = (list, value) => value && list.includes(value);
  const levelNames = LEVEL_ORDER.filter((x) => x in levels);
  const current = { level: [want.level, l.value, "municipality"].find((v) => has(levelNames, v)) || levelNames[0] };
  // a level with only some measures (residence) lists them: only those are offered
  const own = levels[current.level]?.measures;
  const offered = own ? measures.filter((item) => own.includes(item.name)) : measures;
  const measureNames = offered.map((item) => item.name);
  current.measure = [want.measure, m.value, "absence_rate"].find((v) => has(measureNames, v)) || measureNames[0];
  const sectors = levels[current.level]?.sectors || ["all"];
  current.sector = [want.sector, s.value, "all"].find((v) => has(sectors, v)) || sectors[0];
  m.replaceChildren(); l.replaceChildren(); s.replaceChildren();
  for (const item of offered) option(m, item.name, item.label[state.lang], current.measure);
  const hint = $("level-hint");
  hint.hidden = current.level !== "residence";
  hint.textContent = hint.hidden ? "" : fill(t("residenceHint"), { n: offered.length, all: measures.length });
  for (const level of levelNames) option(l, level, t("levels")[level], current.level);
  for (const sector of sectors) option(s, sector, sector === "all" ? t("allSectors") : sector, current.sector);
  const sort = $("sort");
  const by = [want.sort, sort.value, "rank"].find((v) => SORTS.includes(v));
  sort.replaceChildren();
  for (const key of SORTS) option(sort, key, t("sorts")[key], by);
  s.disabled = sectors.length < 2;
  // honest about what the release holds: which sectors exist, and only for the whole country
  const national = (levels.country?.sectors || []).filter((x) => x !== "all");
  $("sector-hint").textContent = !s.disabled ? "" : national.length
    ? fill(t("sectorsCountryOnly"), { sectors: national.join(", ") }) : t("noSectors");
}

function currentChoice() {
  return { measure: $("measure").value, level: $("level").value, sector: $("sector").value || "all" };
}

async function embed(id, url, isCurrent = () => true) {
  const spec = await getJSON(url);
  if (!isCurrent()) return null;
  return showChart($(id), spec, $(`${id}-summary`));
}

async function render() {
  // A keyboard user moving through a select fires one change per step: only the newest
  // choice may draw, so an older answer arriving late never replaces a newer one.
  const token = ++state.renders;
  const isCurrent = () => token === state.renders;
  const choice = currentChoice();
  const level = state.options.levels[choice.level];
  $("status").textContent = t("loading");
  $("charts").setAttribute("aria-busy", "true");
  if (state.compared) $("compare-result").dataset.ready = "false";   // redrawn after the charts
  const common = { ...choice, lang: state.lang };
  try {
    const jobs = [
      getJSON(`/v1/compare?${query({ measure: choice.measure, level: choice.level, sector: choice.sector })}`),
      embed("dotplot", `/v1/charts/dot-plot?${query(common)}`, isCurrent),
    ];
    if (level.map) {
      jobs.push(embed("map", `/v1/charts/map?${query(common)}`, isCurrent));
      $("map-note").textContent = t("mapNote");
    } else {
      clearChart($("map"), $("map-summary"));
      $("map-note").textContent = t("noMap");
    }
    const [comparison] = await Promise.all(jobs);
    if (!isCurrent()) return;
    state.comparison = comparison;
    keepChosen(comparison);
    renderTable();
    updateChosen();
    $("status").textContent = "";
    $("charts").setAttribute("aria-busy", "false");
    if (state.compared && state.chosen.size >= 2) await compareChosen(false);
    else if (state.compared) { state.compared = false; $("compare-result").replaceChildren(); saveView(false); }
    else $("compare-result").replaceChildren();
  } catch (error) {
    if (!isCurrent()) return;
    $("status").textContent = fill(t("error"), { detail: error.message });
    $("charts").setAttribute("aria-busy", "false");
  }
}

function verdict(area) {
  if (area.estimate == null) return { key: "noEstimate", cls: "not-compared" };
  const vs = area.vs_national;
  if (!vs || vs.distinguishable === undefined || vs.distinguishable === null) {
    return { key: "notCompared", cls: "not-compared" };
  }
  if (!vs.distinguishable) return { key: "same", cls: "same" };
  return vs.difference > 0 ? { key: "higher", cls: "higher" } : { key: "lower", cls: "lower" };
}

/** The rank cell: "3 (1–9)" (1 = highest, with the published 95% rank range), or "–" and
 * why the area is not ranked (no estimate, or a rank range over half the areas). */
function rankCell(area) {
  if (area.ranked === false) {
    const wrap = document.createElement("span");
    const why = cell("span", area.rank_note?.[state.lang] ?? "", "why");
    wrap.append("\u2013", why);
    return wrap;
  }
  if (area.rank == null) return "\u2013";
  if (area.rank_lower == null || area.rank_upper == null) return String(area.rank);
  if (area.rank_lower === area.rank_upper) return String(area.rank);
  return `${area.rank} (${area.rank_lower}\u2013${area.rank_upper})`;
}

const VERDICT_ORDER = { higher: 0, lower: 1, same: 2, notCompared: 3, noEstimate: 4 };
const collator = () => new Intl.Collator(state.lang === "nl" ? "nl" : "en");

/** The table's order: by rank (ranked areas first, then the unranked by estimate), by
 * estimate, by name, or by verdict (higher, lower, within the noise, then by estimate). */
function sorted(areas, by) {
  const est = (a) => (a.estimate == null ? -Infinity : a.estimate);
  const byEstimate = (a, b) => est(b) - est(a) || a.code.localeCompare(b.code);
  const rows = [...areas];
  if (by === "name") return rows.sort((a, b) => collator().compare(a.name, b.name));
  if (by === "estimate") return rows.sort(byEstimate);
  if (by === "verdict") {
    return rows.sort((a, b) => VERDICT_ORDER[verdict(a).key] - VERDICT_ORDER[verdict(b).key] || byEstimate(a, b));
  }
  return rows.sort((a, b) => (a.ranked === false) - (b.ranked === false) || byEstimate(a, b));
}

const UNSTABLE = "ratio_unstable";
const NO_ESTIMATE = "no_estimate_denominator_may_be_zero";
const flagged = (area, flag) => (area.flags || []).includes(flag);

/** A value with its warning: "⚠ onstabiel" under an estimate the API flags `ratio_unstable`. */
function withFlag(text, area) {
  if (!flagged(area, UNSTABLE)) return text;
  const wrap = document.createElement("span");
  const mark = cell("span", `\u26a0 ${t("unstableMark")}`, "flag");
  mark.title = t("unstableTitle");
  wrap.append(text, mark);
  return wrap;
}

/** The API's warnings on the areas of the view, next to the table and under the ranking:
 * unstable estimates (named) and areas without an estimate (docs/page.md, "Warnings"). */
function showWarnings(c) {
  const words = (n) => t("areaWord")[n === 1 ? 0 : 1];
  const unstable = c.areas.filter((a) => flagged(a, UNSTABLE));
  const none = c.areas.filter((a) => a.estimate == null || flagged(a, NO_ESTIMATE));
  const parts = [];
  if (unstable.length) {
    const names = unstable.slice(0, 10).map((a) => a.name).join(", ") +
      (unstable.length > 10 ? ` ${fill(t("andMore"), { n: unstable.length - 10 })}` : "");
    parts.push(fill(t("warnUnstable"), { n: unstable.length, areas: words(unstable.length), names: `(${names})` }));
  }
  if (none.length) parts.push(fill(t("warnNoEstimate"), { n: none.length, areas: words(none.length) }));
  for (const id of ["table-warnings", "dotplot-warnings"]) {
    $(id).textContent = parts.join(" ");
    $(id).hidden = parts.length === 0;
  }
}

/** The direct estimate's interval, and for a school's share the model estimate beside it
 * (docs/privacy.md, "Small-area estimates"), labelled as such; the verdict stays the direct one's. */
function intervalCell(area, unit) {
  const cell = document.createElement("span");
  cell.append(area.text?.[state.lang] ?? "\u2013");
  if (area.model_estimate == null) return cell;
  const model = document.createElement("small");
  model.className = "model-estimate";
  model.title = t("modelTitle");
  model.textContent = fill(t("modelLine"), { value: number(area.model_estimate, unit),
    lower: number(area.model_lower, unit), upper: number(area.model_upper, unit) });
  cell.append(document.createElement("br"), model);
  return cell;
}

function renderTable() {
  const c = state.comparison;
  showWarnings(c);
  const unit = c.measure.unit;
  const body = document.querySelector("#areas tbody");
  const rows = sorted(c.areas, $("sort").value);
  const r = c.ranking;
  $("rank-note").textContent = r ? fill(t("rankExplain"), { n: r.with_estimate, ranked: r.ranked }) : "";
  const filter = $("filter").value.trim().toLowerCase();
  body.replaceChildren();
  for (const area of rows) {
    if (filter && !`${area.name} ${area.code}`.toLowerCase().includes(filter)) continue;
    const tr = document.createElement("tr");
    const key = `${area.level}:${area.code}`;
    const pick = document.createElement("input");
    pick.type = "checkbox"; pick.value = key; pick.checked = state.chosen.has(key);
    pick.setAttribute("aria-label", area.name);
    pick.addEventListener("change", () => {
      if (pick.checked) state.chosen.add(key); else state.chosen.delete(key);
      state.names.set(key, area.name);
      updateChosen();
    });
    const v = verdict(area);
    const link = document.createElement("a");
    link.className = "download";
    link.href = `/v1/releases/${encodeURIComponent(c.release_id)}/areas/${area.level}/${encodeURIComponent(area.code)}`;
    link.textContent = t("download");
    link.title = fill(t("downloadTitle"), { name: area.name });
    link.setAttribute("aria-label", fill(t("downloadLabel"), { name: area.name }));
    link.setAttribute("download", "");
    const shown = area.shown_text?.[state.lang] ?? number(area.shown ?? area.estimate, unit, area.decimals ?? 1);
    const pupils = area.pupils == null ? "\u2013" : number(area.pupils, "pupils");
    const cells = [pick, rankCell(area), area.code, area.name, pupils, withFlag(shown, area),
      intervalCell(area, unit), verdictText(area, v), area.level === "residence" ? "\u2013" : link];
    cells.forEach((content, i) => {
      const td = document.createElement(i === 3 ? "th" : "td");
      if (i === 3) td.scope = "row";
      if (i === 4 || i === 5) td.className = "num";
      if (i === 7) td.className = `verdict ${v.cls}`;
      td.append(content);
      tr.append(td);
    });
    body.append(tr);
  }
  $("download-all").href = `/v1/releases/${encodeURIComponent(c.release_id)}?format=csv`;
  $("download-view").href = `/v1/compare?${query({ measure: c.measure.name, level: c.level, sector: c.sector, format: "csv" })}`;
}

function updateChosen() {
  const n = state.chosen.size;
  const names = [...state.chosen].map((key) => state.names.get(key) ?? key);
  $("chosen").textContent = fill(t("chosen"), { n }) + (n ? `: ${names.join(", ")}` : "");
  $("compare").disabled = n < 2 || n > 25;
}

/** After a new measure, level or sector: chosen areas stay chosen where they still exist.
 * An area of the level on screen that the release lacks is dropped; areas of other levels
 * stay (the comparison of chosen areas may mix levels, and the API says when one is missing). */
function keepChosen(comparison) {
  const here = new Set();
  for (const area of comparison.areas) {
    const key = `${area.level}:${area.code}`;
    here.add(key);
    state.names.set(key, area.name);
  }
  for (const key of [...state.chosen]) {
    if (key.split(":")[0] === comparison.level && !here.has(key)) state.chosen.delete(key);
  }
}

/** Write the view on screen into the URL; `push`: the user made a choice (back undoes it).
 * The areas written are the ones compared on screen (ticking alone is not yet a view). */
function saveView(push) {
  writeView({ lang: state.lang, measure: $("measure").value, level: $("level").value,
    sector: $("sector").value || "all", sort: $("sort").value,
    areas: state.compared ? [...state.chosen] : [] }, push);
}

/** Put the page in the state a URL describes (on load and on back/forward). */
function applyView(view) {
  state.lang = view.lang === "en" ? "en" : "nl";
  state.chosen = new Set(view.areas.slice(0, 25));
  state.compared = state.chosen.size >= 2;
  applyTexts(view);
  updateChosen();
  document.dispatchEvent(new CustomEvent("aanwezig:view", { detail: view }));
}

async function copyLink() {
  const url = window.location.href;
  try {
    await navigator.clipboard.writeText(url);
    $("copy-status").textContent = t("linkCopied");
  } catch {
    $("copy-status").textContent = fill(t("linkCopyHere"), { url });   // no clipboard: show it
  }
}

function cell(tag, text, cls) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (cls) el.className = cls;
  return el;
}

/** The differences' numbers as a table (the chart's keyboard- and screen-reader-readable twin). */
function differencesTable(c) {
  const unit = c.measure.unit;
  const names = Object.fromEntries(c.areas.map((a) => [`${a.level}:${a.code}`, a.name]));
  const details = document.createElement("details");
  details.append(cell("summary", t("differencesTable")));
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  wrap.tabIndex = 0;                       // scrollable at phone width: reachable by keyboard
  wrap.setAttribute("role", "region");
  wrap.setAttribute("aria-label", t("differencesTable"));
  const table = document.createElement("table");
  table.id = "differences-table";
  const head = document.createElement("tr");
  for (const [key, cls] of [["colPair"], ["colDifference", "num"], ["colLower", "num"],
    ["colUpper", "num"], ["colPairVerdict"]]) {
    const th = cell("th", t(key), cls);
    th.scope = "col";
    head.append(th);
  }
  const thead = document.createElement("thead");
  thead.append(head);
  const body = document.createElement("tbody");
  for (const d of c.differences) {
    const tr = document.createElement("tr");
    const pair = cell("th", `${names[d.a] ?? d.a} − ${names[d.b] ?? d.b}`);
    pair.scope = "row";
    const beyond = d.distinguishable;
    const k = d.decimals ?? 1;
    const [word, cls] = beyond === null || beyond === undefined ? [t("noDifference"), "verdict not-compared"]
      : beyond ? [t("beyondNoise"), "verdict beyond"] : [t("same"), "verdict same"];
    tr.append(pair, cell("td", points(d.difference, unit, k), "num"), cell("td", points(d.lower, unit, k, false), "num"),
      cell("td", points(d.upper, unit, k, true), "num"), cell("td", word, cls));
    body.append(tr);
  }
  table.append(thead, body);
  wrap.append(table);
  details.append(wrap);
  return details;
}

async function compareChosen(focus = true) {
  const choice = currentChoice();
  const areas = [...state.chosen].join(",");
  const out = $("compare-result");
  out.dataset.ready = "false";
  try {
    const params = { measure: choice.measure, areas, sector: choice.sector };
    const c = await getJSON(`/v1/compare?${query(params)}`);
    const unit = c.measure.unit;
    for (const area of c.areas) state.names.set(`${area.level}:${area.code}`, area.name);
    updateChosen();
    const heading = cell("h3", fill(t("compareDone"), { n: c.areas.length }));
    heading.id = "compare-heading";
    heading.tabIndex = -1;
    const cards = document.createElement("div");
    cards.className = "cards";
    for (const area of [...c.areas, c.national]) {
      const card = document.createElement("div");
      card.className = "card";
      const h = document.createElement("h3"); h.textContent = area.name;
      const est = document.createElement("p"); est.className = "big";
      est.textContent = area.shown_text?.[state.lang] ?? number(area.shown ?? area.estimate, unit, area.decimals ?? 1);
      const iv = document.createElement("p"); iv.textContent = area.text?.[state.lang] ?? "";
      card.append(h, est, iv);
      if (flagged(area, UNSTABLE)) {
        const mark = cell("p", `\u26a0 ${t("unstableMark")}: ${t("unstableTitle")}`, "flag");
        card.append(mark);
      }
      cards.append(card);
    }
    const title = document.createElement("h3"); title.textContent = t("differences");
    const list = document.createElement("ul");
    list.className = "differences";
    for (const d of c.differences) {
      const li = document.createElement("li");
      li.className = d.distinguishable ? "distinguishable" : "within-noise";
      li.textContent = d.text?.[state.lang] ?? "";
      list.append(li);
    }
    const chart = document.createElement("div");
    chart.id = "differences-chart"; chart.className = "chart";
    const summary = cell("p", "", "summary");
    summary.id = "differences-chart-summary";
    const csv = document.createElement("p");
    const link = document.createElement("a");
    link.className = "button secondary small";
    link.id = "download-differences";
    link.href = `/v1/compare?${query({ ...params, format: "csv", table: "differences" })}`;
    link.textContent = t("downloadDifferences");
    link.setAttribute("download", "");
    csv.append(link);
    out.replaceChildren(heading, cards, title, list, chart, summary, differencesTable(c), csv);
    if (focus) heading.focus();
    await embed("differences-chart", `/v1/charts/differences?${query({ ...params, lang: state.lang })}`);
    out.dataset.ready = "true";
  } catch (error) {
    out.textContent = fill(t("error"), { detail: error.message });
    $("status").textContent = out.textContent;
  }
}

async function start() {
  const view = readView();
  state.lang = view.lang === "en" ? "en" : "nl";
  state.linkedRelease = view.release || null;
  applyTexts();
  try {
    state.options = await getJSON("/v1/compare/options");
  } catch (error) {
    $("status").textContent = error.status === 404 ? t("noRelease") : fill(t("error"), { detail: error.message });
    return;
  }
  applyView(view);
  saveView(false);
  writeView({ release: state.options.release_id });
  $("measure").addEventListener("change", () => { saveView(true); showContext(); render(); });
  $("sector").addEventListener("change", () => { saveView(true); render(); });
  $("level").addEventListener("change", () => {
    fillSelects({ sector: "all" });
    saveView(true);
    showContext();
    render();
  });
  $("controls").addEventListener("submit", (e) => { e.preventDefault(); render(); });
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "nl" ? "en" : "nl";
    applyTexts();
    saveView(true);
    render();
  });
  window.addEventListener("popstate", () => { applyView(readView()); render(); });
  $("filter").addEventListener("input", renderTable);
  $("sort").addEventListener("change", () => { saveView(true); renderTable(); });
  $("copy-link").addEventListener("click", copyLink);
  $("compare").addEventListener("click", () => {
    $("compare-result").dataset.ready = "false";
    state.compared = true;
    saveView(true);
    compareChosen();
  });
  $("clear").addEventListener("click", () => {
    state.chosen.clear();
    state.compared = false;
    $("compare-result").replaceChildren();
    saveView(true);
    renderTable();
    updateChosen();
  });
  await render();
  document.body.dataset.ready = "true";
}

start();
