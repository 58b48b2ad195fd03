// The compare panel: the selected runs overlaid, several metrics on y, a chosen x axis,
// log scale and smoothing. Data comes min/max-downsampled; zooming fetches finer data.
import { LEGEND_MAX, TraceChart } from "./charts.js";

export class ComparePanel {
  constructor(node, metricNames) {
    this.node = node;
    this.metricNames = metricNames;
    this.runs = [];
    this.chart = null;
    if (!node) return;
    this.chartNode = node.querySelector("#compare-chart");
    this.note = node.querySelector("#compare-note");
    node.addEventListener("change", () => this.draw());
    node.querySelector("#smoothing").addEventListener("input", (ev) => {
      node.querySelector("#smoothing-value").textContent = ev.target.value;
    });
    node.querySelector("#compare-close").addEventListener("click", () => { node.hidden = true; });
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !node.hidden) node.hidden = true;
    });
  }

  metrics() {
    return [...this.node.querySelectorAll("#metric-picks input:checked")].map((i) => i.value);
  }

  show(runs) {
    if (!this.node) return;
    this.runs = runs;
    this.node.hidden = runs.length === 0;
    if (runs.length) this.draw();
  }

  draw() {
    const metrics = this.metrics();
    if (!this.runs.length) return;
    if (!metrics.length) { this.note.textContent = "Pick at least one metric."; return; }
    const labels = new Map(this.runs.map((r) => [r.id, r.label]));
    const multi = metrics.length > 1;
    const opts = {
      x: this.node.querySelector("#x-axis").value,
      logY: this.node.querySelector("#log-y").checked,
      smoothing: Number(this.node.querySelector("#smoothing").value),
      label: (t) => (multi ? `${labels.get(t.run_id) || t.run_label} · ${t.metric}` : labels.get(t.run_id) || t.run_label),
    };
    const query = { run: this.runs.map((r) => r.id), metric: metrics };
    if (!this.chart) this.chart = new TraceChart(this.chartNode, query, opts);
    else Object.assign(this.chart, { query, opts, range: null });
    this.chart.draw().then((payload) => {
      if (!payload) return; // superseded by a later draw
      const missing = payload.missing.length;
      this.note.textContent = `${payload.traces.length} series` +
        (missing ? ` · ${missing} run/metric pairs have no data` : "") +
        (payload.traces.length > LEGEND_MAX ? " · hover a line for its run" : "") +
        " · drag to zoom (finer data is fetched), double-click to reset";
    }).catch((err) => { this.note.textContent = `Cannot draw: ${err.message}`; });
  }
}
