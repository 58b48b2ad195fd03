// The Metrics tab: a chart per scalar metric, list and table metrics as line charts
// (tables: x = first column, plus the raw table), structured kinds drawn as what they are.
import { artifactUrl, el, formatNumber, getJSON, loadPlotly } from "./common.js";
import { CONFIG, PALETTE, TraceChart, baseLayout } from "./charts.js";
import { STRUCTURED } from "./structured.js";

const MAX_ROWS = 10000;

function card(series, wide) {
  const chart = el("div", { class: "chart" });
  const stats = series.kind === "scalar"
    ? `last ${formatNumber(series.last)} · min ${formatNumber(series.minimum)} · max ${formatNumber(series.maximum)}`
    : series.kind === "table" || series.kind === "list"
      ? `${series.count.toLocaleString("en-US")} ${series.kind === "table" ? "rows" : "values"}` : "";
  const node = el("div", { class: `card chart-card${wide ? " wide" : ""}`, "data-metric": series.name, "data-kind": series.kind },
    el("div", { class: "chart-head" }, el("h4", { text: series.name }), el("span", { class: "kind", text: series.kind.replace("_", " ") }),
      el("span", { class: "stats muted", text: stats })),
    chart);
  if (series.description) node.querySelector(".chart-head").after(el("div", { class: "muted small", text: series.description }));
  return { node, chart };
}

async function points(runId, name) {
  const params = new URLSearchParams({ name, start: "0", end: String(MAX_ROWS) });
  return getJSON(`/api/v1/runs/${encodeURIComponent(runId)}/metrics/points?${params}`);
}

function numeric(v) { return typeof v === "number" && Number.isFinite(v); }

export class MetricsTab {
  constructor(page) {
    this.page = page;
    this.run = page.run;
    this.charts = [];
    this.ticks = 0;
  }

  opts() {
    return {
      x: document.getElementById("run-x-axis").value,
      logY: document.getElementById("run-log-y").checked,
      smoothing: Number(document.getElementById("run-smoothing").value),
      compact: true,
    };
  }

  build() {
    const grid = document.getElementById("metric-grid");
    const values = document.getElementById("scalars-row");
    if (!grid) return;
    for (const s of this.page.series) {
      if (s.kind === "image") continue;
      if (s.kind === "scalar" && s.count <= 1) {
        const shown = s.last !== null ? formatNumber(s.last) : String(s.last_value ?? "–");
        values.append(el("div", { class: "card value-tile", "data-metric": s.name },
          el("div", { class: "muted small", text: s.name }), el("div", { class: "value", text: shown })));
        continue;
      }
      const wide = s.kind === "table" || s.kind === "confusion_matrix";
      const { node, chart } = card(s, wide);
      grid.append(node);
      this.draw(s, node, chart).catch((err) => {
        chart.replaceWith(el("div", { class: "muted small", text: `Cannot draw: ${err.message}` }));
      });
    }
    for (const id of ["run-x-axis", "run-log-y", "run-smoothing"]) {
      document.getElementById(id).addEventListener("change", () => this.redraw());
    }
  }

  async draw(s, node, chart) {
    if (s.kind === "scalar") {
      const trace = new TraceChart(chart, { run: [this.run.id], metric: [s.name] }, this.opts());
      this.charts.push(trace);
      return trace.draw();
    }
    if (s.kind === "list") return this.drawList(s, chart);
    if (s.kind === "table") return this.drawTable(s, node, chart);
    const path = typeof s.last_value === "string" ? s.last_value : s.name;
    const doc = await getJSON(artifactUrl(this.run.id, path));
    const draw = STRUCTURED[s.kind] || STRUCTURED.json;
    return draw(chart, doc, await loadPlotly());
  }

  async drawList(s, chart) {
    const [Plotly, data] = await Promise.all([loadPlotly(), points(this.run.id, s.name)]);
    const ys = data.values.map((v) => (numeric(v) ? v : null));
    await Plotly.newPlot(chart, [{ y: ys, type: "scatter", mode: ys.length < 50 ? "lines+markers" : "lines",
      line: { color: PALETTE[0], width: 1.6 }, marker: { size: 5 } }],
    baseLayout({ xaxis: { title: { text: "index", font: { size: 10 } } } }), CONFIG);
  }

  async drawTable(s, node, chart) {
    const [Plotly, data] = await Promise.all([loadPlotly(), points(this.run.id, s.name)]);
    const rows = data.values.filter((r) => r && typeof r === "object");
    const columns = s.columns && s.columns.length ? s.columns : Object.keys(rows[0] || {});
    const [xCol, ...yCols] = columns;
    const traces = yCols.filter((c) => rows.some((r) => numeric(r[c]))).map((c, i) => ({
      x: rows.map((r) => r[xCol]), y: rows.map((r) => (numeric(r[c]) ? r[c] : null)), name: c,
      type: "scatter", mode: rows.length < 50 ? "lines+markers" : "lines",
      line: { color: PALETTE[i % PALETTE.length], width: 1.6 }, marker: { size: 5 },
    }));
    await Plotly.newPlot(chart, traces, baseLayout({ showlegend: traces.length > 1,
      xaxis: { title: { text: xCol, font: { size: 10 } } } }), CONFIG);
    const head = el("tr", {}, ...columns.map((c) => el("th", { text: c })));
    const body = rows.slice(0, 500).map((r) => el("tr", {}, ...columns.map((c) => el("td", { class: numeric(r[c]) ? "num" : "", text: formatNumber(r[c] ?? null) }))));
    const raw = el("details", { class: "raw" }, el("summary", { text: `Raw table (${rows.length} rows)` }),
      el("div", { class: "raw-wrap" }, el("table", { class: "grid compact" }, el("thead", {}, head), el("tbody", {}, ...body))));
    node.append(raw);
  }

  redraw() {
    const opts = this.opts();
    for (const chart of this.charts) {
      Object.assign(chart, { opts, range: null });
      chart.draw().catch((err) => console.warn("runtrack: redraw failed:", err.message));
    }
  }

  runStatus(found) {
    this.ticks += 1;
    if (found.terminal || this.ticks % 5 === 0) {
      for (const chart of this.charts) if (!chart.range) chart.draw().catch(() => {});
    }
  }
}
