// Chart helpers shared by the compare panel and the run page: one look for every chart,
// smoothing, axis titles, and line charts (uPlot) whose zoom asks the server for finer
// data; the Plotly layout the other charts share.
import { formatNumber, getJSON } from "./common.js";

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

// uPlot (vendored under static/vendor/uplot, loaded once per page) draws the line charts;
// Plotly stays for the parallel coordinates, scatter and structured charts.
let uplotPromise = null;
export function loadUPlot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (!uplotPromise) {
    uplotPromise = new Promise((resolve, reject) => {
      const src = document.querySelector('meta[name="runtrack-uplot"]')?.content || "/static/vendor/uplot/uPlot.iife.min.js";
      const script = document.createElement("script");
      script.src = src;
      script.addEventListener("load", () => resolve(window.uPlot));
      script.addEventListener("error", () => reject(new Error("cannot load uPlot.iife.min.js")));
      document.head.append(script);
    });
  }
  return uplotPromise;
}

const DASHES = { solid: undefined, dot: [2, 3], dash: [6, 4], dashdot: [6, 3, 2, 3] };
const AXIS_FONT = `10px ${FONT.family}`;
const HOVER_NEAREST = 5;

// One x array for every trace (uPlot's data shape): the traces' x values merged, each
// trace's y placed at its own x and null elsewhere (lines span the gaps).
function aligned(traces, logY) {
  const clean = (ys) => (logY ? ys.map((v) => (typeof v === "number" && v > 0 ? v : null)) : ys);
  const first = traces[0]?.x || [];
  const same = traces.every((t) => t.x === first || (t.x.length === first.length && t.x.every((v, i) => v === first[i])));
  if (same) return [first.map(Number), ...traces.map((t) => clean(t.y))];
  const all = new Set();
  for (const t of traces) for (const v of t.x) all.add(Number(v));
  const xs = Float64Array.from([...all].filter(Number.isFinite)).sort();
  const index = new Map();
  xs.forEach((v, i) => index.set(v, i));
  const out = [Array.from(xs)];
  for (const t of traces) {
    const ys = new Array(xs.length).fill(null);
    const source = clean(t.y);
    for (let i = 0; i < t.x.length; i++) {
      const at = index.get(Number(t.x[i]));
      if (at !== undefined) ys[at] = source[i];
    }
    out.push(ys);
  }
  return out;
}

// A chart of downsampled traces that re-fetches finer buckets for the zoomed range.
// `query` is {run: [...], metric: [...]}; opts: {x, logY, smoothing, label(trace, i),
// group, compact}. The drawn traces stay on the node as `node.data` (name, x, y, line,
// fill of each) and the uPlot instance as `node.uplot`, for tools and tests.
export class TraceChart {
  constructor(node, query, opts) {
    this.node = node; this.query = query; this.opts = opts; this.range = null;
    this.busy = false;
    this.generation = 0;
    this.pieces = new Map(); // the data by metric, see pending()
    this.plot = null;
  }

  // The chart route takes at most CHART_RUNS runs a request: more runs (a selection
  // across pages) are fetched in parts and drawn together.
  urls(metrics) {
    const out = [];
    for (let i = 0; i < this.query.run.length; i += CHART_RUNS) out.push(this.url(this.query.run.slice(i, i + CHART_RUNS), metrics));
    return out;
  }

  async fetchTraces(urls, signal) {
    const parts = await Promise.all(urls.map((u) => getJSON(u, signal)));
    const data = { ...parts[0], traces: [], missing: [] };
    for (const part of parts) {
      for (const t of part.traces) data.traces.push(decodeTrace(t));
      for (const m of part.missing) data.missing.push(m);
    }
    return data;
  }

