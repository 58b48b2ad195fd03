// The sweep page: a parallel-coordinates chart, one line per trial from its
// hyperparameters to its best primary metric value (the line's colour), best trials
// brightest. Clicking nothing is needed: Plotly's parcoords lets one brush each axis.
import { loadPlotly, pageData } from "./common.js";

const sweep = pageData("sweep-data");
const node = document.getElementById("sweep-parcoords");

function dimension(d) {
  const dim = { label: d.name, values: d.values };
  if (!d.numeric) {
    dim.tickvals = d.labels.map((_, i) => i);
    dim.ticktext = d.labels;
    dim.range = [-0.5, Math.max(d.labels.length - 0.5, 0.5)];
  }
  return dim;
}

async function draw() {
  if (!node || !sweep) return;
  const chart = sweep.chart;
  const metric = sweep.primary_metric;
  const Plotly = await loadPlotly();
  const maximize = metric.goal === "maximize";
  const trace = {
    type: "parcoords",
    line: {
      color: chart.metric,
      colorscale: "Viridis",
      reversescale: !maximize, // the best trials are yellow either way
      showscale: true,
      colorbar: { title: { text: metric.name } },
    },
    dimensions: [
      ...chart.dimensions.map(dimension),
      { label: metric.name, values: chart.metric },
    ],
  };
  await Plotly.newPlot(node, [trace], { margin: { l: 60, r: 60, t: 50, b: 30 } },
    { displaylogo: false, responsive: true });
  node.dataset.lines = String(chart.trial_ids.length);
  node.dataset.ready = "true";
}

draw();
