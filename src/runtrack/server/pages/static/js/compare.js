// The compare workspace: the selected runs overlaid in a main chart (several metrics on
// y, a chosen x axis, log scale, smoothing, grouping by a tag or property with mean and
// min-max band), plus panels added at will (one metric each, parallel coordinates,
// scatter). The whole workspace lives in the URL (see STATE_KEYS) and can be saved by
// name per experiment. Line data comes min/max-downsampled; zooming fetches finer data.
import { LEGEND_MAX, TraceChart } from "./charts.js";
import { el, getJSON } from "./common.js";
import { drawScatter, loadHparams, mountParcoords } from "./hparams.js";

// URL parameters of the workspace (the runs table's own parameters are left alone)
export const STATE_KEYS = ["cmp", "sel", "cm", "xaxis", "logy", "smooth", "group", "panel"];

export class ComparePanel {
  constructor(node, metricNames) {
    this.node = node;
    this.metricNames = metricNames;
    this.runs = [];
    this.chart = null;
    this.panels = [];
    this.hparams = null; // {key, promise}
    this.matching = false; // the runs are "all runs matching the filter" (set by the table)
    if (!node) return;
    this.chartNode = node.querySelector("#compare-chart");
    this.note = node.querySelector("#compare-note");
    this.panelsNode = node.querySelector("#panels");
    node.querySelector(".compare-controls").addEventListener("change", (ev) => {
      if (ev.target.id === "add-panel" || ev.target.id === "saved-views") return;
      this.draw();
    });
    node.querySelector("#smoothing").addEventListener("input", (ev) => {
      node.querySelector("#smoothing-value").textContent = ev.target.value;
    });
    node.querySelector("#compare-close").addEventListener("click", () => this.hide());
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !node.hidden) this.hide();
    });
    const add = node.querySelector("#add-panel");
    add?.addEventListener("change", () => {
      if (!add.value) return;
      this.addPanel(add.value);
      add.value = "";
      this.saveState();
    });
  }

  hide() {
    this.node.hidden = true;
    this.saveState();
  }

  metrics() {
    return [...this.node.querySelectorAll("#metric-picks input:checked")].map((i) => i.value);
  }

  // -- state in the URL
  restore(params) {
    const cm = params.getAll("cm");
    if (cm.length) {
      for (const box of this.node.querySelectorAll("#metric-picks input")) box.checked = cm.includes(box.value);
    }
    const set = (id, value) => {
      const input = this.node.querySelector(id);
      if (input && value !== null && [...(input.options || [{ value }])].some((o) => o.value === value)) input.value = value;
    };
    set("#x-axis", params.get("xaxis"));
    set("#group-by", params.get("group"));
    if (params.get("logy") === "1") this.node.querySelector("#log-y").checked = true;
    const smooth = params.get("smooth");
    if (smooth) {
      this.node.querySelector("#smoothing").value = smooth;
      this.node.querySelector("#smoothing-value").textContent = smooth;
    }
    for (const spec of params.getAll("panel")) this.addPanel(spec);
  }

  state() {
    const out = new URLSearchParams();
    if (!this.node || this.node.hidden) return out;
    out.set("cmp", "1");
    // every run matching the table's filter: "all" (the ids are fetched again on load)
    if (this.matching) out.append("sel", "all");
    else for (const r of this.runs) out.append("sel", r.id);
    for (const m of this.metrics()) out.append("cm", m);
    const x = this.node.querySelector("#x-axis").value;
    if (x !== "step") out.set("xaxis", x);
    if (this.node.querySelector("#log-y").checked) out.set("logy", "1");
    const smooth = this.node.querySelector("#smoothing").value;
    if (Number(smooth)) out.set("smooth", smooth);
    const group = this.node.querySelector("#group-by")?.value;
    if (group) out.set("group", group);
    for (const p of this.panels) out.append("panel", p.spec());
    return out;
  }

  saveState() {
    const params = new URLSearchParams(location.search);
    for (const k of STATE_KEYS) params.delete(k);
    for (const [k, v] of this.state()) params.append(k, v);
    const query = params.toString();
    history.replaceState(null, "", `${location.pathname}${query ? `?${query}` : ""}`);
  }

  show(runs) {
    if (!this.node) return;
    this.runs = runs;
    this.node.hidden = runs.length === 0;
    if (runs.length) this.draw();
    else this.saveState();
  }

  // Properties, tags and metric summaries of the selected runs (one fetch per selection).
  rows() {
    const key = this.runs.map((r) => r.id).join(" ");
    if (!this.hparams || this.hparams.key !== key) {
      this.hparams = { key, promise: loadHparams(this.runs.map((r) => r.id)) };
    }
    return this.hparams.promise;
  }

  async groups() {
    const column = this.node.querySelector("#group-by")?.value;
    if (!column) return null;
    const data = await this.rows();
    const label = column.replace(/^(tag|prop):/, "");
    return new Map(data.runs.map((r) => {
      const v = r.values[column];
      return [r.id, v === undefined || v === null ? `${label}: (none)` : `${label}=${v}`];
    }));
  }

  async draw() {
    this.saveState();
    const metrics = this.metrics();
    if (!this.runs.length) return;
    for (const p of this.panels) p.draw();
    if (!metrics.length) { this.note.textContent = "Pick at least one metric."; return; }
    const labels = new Map(this.runs.map((r) => [r.id, r.label]));
    const multi = metrics.length > 1;
    let group = null;
    try { group = await this.groups(); } catch (err) { this.note.textContent = `Cannot group: ${err.message}`; return; }
    const opts = {
      x: this.node.querySelector("#x-axis").value,
      logY: this.node.querySelector("#log-y").checked,
      smoothing: Number(this.node.querySelector("#smoothing").value),
      label: (t) => (multi ? `${labels.get(t.run_id) || t.run_label} · ${t.metric}` : labels.get(t.run_id) || t.run_label),
      group,
    };
    const query = { run: this.runs.map((r) => r.id), metric: metrics };
    if (!this.chart) this.chart = new TraceChart(this.chartNode, query, opts);
    else Object.assign(this.chart, { query, opts, range: null });
    this.chart.draw().then((payload) => {
      if (!payload) return; // superseded by a later draw
      const missing = payload.missing.length;
      const series = group ? `${this.chartNode.dataset.groups} groups of ${payload.traces.length} series` : `${payload.traces.length} series`;
      this.note.textContent = series +
        (missing ? ` · ${missing} run/metric pairs have no data` : "") +
        (!group && payload.traces.length > LEGEND_MAX ? " · hover a line for its run" : "") +
        " · drag to zoom (finer data is fetched), double-click to reset";
    }).catch((err) => { this.note.textContent = `Cannot draw: ${err.message}`; });
  }

  // -- extra panels: "line:<metric>", "parcoords", "scatter:<x column>|<y column>"
  addPanel(spec) {
    if (!this.panelsNode) return;
    const [kind, ...rest] = spec.split(":");
    const arg = rest.join(":");
    let panel = null;
    if (kind === "line" && arg) panel = new LinePanel(this, arg);
    else if (kind === "parcoords") panel = new ParcoordsPanel(this, arg);
    else if (kind === "scatter") panel = new ScatterPanel(this, arg);
    if (!panel) return;
    this.panels.push(panel);
    this.panelsNode.append(panel.card);
    panel.card.querySelector(".panel-remove").addEventListener("click", () => {
      this.panels = this.panels.filter((p) => p !== panel);
      panel.card.remove();
      this.saveState();
    });
    if (this.runs.length && !this.node.hidden) panel.draw();
  }
}

