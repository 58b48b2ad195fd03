// A run's page: tabs (in the URL hash), live status, and the lazily built tabs.
import { formatDuration, formatWhen, getJSON, pageData, poll, setChip } from "./common.js";
import { MetricsTab } from "./run_metrics.js";
import { OutputsTab } from "./outputs.js";
import { bindImages } from "./images.js";
import { postJSON } from "./compare.js";

const page = pageData("run-data");
const run = page.run;
const tabs = { metrics: new MetricsTab(page), outputs: new OutputsTab(page) };
const built = new Set();

function showTab(name) {
  if (!document.getElementById(`tab-${name}`)) name = "overview";
  for (const link of document.querySelectorAll(".tabs a")) {
    link.classList.toggle("active", link.dataset.tab === name);
    link.setAttribute("aria-selected", String(link.dataset.tab === name));
  }
  for (const section of document.querySelectorAll("section.tab")) {
    section.hidden = section.id !== `tab-${name}`;
  }
  if (tabs[name] && !built.has(name)) {
    built.add(name);
    tabs[name].build();
  } else if (tabs[name] && tabs[name].shown) {
    tabs[name].shown();
  }
}

bindImages(run.id);
window.addEventListener("hashchange", () => showTab(location.hash.slice(1)));
showTab(location.hash.slice(1) || "overview");

// -- live status: poll while the run is not finished
let terminal = run.terminal;
if (!terminal) {
  poll(async () => {
    const found = (await getJSON(`/api/v1/views/status?run=${encodeURIComponent(run.id)}`)).runs[0];
    if (!found) return false;
    for (const chip of document.querySelectorAll("#run-status .chip, #ov-status .chip")) setChip(chip, found.status);
    document.getElementById("ov-duration").textContent = formatDuration(found.duration);
    document.getElementById("ov-start").textContent = formatWhen(found.start_time);
    document.getElementById("ov-end").textContent = formatWhen(found.end_time);
    for (const tab of Object.values(tabs)) tab.runStatus?.(found);
    if (found.terminal && !terminal) {
      terminal = true;
      if (found.error) location.reload();
      return false;
    }
    return true;
  }, 1000);
}

// -- archive / unarchive (hidden for read-only tokens, as the runs table's actions)
const archiveButton = document.getElementById("archive-run");
if (archiveButton) {
  getJSON("/api/v1/views/access").then((a) => { archiveButton.hidden = !a.write; })
    .catch(() => { archiveButton.hidden = true; });
  archiveButton.addEventListener("click", async () => {
    const archived = archiveButton.dataset.archived === "true";
    const action = archived ? "unarchive" : "archive";
    const note = document.getElementById("archive-note");
    try {
      await postJSON("/api/v1/views/runs/actions", { action, runs: [run.id] });
    } catch (err) { note.textContent = `Cannot ${action}: ${err.message}`; return; }
    archiveButton.dataset.archived = String(!archived);
    archiveButton.textContent = archived ? "Archive" : "Unarchive";
    document.getElementById("run-archived").hidden = archived;
    note.textContent = archived ? "" : "Hidden from the runs tables.";
  });
}
