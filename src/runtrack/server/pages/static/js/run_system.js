// The run page's System tab: one chart per quantity (cpu_percent, rss_bytes, …) with one
// line per source (rank0, node0, node0/gpu1), from /api/v1/runs/{id}/system-metrics.
import { el, getJSON, loadPlotly, pageData } from "./common.js";
import { CONFIG, PALETTE, baseLayout } from "./charts.js";

const UNITS = { bytes: "bytes", percent: "%", watts: "W", c: "°C", files: "files" };

function unitOf(quantity) {
  const last = quantity.split("_").pop();
  return UNITS[last] || "";
}

async function build() {
  const page = pageData("run-data");
  const holder = document.getElementById("system-charts");
  if (!holder || holder.dataset.built) return;
  holder.dataset.built = "1";
  const [Plotly, data] = await Promise.all([
    loadPlotly(),
    getJSON(`/api/v1/runs/${encodeURIComponent(page.run.id)}/system-metrics`),
  ]);
  const byQuantity = new Map();
  for (const s of data.series) {
    if (!byQuantity.has(s.quantity)) byQuantity.set(s.quantity, []);
    byQuantity.get(s.quantity).push(s);
  }
  for (const [quantity, series] of [...byQuantity.entries()].sort()) {
    const chart = el("div", { class: "chart system-chart", "data-quantity": quantity });
    holder.append(el("div", { class: "card" }, el("h3", { text: quantity }), chart));
    const traces = series.map((s, i) => ({
      x: s.x.map((t) => new Date(t * 1000)), y: s.y, name: s.source || "run",
      type: "scatter", mode: s.x.length > 1 ? "lines" : "markers",
      line: { color: PALETTE[i % PALETTE.length], width: 1.5 },
    }));
    const layout = baseLayout({ showlegend: series.length > 1, yaxis: { title: unitOf(quantity) } });
    await Plotly.newPlot(chart, traces, layout, CONFIG);
  }
  holder.dispatchEvent(new CustomEvent("system-drawn", { bubbles: true }));
}

function maybeBuild() {
  if (location.hash === "#system") build().catch((err) => console.warn("runtrack:", err.message));
}

window.addEventListener("hashchange", maybeBuild);
maybeBuild();
