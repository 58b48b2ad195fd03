// Plotly helpers shared by the compare panel and the run page: one look for every
// chart, smoothing, axis titles, and zoom that asks the server for finer data.
import { extent, getJSON, loadPlotly } from "./common.js";

export const PALETTE = ["#2f5bd3", "#e8710a", "#1a9e5b", "#d6336c", "#7b4fd6", "#0f9aa8",
  "#b58900", "#6b7280", "#c2410c", "#0e7490"];

// dark mode follows the system setting, as the page's CSS does
export const DARK = typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
const INK = DARK ? { text: "#c9d1da", grid: "#262e38", axis: "#39424e", plot: "#171d25" }
  : { text: "#3b4252", grid: "#eef0f3", axis: "#d9dde3", plot: "#fff" };

const FONT = { family: "Inter, -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, sans-serif",
  size: 11, color: INK.text };

export const CONFIG = { displaylogo: false, responsive: true,
  modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d"] };

export function baseLayout(extra = {}) {
  const axis = { gridcolor: INK.grid, zerolinecolor: INK.axis, linecolor: INK.axis,
    tickfont: { size: 10 }, automargin: true };
  return {
    font: FONT, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: INK.plot,
    margin: { l: 48, r: 12, t: 8, b: 32 }, hovermode: "x unified",
    hoverlabel: { font: { size: 11 } },
    xaxis: { ...axis, ...(extra.xaxis || {}) }, yaxis: { ...axis, ...(extra.yaxis || {}) },
    legend: { orientation: "h", y: -0.18, font: { size: 10 } }, showlegend: false,
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "xaxis" && k !== "yaxis")),
  };
}

// Exponential moving average with bias correction (as TensorBoard draws it).
export function smooth(ys, weight) {
  if (!weight) return ys;
  const out = new Array(ys.length);
  let last = 0, n = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (y === null || !Number.isFinite(y)) { out[i] = y; continue; }
    last = last * weight + (1 - weight) * y;
    n++;
    out[i] = last / (1 - Math.pow(weight, n));
  }
  return out;
}

export const X_TITLES = { step: "step", index: "index", time: "wall time", relative: "seconds since start" };

export function xTitle(x) {
  return X_TITLES[x] || (x.startsWith("metric:") ? x.slice(7) : x);
}

function toX(values, x) {
  return x === "time" ? values.map((v) => new Date(v * 1000)) : values;
}

function fromX(value, x) {
  if (x === "time") return new Date(value).getTime() / 1000;
  return Number(value);
}

// A trace of the compact wire form (x as x0 + xq * running sum of xd) with plain x.
export function decodeTrace(t) {
  if (!t.xd) return t;
  const x = new Array(t.xd.length);
  let units = 0;
  for (let i = 0; i < t.xd.length; i++) { units += t.xd[i]; x[i] = t.x0 + units * t.xq; }
  return { ...t, x };
}

// Points per chart: about two per pixel for a few series; with many series each gets
// fewer buckets (each bucket still keeps its extremes), so 100 series stay small.
const POINT_BUDGET = 12000;
const CHART_RUNS = 100;
export const LEGEND_MAX = 10;

export function bucketsFor(width, series) {
  return Math.max(50, Math.min(1000, Math.round((width || 800) / 2), Math.floor(POINT_BUDGET / Math.max(1, series))));
}

// A chart of downsampled traces that re-fetches finer buckets for the zoomed range.
// `query` is {run: [...], metric: [...]}; opts: {x, logY, smoothing, label(trace, i)}.
export class TraceChart {
  constructor(node, query, opts) {
    this.node = node; this.query = query; this.opts = opts; this.range = null;
    this.busy = false;
    this.generation = 0;
  }

  // The chart route takes at most CHART_RUNS runs a request: more runs (a selection
  // across pages) are fetched in parts and drawn together.
  urls() {
    const out = [];
    for (let i = 0; i < this.query.run.length; i += CHART_RUNS) out.push(this.url(this.query.run.slice(i, i + CHART_RUNS)));
    return out;
  }