function card(kind, title, ...controls) {
  return el("div", { class: `panel card panel-${kind}`, "data-kind": kind },
    el("div", { class: "panel-head" }, el("b", { text: title }), ...controls,
      el("button", { class: "ghost panel-remove", title: "Remove this panel", text: "×", type: "button" })),
    el("div", { class: "panel-chart chart-md" }),
    el("div", { class: "panel-note muted small" }));
}

class LinePanel {
  constructor(owner, metric) {
    this.owner = owner; this.metric = metric;
    this.card = card("line", metric);
    this.card.dataset.metric = metric;
    this.chartNode = this.card.querySelector(".panel-chart");
    this.chart = null;
  }

  spec() { return `line:${this.metric}`; }

  async draw() {
    const o = this.owner, note = this.card.querySelector(".panel-note");
    let group = null;
    try { group = await o.groups(); } catch (err) { note.textContent = `Cannot group: ${err.message}`; return; }
    const labels = new Map(o.runs.map((r) => [r.id, r.label]));
    const opts = {
      x: o.node.querySelector("#x-axis").value, logY: o.node.querySelector("#log-y").checked,
      smoothing: Number(o.node.querySelector("#smoothing").value),
      label: (t) => labels.get(t.run_id) || t.run_label, group,
    };
    const query = { run: o.runs.map((r) => r.id), metric: [this.metric] };
    if (!this.chart) this.chart = new TraceChart(this.chartNode, query, opts);
    else Object.assign(this.chart, { query, opts, range: null });
    this.chart.draw().then((payload) => {
      if (payload) note.textContent = payload.missing.length ? `${payload.missing.length} runs have no ${this.metric}` : "";
    }).catch((err) => { note.textContent = `Cannot draw: ${err.message}`; });
  }
}