  url(runs, metrics) {
    const params = new URLSearchParams();
    for (const r of runs) params.append("run", r);
    for (const m of metrics) params.append("metric", m);
    params.set("x", this.opts.x);
    const series = this.query.run.length * this.query.metric.length; // every series drawn
    params.set("buckets", String(bucketsFor(this.node.clientWidth, series)));
    params.set("format", "compact");
    if (this.range) { params.set("x_min", this.range[0]); params.set("x_max", this.range[1]); }
    return `/api/v1/views/chart?${params}`;
  }

  pieceKey(metric) {
    return JSON.stringify([metric, this.opts.x, this.range, this.query.run]);
  }

  // The data of every metric of the query, kept by metric: a metric fetched (or still
  // being fetched) for the same runs, x axis and range is reused, so ticking a second
  // metric fetches that metric alone; the metrics not held yet are fetched in one
  // request. A piece the query no longer wants is dropped, and its request aborted
  // (the server stops reading for it) unless a wanted metric shares it.
  pending() {
    const wanted = new Map(this.query.metric.map((m) => [this.pieceKey(m), m]));
    const dropped = [];
    for (const [key, piece] of this.pieces) {
      if (!wanted.has(key)) { this.pieces.delete(key); dropped.push(piece); }
    }
    const missing = [...wanted].filter(([key]) => !this.pieces.has(key)).map(([, m]) => m);
    if (missing.length) {
      const controller = new AbortController();
      const piece = { controller, promise: this.fetchTraces(this.urls(missing), controller.signal) };
      for (const m of missing) this.pieces.set(this.pieceKey(m), piece);
      piece.promise.catch(() => { // failed or aborted: fetched again when next wanted
        for (const [key, p] of this.pieces) if (p === piece) this.pieces.delete(key);
      });
    }
    const kept = new Set(this.pieces.values());
    for (const piece of dropped) if (!kept.has(piece)) piece.controller.abort();
    const pieces = [...new Set([...wanted.keys()].map((key) => this.pieces.get(key)))];
    return Promise.all(pieces.map((p) => p.promise)).then((parts) => this.merged(parts));
  }

  // The pieces' traces of the query's metrics, in the server's order (by run, then
  // metric, as the query lists them).
  merged(parts) {
    const { run: runs, metric: metrics } = this.query;
    const data = { ...parts[0], traces: [], missing: [] };
    for (const part of parts) {
      data.traces.push(...part.traces.filter((t) => metrics.includes(t.metric)));
      data.missing.push(...part.missing.filter((m) => metrics.includes(m.metric)));
    }
    const rank = (t) => runs.indexOf(t.run_id) * metrics.length + metrics.indexOf(t.metric);
    data.traces.sort((a, b) => rank(a) - rank(b));
    return data;
  }

  // Draw (again) for the current query and options. A draw started later supersedes
  // this one: it resolves to null (and its request is aborted when the later draw does
  // not need it).
  async draw() {
    const generation = ++this.generation;
    const pending = this.pending().catch((err) => {
      if (generation !== this.generation) return null; // aborted: superseded
      throw err;
    });
    const [uPlot, data] = await Promise.all([loadUPlot(), pending]);
    if (generation !== this.generation) return null;
    const x = this.opts.x;
    // Past the legend's size, lines are 1 px: the canvas draws them as hairlines, several
    // times faster to rasterise than 1.6 px strokes (100 series: ~25 ms against ~300 ms
    // in software rendering), and a thin line is what a crowded chart needs anyway.
    const width = data.traces.length > LEGEND_MAX ? 1 : 1.6;
    const traces = this.opts.group ? groupedTraces(data.traces, this.opts.group, this.query.metric, this.opts.smoothing)
      : data.traces.map((t, i) => {
      const name = this.opts.label ? this.opts.label(t, i) : t.run_label;
      const runIndex = this.query.run.indexOf(t.run_id);
      const metricIndex = this.query.metric.indexOf(t.metric);
      const color = PALETTE[(this.query.run.length > 1 ? runIndex : metricIndex) % PALETTE.length];
      const dash = this.query.run.length > 1 ? ["solid", "dot", "dash", "dashdot"][metricIndex % 4] : "solid";
      const main = { x: t.x, y: smooth(t.y, this.opts.smoothing), name, mode: t.x.length === 1 ? "markers" : "lines",
        line: { color, width, dash } };
      if (!this.opts.smoothing) return [main];
      return [{ ...main, y: t.y, line: { color, width: 1 }, opacity: 0.25, showlegend: false, meta: "raw" }, main];
    }).flat();
    const shown = this.opts.group ? traces.filter((t) => t.showlegend !== false).length : data.traces.length;
    this.render(uPlot, traces, {
      legend: shown > 1 && shown <= LEGEND_MAX && !this.opts.compact,
      nearest: shown > LEGEND_MAX,
      xLabel: xTitle(data.traces[0]?.x_axis || x),
    });
    this.node.data = traces;
    this.node.dataset.drawn = "uplot";
    this.node.dataset.traces = String(data.traces.length);
    this.node.dataset.metrics = this.query.metric.join(",");
    this.node.dataset.points = String(data.traces.reduce((n, t) => n + t.x.length, 0));
    this.node.dataset.groups = this.opts.group ? String(shown) : "";
    this.node.dispatchEvent(new CustomEvent("chart-drawn", { bubbles: true }));
    return data;
  }