  async fetchTraces(urls) {
    const parts = await Promise.all(urls.map((u) => getJSON(u)));
    const data = { ...parts[0], traces: [], missing: [] };
    for (const part of parts) {
      for (const t of part.traces) data.traces.push(decodeTrace(t));
      for (const m of part.missing) data.missing.push(m);
    }
    return data;
  }

  url(runs) {
    const params = new URLSearchParams();
    for (const r of runs) params.append("run", r);
    for (const m of this.query.metric) params.append("metric", m);
    params.set("x", this.opts.x);
    const series = this.query.run.length * this.query.metric.length;
    params.set("buckets", String(bucketsFor(this.node.clientWidth, series)));
    params.set("format", "compact");
    if (this.range) { params.set("x_min", this.range[0]); params.set("x_max", this.range[1]); }
    return `/api/v1/views/chart?${params}`;
  }

  // Draw (again) for the current query and options. A draw started later supersedes
  // this one: its answer is dropped (resolves to null) when it comes back after that.
  async draw() {
    const generation = ++this.generation;
    const urls = this.urls();
    const url = urls.join(" ");
    // log y and smoothing change no data: the last answer is drawn again
    const pending = this.last?.url === url ? Promise.resolve(this.last.data) : this.fetchTraces(urls);
    if (!window.Plotly && !this.node.dataset.drawn) {
      // First paint: a plain SVG sketch of the same downsampled data while the 4.8 MB
      // Plotly bundle loads and compiles; the interactive chart replaces it.
      const early = await pending;
      if (generation !== this.generation) return null;
      this.sketch(early);
    }
    const [Plotly, data] = await Promise.all([loadPlotly(), pending]);
    if (generation !== this.generation) return null;
    this.last = { url, data };
    this.node.querySelector("svg.sketch")?.remove();
    const x = this.opts.x;
    const traces = this.opts.group ? groupedTraces(data.traces, this.opts.group, this.query.metric, x, this.opts.smoothing)
      : data.traces.map((t, i) => {
      const name = this.opts.label ? this.opts.label(t, i) : t.run_label;
      const runIndex = this.query.run.indexOf(t.run_id);
      const metricIndex = this.query.metric.indexOf(t.metric);
      const color = PALETTE[(this.query.run.length > 1 ? runIndex : metricIndex) % PALETTE.length];
      const dash = this.query.run.length > 1 ? ["solid", "dot", "dash", "dashdot"][metricIndex % 4] : "solid";
      const line = { color, width: 1.6, dash };
      const main = { x: toX(t.x, x), y: smooth(t.y, this.opts.smoothing), name, mode: t.x.length === 1 ? "markers" : "lines",
        type: "scatter", line, marker: { color, size: 6 }, hovertemplate: `%{y:.4g}<extra>${name}</extra>` };
      if (!this.opts.smoothing) return [main];
      return [{ ...main, y: t.y, line: { color, width: 1 }, opacity: 0.25, hoverinfo: "skip", showlegend: false, hovertemplate: undefined }, main];
    }).flat();
    const shown = this.opts.group ? traces.filter((t) => t.showlegend !== false).length : data.traces.length;
    const layout = baseLayout({
      // beyond LEGEND_MAX series the legend would bury the chart: hover names them
      showlegend: shown > 1 && shown <= LEGEND_MAX && !this.opts.compact,
      xaxis: { title: { text: xTitle(data.traces[0]?.x_axis || x), font: { size: 10 } }, type: x === "time" ? "date" : "linear",
        ...(this.range ? { range: this.range.map((v) => (x === "time" ? new Date(v * 1000) : v)) } : {}) },
      yaxis: { type: this.opts.logY ? "log" : "linear" },
      // with many series a unified hover would list them all: show the nearest one
      ...(shown > LEGEND_MAX ? { hovermode: "closest" } : {}),
      ...(this.opts.layout || {}),
    });
    this.node.dataset.drawn = "plotly";
    this.node.dataset.traces = String(data.traces.length);
    this.node.dataset.metrics = this.query.metric.join(",");
    this.node.dataset.points = String(data.traces.reduce((n, t) => n + t.x.length, 0));
    this.node.dataset.groups = this.opts.group ? String(shown) : "";
    await Plotly.react(this.node, traces, layout, CONFIG);
    if (!this.bound) {
      this.bound = true;
      this.node.on("plotly_relayout", (ev) => this.zoomed(ev));
    }
    this.node.dispatchEvent(new CustomEvent("chart-drawn", { bubbles: true }));
    return data;
  }