class ParcoordsPanel {
  constructor(owner, color) {
    this.owner = owner;
    this.color = color || "";
    const colorPick = el("select", { class: "panel-color", "aria-label": "Colour lines by" });
    this.card = card("parcoords", "Parallel coordinates", el("label", { class: "small", text: "colour " }, colorPick));
  }

  spec() { return this.color ? `parcoords:${this.color}` : "parcoords"; }

  async draw() {
    try {
      const data = await this.owner.rows();
      mountParcoords(this.card, data, { color: this.color,
        onColor: (key) => { this.color = key; this.owner.saveState(); } });
    } catch (err) { this.card.querySelector(".panel-note").textContent = `Cannot draw: ${err.message}`; }
  }
}

class ScatterPanel {
  constructor(owner, arg) {
    this.owner = owner;
    [this.x, this.y] = (arg || "|").split("|");
    this.xPick = el("select", { class: "panel-x", "aria-label": "x" });
    this.yPick = el("select", { class: "panel-y", "aria-label": "y" });
    this.card = card("scatter", "Scatter", el("label", { class: "small", text: "x " }, this.xPick),
      el("label", { class: "small", text: "y " }, this.yPick));
    const changed = () => { this.x = this.xPick.value; this.y = this.yPick.value; this.draw(); owner.saveState(); };
    this.xPick.addEventListener("change", changed);
    this.yPick.addEventListener("change", changed);
    this.chartNode = this.card.querySelector(".panel-chart");
  }

  spec() { return `scatter:${this.x || ""}|${this.y || ""}`; }

  async draw() {
    const note = this.card.querySelector(".panel-note");
    try {
      const data = await this.owner.rows();
      const metrics = data.columns.filter((c) => c.key.startsWith("metric:"));
      const others = data.columns.filter((c) => !c.key.startsWith("metric:"));
      if (!this.x) this.x = (others[0] || metrics[0])?.key || "";
      if (!this.y) this.y = (metrics.find((c) => c.key.endsWith(":last")) || metrics[0])?.key || "";
      fillColumns(this.xPick, data.columns, this.x);
      fillColumns(this.yPick, data.columns, this.y);
      if (!this.x || !this.y) { note.textContent = "No columns to plot."; return; }
      await drawScatter(this.chartNode, data, { x: this.x, y: this.y });
      note.textContent = `${this.chartNode.dataset.points} of ${data.runs.length} runs have both values`;
      this.owner.saveState();
    } catch (err) { note.textContent = `Cannot draw: ${err.message}`; }
  }
}

function fillColumns(select, columns, value, emptyLabel) {
  const options = [...(emptyLabel ? [el("option", { value: "", text: emptyLabel })] : []),
    ...columns.map((c) => el("option", { value: c.key, text: `${c.key.split(":")[0]} · ${c.label}` }))];
  select.replaceChildren(...options);
  select.value = value || "";
}

// -- saved views of an experiment: the workspace's query string, kept on the server
export async function savedViews(experimentId) {
  return (await getJSON(`/api/v1/views/experiments/${encodeURIComponent(experimentId)}/saved-views`)).views;
}

export async function postJSON(url, body, method = "POST") {
  const response = await fetch(url, {
    method, headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = await response.json().catch(() => null);
  if (!response.ok) throw new Error(payload?.error?.message || `${response.status} ${response.statusText}`);
  return payload;
}