  // Draw with data fetched anew (a live run's series grew).
  refetch() {
    for (const piece of this.pieces.values()) piece.controller.abort();
    this.pieces.clear();
    return this.draw();
  }

  render(uPlot, traces, { legend, nearest, xLabel }) {
    const node = this.node;
    const time = this.opts.x === "time";
    const data = aligned(traces, this.opts.logY);
    const bands = [];
    traces.forEach((t, i) => { if (t.fill) bands.push({ series: [i + 1, i], fill: t.fillcolor }); });
    const series = [{}, ...traces.map((t) => ({
      label: t.name || "",
      stroke: t.line.width === 0 ? "transparent" : t.line.color,
      width: t.line.width ?? 1.6,
      dash: DASHES[t.line.dash || "solid"],
      alpha: t.opacity ?? 1,
      spanGaps: true,
      points: { show: t.mode === "markers", size: 6, fill: t.line.color, stroke: t.line.color },
    }))];
    const axis = { stroke: INK.text, font: AXIS_FONT, labelFont: AXIS_FONT, grid: { stroke: INK.grid, width: 1 },
      ticks: { stroke: INK.axis, width: 1, size: 4 } };
    const legendNode = legend ? legendFor(traces) : null;
    const size = () => ({ width: Math.max(120, node.clientWidth || 600),
      height: Math.max(100, (node.clientHeight || 240) - (legendNode ? 24 : 0)) });
    const range = this.range;
    const options = {
      ...size(),
      legend: { show: false },
      scales: {
        x: { time, ...(range ? { range: () => range } : {}) },
        y: this.opts.logY ? { distr: 3 } : {},
      },
      axes: [{ ...axis, label: xLabel, labelSize: 14, labelGap: 0, size: 30 }, { ...axis, size: yAxisSize, values: (u, splits) => splits.map((v) => formatNumber(v)) }],
      series,
      bands,
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 4) return;
          const a = u.posToVal(u.select.left, "x"), b = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          this.zoom([a, b]);
        }],
        setCursor: [(u) => hover(u, traces, nearest)],
      },
    };
    this.plot?.destroy();
    this.observer?.disconnect();
    node.replaceChildren();
    this.plot = new uPlot(options, data, node);
    node.uplot = this.plot;
    if (legendNode) node.append(legendNode);
    const tip = document.createElement("div");
    tip.className = "chart-hover";
    tip.hidden = true;
    this.plot.over.append(tip);
    this.plot.over.addEventListener("dblclick", () => { if (this.range) this.zoom(null); });
    this.observer = new ResizeObserver(() => {
      const want = size();
      if (this.plot && (want.width !== this.plot.width || want.height !== this.plot.height)) this.plot.setSize(want);
    });
    this.observer.observe(node);
  }

  // Show [from, to] of the x axis (null: everything), with finer data fetched for it.
  zoom(range) {
    if (this.busy) return Promise.resolve(null);
    this.range = range && range[0] < range[1] ? range : null;
    this.busy = true;
    return this.draw().catch((err) => { console.warn("runtrack: zoom failed:", err.message); return null; })
      .finally(() => { this.busy = false; });
  }
}