  // Draw with data fetched anew (a live run's series grew).
  refetch() {
    this.last = null;
    return this.draw();
  }

  sketch(data) {
    const W = Math.max(200, this.node.clientWidth || 600), H = Math.max(120, this.node.clientHeight || 240);
    const pad = { l: 48, r: 12, t: 8, b: 24 };
    // no spread into Math.min/max: 100 series of 1,000 points would overflow the stack
    const xr = extent(data.traces.flatMap((t) => t.x)), yr = extent(data.traces.flatMap((t) => t.y));
    if (!xr || !yr) return;
    const [x0, x1] = xr, [y0, y1] = yr;
    const sx = (v) => pad.l + ((v - x0) / (x1 - x0 || 1)) * (W - pad.l - pad.r);
    const sy = (v) => H - pad.b - ((v - y0) / (y1 - y0 || 1)) * (H - pad.t - pad.b);
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("class", "sketch");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("width", "100%");
    svg.setAttribute("height", String(H));
    const add = (tag, attrs, text) => {
      const node = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
      if (text !== undefined) node.textContent = text;
      svg.append(node);
    };
    add("rect", { x: pad.l, y: pad.t, width: W - pad.l - pad.r, height: H - pad.t - pad.b, fill: INK.plot, stroke: INK.grid });
    data.traces.forEach((t, i) => {
      const pts = [];
      for (let k = 0; k < t.x.length; k++) {
        const xv = Number(t.x[k]), yv = t.y[k];
        if (Number.isFinite(xv) && typeof yv === "number" && Number.isFinite(yv)) pts.push(`${sx(xv).toFixed(1)},${sy(yv).toFixed(1)}`);
      }
      add("polyline", { points: pts.join(" "), fill: "none", stroke: PALETTE[i % PALETTE.length], "stroke-width": 1.6 });
    });
    const label = { "font-size": 10, fill: "#6b7280", "font-family": FONT.family };
    add("text", { ...label, x: pad.l - 4, y: pad.t + 10, "text-anchor": "end" }, y1.toPrecision(3));
    add("text", { ...label, x: pad.l - 4, y: H - pad.b, "text-anchor": "end" }, y0.toPrecision(3));
    add("text", { ...label, x: W - pad.r, y: H - 6, "text-anchor": "end" }, x1.toLocaleString("en-US", { maximumFractionDigits: 2 }));
    this.node.append(svg);
    this.node.dataset.drawn = "sketch";
  }

  zoomed(ev) {
    if (this.busy) return;
    const x = this.opts.x;
    let range = null;
    if (ev["xaxis.range[0]"] !== undefined) range = [ev["xaxis.range[0]"], ev["xaxis.range[1]"]];
    else if (ev["xaxis.range"]) range = ev["xaxis.range"];
    else if (!ev["xaxis.autorange"]) return;
    this.range = range ? range.map((v) => fromX(v, x)) : null;
    this.busy = true;
    this.draw().catch((err) => console.warn("runtrack: zoom failed:", err.message))
      .finally(() => { this.busy = false; });
  }
}

function rgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

// y of a trace (x sorted) at `at`, linear between its points; null outside its range.
function interpolate(xs, ys, at, from) {
  let i = from;
  while (i < xs.length - 1 && xs[i + 1] < at) i++;
  if (at < xs[0] || at > xs[xs.length - 1]) return [null, i];
  if (xs[i] === at || i === xs.length - 1) return [ys[i], i];
  const x0 = xs[i], x1 = xs[i + 1], y0 = ys[i], y1 = ys[i + 1];
  if (typeof y0 !== "number" || typeof y1 !== "number") return [typeof y0 === "number" ? y0 : null, i];
  return [y0 + ((y1 - y0) * (at - x0)) / (x1 - x0 || 1), i];
}

