// Hyperparameter views of runs: parallel coordinates (SVG) and a scatter (the bundled
// Plotly), from the rows of GET /api/v1/views/hparams (properties, tags and
// metric summaries of each run as flat columns).
//
// Reusable: any page can `import { loadHparams, mountParcoords, drawParcoords, drawScatter }
// from "./hparams.js"` (a sweep page too); the macro parcoords_panel of
// templates/_hparams.html renders the card mountParcoords fills.
import { baseLayout, CONFIG } from "./charts.js";
import { formatNumber, getJSON, loadPlotly } from "./common.js";

// {columns: [{key, label}], runs: [{id, label, status, values: {key: value}}]}
export function loadHparams(runIds) {
  const params = new URLSearchParams(runIds.map((id) => ["run", id]));
  return getJSON(`/api/v1/views/hparams?${params}`);
}

// Columns worth an axis: present in at least two runs and not the same everywhere.
export function varyingColumns(data) {
  return data.columns.filter((c) => {
    const seen = new Set();
    let n = 0;
    for (const r of data.runs) {
      const v = r.values[c.key];
      if (v === undefined || v === null) continue;
      n++; seen.add(v);
    }
    return n >= 2 && seen.size > 1;
  });
}

function isNumeric(data, key) {
  return data.runs.every((r) => r.values[key] === undefined || r.values[key] === null || typeof r.values[key] === "number");
}

// An axis of the parallel coordinates: numbers on a linear scale, text as categories.
function axis(data, column) {
  const raw = data.runs.map((r) => r.values[column.key]);
  if (isNumeric(data, column.key)) {
    const nums = raw.filter((v) => typeof v === "number" && Number.isFinite(v));
    let low = Infinity, high = -Infinity;
    for (const v of nums) { if (v < low) low = v; if (v > high) high = v; }
    if (!nums.length) { low = 0; high = 1; }
    if (low === high) { low -= 0.5; high += 0.5; }
    return { key: column.key, label: column.label, ticks: [[0, formatNumber(low)], [1, formatNumber(high)]],
      at: raw.map((v) => (typeof v === "number" && Number.isFinite(v) ? (v - low) / (high - low) : null)) };
  }
  const cats = [...new Set(raw.filter((v) => v !== undefined && v !== null).map(String))].sort();
  const pos = (i) => (cats.length === 1 ? 0.5 : i / (cats.length - 1));
  return { key: column.key, label: column.label, ticks: cats.map((c, i) => [pos(i), c]),
    at: raw.map((v) => (v === undefined || v === null ? null : pos(cats.indexOf(String(v))))) };
}


const VIRIDIS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"];

function viridis(t) {
  if (t === null || !Number.isFinite(t)) return "#9aa3ad";
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1), i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const a = parseInt(VIRIDIS[i].slice(1), 16), b = parseInt(VIRIDIS[i + 1].slice(1), 16), f = x - i;
  const mix = (shift) => Math.round(((a >> shift) & 255) * (1 - f) + ((b >> shift) & 255) * f);
  return `rgb(${mix(16)}, ${mix(8)}, ${mix(0)})`;
}