// The y axis is as wide as its longest tick label (log axes reach 10,000,000).
function yAxisSize(u, values) {
  let longest = 3;
  for (const v of values || []) longest = Math.max(longest, String(v).length);
  return Math.ceil(longest * 6.5) + 16;
}

function legendFor(traces) {
  const box = document.createElement("div");
  box.className = "chart-legend";
  for (const t of traces) {
    if (t.showlegend === false) continue;
    const item = document.createElement("span");
    item.className = "item";
    const swatch = document.createElement("i");
    swatch.style.background = t.line.color;
    item.append(swatch, document.createTextNode(t.name || ""));
    box.append(item);
  }
  return box;
}

// The hover box: every named series' value at the cursor's x, or with many series the
// HOVER_NEAREST nearest the cursor.
function hover(u, traces, nearest) {
  const tip = u.over.querySelector(".chart-hover");
  if (!tip) return;
  const idx = u.cursor.idx;
  if (idx === null || idx === undefined || u.cursor.left < 0) { tip.hidden = true; return; }
  const at = u.cursor.top >= 0 ? u.posToVal(u.cursor.top, "y") : null;
  const rows = [];
  traces.forEach((t, i) => {
    if (t.showlegend === false || t.meta) return;
    const ys = u.data[i + 1];
    let k = idx, step = 0;
    while (ys[k] === null || ys[k] === undefined) { // nearest point of this series
      step++;
      if (step > 200) break;
      k = idx + (step % 2 ? -(step + 1) / 2 : step / 2);
      if (k < 0 || k >= ys.length) continue;
    }
    const y = ys[k];
    if (typeof y === "number") rows.push({ name: t.name, color: t.line.color, y });
  });
  if (!rows.length) { tip.hidden = true; return; }
  let shown = rows;
  if (nearest && at !== null) shown = rows.sort((a, b) => Math.abs(a.y - at) - Math.abs(b.y - at)).slice(0, HOVER_NEAREST);
  tip.replaceChildren(...shown.map((r) => {
    const line = document.createElement("div");
    const swatch = document.createElement("i");
    swatch.style.background = r.color;
    line.append(swatch, document.createTextNode(`${r.name} `), Object.assign(document.createElement("b"), { textContent: formatNumber(r.y) }));
    return line;
  }));
  tip.hidden = false;
  const left = u.cursor.left + 12;
  tip.style.left = `${left + tip.offsetWidth > u.over.clientWidth ? Math.max(0, u.cursor.left - tip.offsetWidth - 12) : left}px`;
  tip.style.top = `${Math.max(0, Math.min(u.cursor.top, u.over.clientHeight - tip.offsetHeight))}px`;
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
export function groupedTraces(traces, group, metrics, smoothing = 0) {
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
    const xs = grid;
    if (smoothing) {
      out.push({ x: xs, y: rawMean, mode: "lines", line: { color, width: 1 }, opacity: 0.25,
        showlegend: false, meta: "raw-mean" });
    }
    out.push({ x: xs, y: low, mode: "lines", line: { width: 0, color }, showlegend: false, meta: "band-low" });
    out.push({ x: xs, y: high, mode: "lines", line: { width: 0, color }, fill: "tonexty",
      fillcolor: rgba(color, 0.18), showlegend: false, meta: "band-high" });
    out.push({ x: xs, y: mean, mode: "lines", name, line: { color, width: 2, dash } });
  }
  return out;
}