const GROUP_POINTS = 600;

// Runs grouped by a tag or property: per (group, metric) the mean line and a min-max
// band over the group's runs, on a shared x grid (each run interpolated onto it).
// `group` maps run id -> group label. With `smoothing`, each run's points are smoothed
// first (as its own line would be, over the points drawn: zooming in smooths the finer
// data), so the mean and the band are those of the smoothed runs; the unsmoothed mean
// stays as a faint line behind.
export function groupedTraces(traces, group, metrics, x, smoothing = 0) {
  const byKey = new Map();
  for (const t of traces) {
    const label = group.get(t.run_id) ?? "(none)";
    const key = `${label}\u0000${t.metric}`;
    if (!byKey.has(key)) byKey.set(key, { label, metric: t.metric, traces: [] });
    byKey.get(key).traces.push(t);
  }
  const labels = [...new Set([...byKey.values()].map((g) => g.label))].sort();
  const out = [];
  for (const g of byKey.values()) {
    const all = new Set();
    for (const t of g.traces) for (const v of t.x) all.add(Number(v));
    let grid = [...all].filter(Number.isFinite).sort((a, b) => a - b);
    if (grid.length > GROUP_POINTS) {
      const step = grid.length / GROUP_POINTS;
      grid = Array.from({ length: GROUP_POINTS }, (_, k) => grid[Math.floor(k * step)]).concat(grid[grid.length - 1]);
    }
    const runs = g.traces.map((t) => ({ xs: t.x.map(Number), raw: t.y, ys: smooth(t.y, smoothing), at: 0 }));
    const mean = [], low = [], high = [], rawMean = [];
    for (const at of grid) {
      let sum = 0, n = 0, lo = Infinity, hi = -Infinity, rawSum = 0, rawN = 0;
      for (const r of runs) {
        const [y, next] = interpolate(r.xs, r.ys, at, r.at);
        if (smoothing) {
          const [raw] = interpolate(r.xs, r.raw, at, r.at);
          if (typeof raw === "number" && Number.isFinite(raw)) { rawSum += raw; rawN++; }
        }
        r.at = next;
        if (typeof y !== "number" || !Number.isFinite(y)) continue;
        sum += y; n++;
        if (y < lo) lo = y;
        if (y > hi) hi = y;
      }
      mean.push(n ? sum / n : null); low.push(n ? lo : null); high.push(n ? hi : null);
      rawMean.push(rawN ? rawSum / rawN : null);
    }
    const color = PALETTE[labels.indexOf(g.label) % PALETTE.length];
    const dash = ["solid", "dot", "dash", "dashdot"][Math.max(0, metrics.indexOf(g.metric)) % 4];
    const name = `${g.label}${metrics.length > 1 ? ` · ${g.metric}` : ""} (${g.traces.length} run${g.traces.length === 1 ? "" : "s"})`;
    const xs = toX(grid, x);
    if (smoothing) {
      out.push({ x: xs, y: rawMean, type: "scatter", mode: "lines", line: { color, width: 1 }, opacity: 0.25,
        hoverinfo: "skip", showlegend: false, legendgroup: name, meta: "raw-mean" });
    }
    out.push({ x: xs, y: low, type: "scatter", mode: "lines", line: { width: 0, color }, hoverinfo: "skip", showlegend: false, legendgroup: name });
    out.push({ x: xs, y: high, type: "scatter", mode: "lines", line: { width: 0, color }, fill: "tonexty",
      fillcolor: rgba(color, 0.18), hoverinfo: "skip", showlegend: false, legendgroup: name });
    out.push({ x: xs, y: mean, type: "scatter", mode: "lines", name, legendgroup: name, line: { color, width: 2, dash },
      hovertemplate: `%{y:.4g}<extra>${name} mean</extra>` });
  }
  return out;
}