const SVG = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// Parallel coordinates: one line per run through `dims` (column keys; default: every
// varying column, properties and tags first, then each metric's last value), coloured
// by the `color` column (default: the last axis). Drag along an axis to keep only the
// runs inside that range (drag again elsewhere on it, or click it, to clear). Drawn as
// SVG, not Plotly's WebGL parcoords: the pages' Content-Security-Policy forbids the
// code generation WebGL traces need, and SVG needs no GPU.
// Returns {dims, kept()} or null when fewer than two columns differ.
export function drawParcoords(node, data, { dims, color } = {}) {
  const byKey = new Map(data.columns.map((c) => [c.key, c]));
  const varying = varyingColumns(data);
  const chosen = (dims && dims.length ? dims.map((k) => byKey.get(k)).filter(Boolean)
    : [...varying.filter((c) => !c.key.startsWith("metric:")), ...varying.filter((c) => c.key.endsWith(":last"))]
  ).slice(0, 12);
  node.dataset.dims = chosen.map((c) => c.key).join(",");
  node.replaceChildren();
  if (chosen.length < 2) {
    node.textContent = "Parallel coordinates need two columns that differ between the runs.";
    node.dataset.drawn = "empty";
    return null;
  }
  const axes = chosen.map((c) => axis(data, c));
  const colorKey = color && byKey.has(color) ? color : chosen[chosen.length - 1].key;
  const colorAxis = axis(data, byKey.get(colorKey));
  const W = Math.max(320, node.clientWidth || 800), H = Math.max(200, node.clientHeight || 300);
  const pad = { l: 40, r: 120, t: 30, b: 18 };
  const ax = (i) => pad.l + (i * (W - pad.l - pad.r)) / (axes.length - 1);
  const ay = (v) => H - pad.b - v * (H - pad.t - pad.b);
  const svg = svgEl("svg", { class: "parcoords", viewBox: `0 0 ${W} ${H}`, width: "100%", height: H });
  const lines = svgEl("g", { class: "lines" });
  svg.append(lines);
  const paths = data.runs.map((run, r) => {
    let d = "", pen = "M";
    axes.forEach((a, i) => {
      const v = a.at[r];
      if (v === null) { pen = "M"; return; }
      d += `${pen}${ax(i).toFixed(1)},${ay(v).toFixed(1)} `;
      pen = "L";
    });
    const path = svgEl("path", { d: d.trim(), class: "run-line", stroke: viridis(colorAxis.at[r]), "data-run": run.id });
    path.append(svgEl("title", {}, `${run.label}\n${axes.map((a) => `${a.label}: ${run.values[a.key] ?? "–"}`).join("\n")}`));
    lines.append(path);
    return path;
  });
  const ranges = axes.map(() => null);
  const filter = () => {
    let kept = 0;
    paths.forEach((p, r) => {
      const inside = ranges.every((range, i) => !range || (axes[i].at[r] !== null && axes[i].at[r] >= range[0] && axes[i].at[r] <= range[1]));
      p.classList.toggle("out", !inside);
      if (inside) kept++;
    });
    node.dataset.kept = String(kept);
    node.dispatchEvent(new CustomEvent("parcoords-filter", { bubbles: true, detail: { kept } }));
  };
  axes.forEach((a, i) => {
    const g = svgEl("g", { class: "axis", "data-key": a.key, transform: `translate(${ax(i).toFixed(1)},0)` });
    g.append(svgEl("line", { x1: 0, x2: 0, y1: pad.t, y2: H - pad.b }));
    g.append(svgEl("text", { class: "axis-title", x: 0, y: pad.t - 12, "text-anchor": "middle" }, a.label));
    for (const [at, text] of a.ticks) {
      g.append(svgEl("text", { class: "tick", x: -4, y: ay(at) + 3, "text-anchor": "end" }, text));
    }
    const brush = svgEl("rect", { class: "brush", x: -2, width: 4, y: 0, height: 0, visibility: "hidden" });
    const hit = svgEl("rect", { class: "hit", x: -10, width: 20, y: pad.t, height: H - pad.t - pad.b });
    g.append(brush, hit);
    hit.addEventListener("pointerdown", (ev) => {
      const box = svg.getBoundingClientRect(), scale = H / box.height;
      const y0 = Math.min(H - pad.b, Math.max(pad.t, (ev.clientY - box.top) * scale));
      hit.setPointerCapture(ev.pointerId);
      let moved = false;
      const move = (e) => {
        const y1 = Math.min(H - pad.b, Math.max(pad.t, (e.clientY - box.top) * scale));
        const top = Math.min(y0, y1), bottom = Math.max(y0, y1);
        moved = bottom - top > 2;
        Object.entries({ y: top, height: bottom - top, visibility: moved ? "visible" : "hidden" }).forEach(([k, v]) => brush.setAttribute(k, String(v)));
        // a few pixels of slack: a drag that starts just inside an axis end keeps its values
        const v = (y) => (H - pad.b - y) / (H - pad.t - pad.b), slack = 4 / (H - pad.t - pad.b);
        ranges[i] = moved ? [v(bottom) - slack, v(top) + slack] : null;
        filter();
      };
      const up = (e) => {
        hit.removeEventListener("pointermove", move);
        hit.removeEventListener("pointerup", up);
        if (!moved) { ranges[i] = null; brush.setAttribute("visibility", "hidden"); filter(); } else move(e);
      };
      hit.addEventListener("pointermove", move);
      hit.addEventListener("pointerup", up);
    });
    svg.append(g);
  });
  // the colour scale
  const grad = svgEl("linearGradient", { id: `pc-grad-${Math.random().toString(36).slice(2)}`, x1: 0, x2: 0, y1: 1, y2: 0 });
  VIRIDIS.forEach((c, k) => grad.append(svgEl("stop", { offset: k / (VIRIDIS.length - 1), "stop-color": c })));
  const defs = svgEl("defs", {});
  defs.append(grad);
  svg.prepend(defs);
  const cx = W - pad.r + 60;
  svg.append(svgEl("rect", { class: "colorbar", x: cx, y: pad.t, width: 10, height: H - pad.t - pad.b, fill: `url(#${grad.id})` }));
  svg.append(svgEl("text", { class: "tick", x: cx + 14, y: pad.t + 8 }, colorAxis.ticks[colorAxis.ticks.length - 1][1]));
  svg.append(svgEl("text", { class: "tick", x: cx + 14, y: H - pad.b }, colorAxis.ticks[0][1]));
  svg.append(svgEl("text", { class: "axis-title", x: cx + 5, y: pad.t - 12, "text-anchor": "middle" }, colorAxis.label));
  node.append(svg);
  node.dataset.drawn = "parcoords";
  node.dataset.runs = String(data.runs.length);
  node.dataset.color = colorKey;
  filter();
  node.dispatchEvent(new CustomEvent("chart-drawn", { bubbles: true }));
  return { dims: axes.map((a) => a.key), kept: () => paths.filter((p) => !p.classList.contains("out")).map((p) => p.dataset.run) };
}

