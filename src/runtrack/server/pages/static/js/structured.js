// Drawing of the structured metric kinds (Azure ML's schema documents):
// confusion_matrix -> heatmap, accuracy_table -> ROC curves, residuals -> histogram,
// predictions -> binned truth vs prediction; anything else -> its JSON.
import { el } from "./common.js";
import { CONFIG, PALETTE, baseLayout } from "./charts.js";

function confusion(node, doc, Plotly) {
  const data = doc.data || doc;
  const matrix = data.matrix || [];
  const labels = (data.class_labels || matrix.map((_, i) => String(i))).map(String);
  const max = Math.max(1, ...matrix.flat());
  const annotations = [];
  matrix.forEach((row, i) => row.forEach((v, j) => annotations.push({ x: labels[j], y: labels[i], text: String(v),
    showarrow: false, font: { size: 12, color: v > max / 2 ? "#fff" : "#1f2933" } })));
  return Plotly.newPlot(node, [{ z: matrix, x: labels, y: labels, type: "heatmap",
    colorscale: [[0, "#f4f6fb"], [1, "#2f5bd3"]], showscale: false,
    hovertemplate: "true %{y}<br>predicted %{x}<br>%{z}<extra></extra>" }],
  baseLayout({ annotations, margin: { l: 64, r: 12, t: 8, b: 48 },
    xaxis: { title: { text: "predicted", font: { size: 10 } }, type: "category" },
    yaxis: { title: { text: "true", font: { size: 10 } }, type: "category", autorange: "reversed" } }), CONFIG);
}

function accuracy(node, doc, Plotly) {
  const data = doc.data || doc;
  const labels = data.class_labels || [];
  const tables = data.probability_tables || [];
  const traces = tables.map((table, k) => {
    const fpr = [], tpr = [];
    for (const [tp, fp, tn, fn] of table) {
      tpr.push(tp + fn ? tp / (tp + fn) : 0);
      fpr.push(fp + tn ? fp / (fp + tn) : 0);
    }
    return { x: fpr, y: tpr, name: String(labels[k] ?? k), type: "scatter", mode: "lines",
      line: { color: PALETTE[k % PALETTE.length], width: 1.6 } };
  });
  traces.push({ x: [0, 1], y: [0, 1], mode: "lines", line: { color: "#c5cad3", dash: "dot", width: 1 }, hoverinfo: "skip", showlegend: false });
  return Plotly.newPlot(node, traces, baseLayout({ showlegend: true,
    legend: { x: 0.98, y: 0.04, xanchor: "right", yanchor: "bottom", bgcolor: "rgba(255,255,255,.8)", font: { size: 10 } },
    xaxis: { title: { text: "false positive rate", font: { size: 10 } }, range: [0, 1] },
    yaxis: { title: { text: "true positive rate", font: { size: 10 } }, range: [0, 1] } }), CONFIG);
}

function residuals(node, doc, Plotly) {
  const data = doc.data || doc;
  const edges = data.bin_edges || [];
  const counts = data.bin_counts || [];
  const centers = counts.map((_, i) => (edges[i] + edges[i + 1]) / 2);
  return Plotly.newPlot(node, [{ x: centers, y: counts, type: "bar", marker: { color: PALETTE[0] } }],
    baseLayout({ bargap: 0.05, xaxis: { title: { text: "residual", font: { size: 10 } } } }), CONFIG);
}

function predictions(node, doc, Plotly) {
  const data = doc.data || doc;
  const edges = data.bin_edges || [];
  const avg = data.bin_averages || [];
  const centers = avg.map((_, i) => (edges[i] !== undefined && edges[i + 1] !== undefined ? (edges[i] + edges[i + 1]) / 2 : i));
  return Plotly.newPlot(node, [
    { x: centers, y: avg, type: "scatter", mode: "lines+markers", name: "mean prediction",
      error_y: { type: "data", array: data.bin_errors || [], visible: true, color: "#9aa4b2" }, line: { color: PALETTE[1] } },
    { x: centers, y: centers, mode: "lines", name: "ideal", line: { color: "#c5cad3", dash: "dot" } },
  ], baseLayout({ xaxis: { title: { text: "true value (bin)", font: { size: 10 } } } }), CONFIG);
}

function json(node, doc) {
  node.replaceWith(el("pre", { class: "json", text: JSON.stringify(doc, null, 2).slice(0, 20000) }));
}

export const STRUCTURED = { confusion_matrix: confusion, accuracy_table: accuracy, residuals, predictions, json };
