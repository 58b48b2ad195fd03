// Shared helpers of the pages: JSON fetch, formatting, status chips, bounded polling.

// `signal`: an AbortSignal that cancels the request (the server stops its work then).
export async function getJSON(url, signal = undefined) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, signal });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error.message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return response.json();
}

export function pageData(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

export function artifactUrl(runId, path, params) {
  const quoted = path.split("/").map(encodeURIComponent).join("/");
  const url = `/api/v1/runs/${encodeURIComponent(runId)}/artifacts/${quoted}`;
  return params ? `${url}?${new URLSearchParams(params)}` : url;
}

// The rules of runtrack/_format.py duration_text (tests/test_format.py runs both).
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) {
    const short = seconds >= 10 ? seconds.toFixed(0) : seconds.toFixed(1).replace(/\.0$/, "");
    return `${short} s`;
  }
  const s = Math.floor(seconds), p = (n) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m ${p(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${p(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function formatWhen(ts) {
  if (!ts) return "";
  const d = new Date(ts * 1000), p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// The twin of runtrack._format.format_number (tests/test_format.py runs both): empty for
// null, True/False, nan/inf/-inf, "0" for either zero; whole numbers below 1e15 with
// thousands separators; else 4 significant digits from 0.001 to 1e15 (at least to the
// unit), exponent form (1.5e-5) beyond.
export function formatNumber(v, empty = "—") {
  if (v === null || v === undefined) return empty;
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v !== "number") return String(v);
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (v === 0) return "0";
  const size = Math.abs(v);
  if (size >= 1e15 || size < 1e-3) {
    const [mantissa, exponent] = v.toExponential(3).split("e");
    return `${mantissa.replace(/\.?0+$/, "")}e${Number(exponent)}`;
  }
  if (Number.isInteger(v) || size >= 1000) return grouped(v.toFixed(0));
  return grouped(String(Number(v.toPrecision(4))));
}

function grouped(text) {
  const [whole, fraction] = text.split(".");
  const digits = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return fraction === undefined ? digits : `${digits}.${fraction}`;
}

export function setChip(chip, status) {
  if (!chip || chip.dataset.status === status) return false;
  chip.dataset.status = status;
  chip.className = `chip st-${status.toLowerCase()}`;
  chip.textContent = status;
  return true;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

// Call `tick` every `ms` until it returns false; errors are shown in the console once
// and polling goes on (a restarting server must not freeze the page).
export function poll(tick, ms) {
  let stopped = false, warned = false;
  const step = async () => {
    if (stopped) return;
    let again = true;
    try { again = (await tick()) !== false; } catch (err) {
      if (!warned) { console.warn("runtrack: polling failed:", err.message); warned = true; }
    }
    if (again && !stopped) setTimeout(step, ms);
  };
  setTimeout(step, ms);
  return () => { stopped = true; };
}

let plotlyPromise = null;
// Plotly is 4.8 MB: pages load it when they first draw a chart, not at first paint, and
// fetch their chart data meanwhile.
export function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyPromise) {
    plotlyPromise = new Promise((resolve, reject) => {
      const src = document.querySelector('meta[name="runtrack-plotly"]')?.content || "/vendor/plotly.min.js";
      const existing = document.querySelector(`script[src="${src}"]`);
      const script = existing || el("script", { src });
      script.addEventListener("load", () => resolve(window.Plotly));
      script.addEventListener("error", () => reject(new Error("cannot load plotly.min.js")));
      if (!existing) document.head.append(script);
    });
  }
  return plotlyPromise;
}