// A scatter of runs: `x` any column (numbers or categories), `y` a column (a metric
// summary, usually); hover names the run.
export async function drawScatter(node, data, { x, y }) {
  const Plotly = await loadPlotly();
  const byKey = new Map(data.columns.map((c) => [c.key, c]));
  const rows = data.runs.filter((r) => r.values[x] !== undefined && r.values[x] !== null
    && typeof r.values[y] === "number");
  node.dataset.points = String(rows.length);
  const trace = {
    type: "scatter", mode: "markers",
    x: rows.map((r) => r.values[x]), y: rows.map((r) => r.values[y]),
    text: rows.map((r) => r.label), customdata: rows.map((r) => r.id),
    marker: { size: 9, color: "#2f5bd3", opacity: 0.8 },
    hovertemplate: "%{text}<br>%{x}, %{y:.4g}<extra></extra>",
  };
  const layout = baseLayout({
    hovermode: "closest",
    xaxis: { title: { text: byKey.get(x)?.label || x, font: { size: 10 } },
      type: isNumeric(data, x) ? "linear" : "category" },
    yaxis: { title: { text: byKey.get(y)?.label || y, font: { size: 10 } } },
  });
  await Plotly.react(node, [trace], layout, CONFIG);
  node.dataset.drawn = "scatter";
  node.dispatchEvent(new CustomEvent("chart-drawn", { bubbles: true }));
  return trace;
}

// Fill a parcoords_panel card (templates/_hparams.html): its colour choice (metric
// summaries), the chart, and a note that follows the dragged ranges. `onColor(key)` is
// called when the user picks another colour. Returns what drawParcoords returns.
export function mountParcoords(card, data, { color = "", dims, onColor } = {}) {
  const pick = card.querySelector(".panel-color"), chart = card.querySelector(".panel-chart");
  const note = card.querySelector(".panel-note");
  const metrics = data.columns.filter((c) => c.key.startsWith("metric:"));
  pick.replaceChildren(new Option("auto", ""), ...metrics.map((c) => new Option(`metric · ${c.label}`, c.key)));
  pick.value = color;
  if (!card.dataset.mounted) {
    card.dataset.mounted = "1";
    pick.addEventListener("change", () => {
      mountParcoords(card, card.hparams, { color: pick.value, dims: card.hparamDims, onColor: card.onColor });
      card.onColor?.(pick.value);
    });
    chart.addEventListener("parcoords-filter", (ev) => {
      const total = chart.dataset.runs;
      note.textContent = ev.detail.kept === Number(total)
        ? `${total} runs · drag along an axis to keep a range, click it to clear`
        : `${ev.detail.kept} of ${total} runs inside the dragged ranges`;
    });
  }
  Object.assign(card, { hparams: data, hparamDims: dims, onColor });
  const drawn = drawParcoords(chart, data, { dims, color });
  if (!drawn) note.textContent = "";
  return drawn;
}
