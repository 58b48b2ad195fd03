// The Metrics tab: a chart per scalar metric, list and table metrics as line charts
// (tables: x = first column, plus the raw table), structured kinds drawn as what they are.
import { artifactUrl, el, formatNumber, getJSON, loadPlotly } from "./common.js";
import { CONFIG, PALETTE, TraceChart, baseLayout } from "./charts.js";
import { STRUCTURED } from "./structured.js";
import { TableViewer } from "./table_viewer.js";

const MAX_ROWS = 10000;

function statsText(series) {
  return series.kind === "scalar"
    ? `last ${formatNumber(series.last)} · min ${formatNumber(series.minimum)} · max ${formatNumber(series.maximum)}`
    : series.kind === "table" || series.kind === "list"
      ? `${formatNumber(series.count)} ${series.kind === "table" ? "rows" : "values"}` : "";
}

function card(series, wide) {
  const chart = el("div", { class: "chart" });
  const stats = statsText(series);
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
    this.built = true;
    this.shownSeries = new Map();
    for (const s of this.page.series) this.add(s);
    for (const id of ["run-x-axis", "run-log-y", "run-smoothing"]) {
      document.getElementById(id).addEventListener("change", () => this.redraw());
    }
  }

  // A series' tile or chart card; a scalar series that grows past one value becomes a chart.
  add(s) {
    if (s.kind === "image") return;
    const grid = document.getElementById("metric-grid");
    const values = document.getElementById("scalars-row");
    const tile = s.kind === "scalar" && s.count <= 1;
    this.shownSeries.set(s.name, tile ? "tile" : "chart");
    if (tile) {
      const shown = s.last !== null ? formatNumber(s.last) : String(s.last_value ?? "–");
      values.append(el("div", { class: "card value-tile", "data-metric": s.name },
        el("div", { class: "muted small", text: s.name }), el("div", { class: "value", text: shown })));
      return;
    }
    const wide = s.kind === "table" || s.kind === "confusion_matrix";
    const { node, chart } = card(s, wide);
    grid.append(node);
    this.draw(s, node, chart).catch((err) => {
      chart.replaceWith(el("div", { class: "muted small", text: `Cannot draw: ${err.message}` }));
    });
  }

  // While the run is live: series logged since the page opened get their card, and
  // the last/min/max line of each card follows the data.
  async refreshSeries() {
    const fresh = await getJSON(`/api/v1/views/runs/${encodeURIComponent(this.run.id)}`);
    document.querySelector(".metrics-bar").hidden = fresh.series.length === 0;
    document.getElementById("no-metrics").hidden = fresh.series.length > 0;
    const count = document.querySelector(".tabs a[data-tab=metrics] .n");
    if (count) count.textContent = String(fresh.series.length);
    for (const s of fresh.series) {
      const shown = this.shownSeries.get(s.name);
      if (shown === "tile" && s.kind === "scalar" && s.count > 1) {
        document.querySelector(`.value-tile[data-metric="${CSS.escape(s.name)}"]`)?.remove();
        this.add(s);
      } else if (shown === "tile") {
        const value = document.querySelector(`.value-tile[data-metric="${CSS.escape(s.name)}"] .value`);
        if (value) value.textContent = s.last !== null ? formatNumber(s.last) : String(s.last_value ?? "–");
      } else if (shown === "chart") {
        const stats = document.querySelector(`.chart-card[data-metric="${CSS.escape(s.name)}"] .stats`);
        if (stats) stats.textContent = statsText(s);
      } else {
        this.add(s);
      }
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
    const viewer = new TableViewer(rows, columns);
    const raw = el("details", { class: "raw" }, el("summary", { text: `Raw table (${rows.length} rows)` }), viewer.node);
    node.append(raw);
    // Lines only make sense against an x that grows (a step, an epoch, a threshold); a
    // table keyed by ids or labels is a table: its viewer opens instead of a chart.
    if (!this.lineTable(rows, xCol)) {
      chart.remove();
      raw.open = true;
      return;
    }
    const traces = yCols.filter((c) => rows.some((r) => numeric(r[c]))).map((c, i) => ({
      x: rows.map((r) => r[xCol]), y: rows.map((r) => (numeric(r[c]) ? r[c] : null)), name: c,
      type: "scatter", mode: rows.length < 50 ? "lines+markers" : "lines",
      line: { color: PALETTE[i % PALETTE.length], width: 1.6 }, marker: { size: 5 },
    }));
    await Plotly.newPlot(chart, traces, baseLayout({ showlegend: traces.length > 1,
      xaxis: { title: { text: xCol, font: { size: 10 } } } }), CONFIG);
  }

  lineTable(rows, xCol) {
    if (!rows.length || /^(id|.*[_ ]id|uuid|key|name|label)$/i.test(xCol)) return false;
    let previous = -Infinity;
    for (const r of rows) {
      if (!numeric(r[xCol]) || r[xCol] < previous) return false;
      previous = r[xCol];
    }
    return true;
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
    if (!this.built || !(found.terminal || this.ticks % 3 === 0)) return;
    for (const chart of this.charts) if (!chart.range) chart.refetch().catch(() => {});
    this.refreshSeries().catch((err) => console.warn("runtrack: refreshing metrics failed:", err.message));
  }
}
