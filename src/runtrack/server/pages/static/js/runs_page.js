// The runs table: live status, selection, column picker, experiment filter, compare.
import { formatDuration, formatNumber, getJSON, pageData, poll, setChip } from "./common.js";
import { ComparePanel } from "./compare.js";

const data = pageData("table-data") || { metric_names: [] };
const table = document.getElementById("runs-table");

// A select that acts on change: with the keyboard, arrow keys only move the choice and
// Enter acts; a pointer pick acts at once.
function actOnPick(select, act) {
  let keyed = false;
  select.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); if (select.value) act(); return; }
    if (ev.key.startsWith("Arrow") || ev.key === "Home" || ev.key === "End" || ev.key.length === 1) keyed = true;
  });
  select.addEventListener("pointerdown", () => { keyed = false; });
  select.addEventListener("change", () => { if (!keyed && select.value) act(); });
  select.addEventListener("blur", () => { keyed = false; });
}

const filter = document.getElementById("experiment-filter");
if (filter) {
  actOnPick(filter, () => {
    const target = new URL(filter.value, location.origin);
    const keep = new URLSearchParams(location.search);
    keep.delete("experiment"); keep.delete("page");
    target.search = keep.toString();
    location.assign(target.toString());
  });
}

const addColumn = document.getElementById("add-column");
if (addColumn) actOnPick(addColumn, () => addColumn.form.submit());

// -- live: while a run on this page is not finished, refresh its row from the JSON twin
function rows() { return table ? [...table.tBodies[0].rows] : []; }

function liveRows() { return rows().filter((tr) => tr.dataset.terminal !== "true"); }

// Runs that start while the page is open join it: when the twin's page of runs is not
// the one shown, the table body is fetched again (selections are kept).
async function replaceRows() {
  const html = await (await fetch(location.href, { headers: { Accept: "text/html" } })).text();
  const fresh = new DOMParser().parseFromString(html, "text/html");
  const body = fresh.querySelector("#runs-table tbody");
  if (!table || !body) { location.reload(); return; }
  const picked = new Set(selected().map((r) => r.id));
  table.tBodies[0].replaceWith(document.adoptNode(body));
  for (const tr of rows()) tr.querySelector(".pick-run").checked = picked.has(tr.dataset.run);
  for (const sel of [".page-head .count", ".pager .muted"]) {
    const node = document.querySelector(sel), now = fresh.querySelector(sel);
    if (node && now) node.textContent = now.textContent;
  }
  selectionChanged();
}

let quiet = 0;
async function refresh() {
  // finished pages look for new runs every few seconds, live ones every second
  if (!liveRows().length && ++quiet % 3) return true;
  const payload = await getJSON(data.twin);
  const shown = rows().map((tr) => tr.dataset.run).join(" ");
  if (payload.runs.map((r) => r.id).join(" ") !== shown) await replaceRows();
  const byId = new Map(payload.runs.map((r) => [r.id, r]));
  for (const tr of rows()) {
    const run = byId.get(tr.dataset.run);
    if (!run) continue;
    setChip(tr.querySelector(".chip"), run.status);
    tr.dataset.terminal = String(run.terminal);
    tr.querySelector(".duration").textContent = formatDuration(run.duration);
    for (const td of tr.querySelectorAll("td.val")) {
      td.textContent = formatNumber(run.values[td.dataset.key]);
    }
  }
  return true;
}

if (data.twin) poll(refresh, 1000);

// -- selection and compare panel
const button = document.getElementById("compare-btn");
const panel = new ComparePanel(document.getElementById("compare"), data.metric_names);

function selected() {
  return rows().filter((tr) => tr.querySelector(".pick-run").checked).map((tr) => ({
    id: tr.dataset.run,
    label: `${tr.querySelector(".name a").textContent.trim()} #${tr.cells[2].textContent.trim()}`,
  }));
}

function selectionChanged() {
  const picked = selected();
  button.querySelector(".n").textContent = String(picked.length);
  button.disabled = picked.length === 0;
  diffButton.disabled = picked.length < 2 || picked.length > 10;
  for (const tr of rows()) tr.classList.toggle("picked", tr.querySelector(".pick-run").checked);
  if (panel.node && !panel.node.hidden) panel.show(picked);
}

if (table) {
  table.addEventListener("change", (ev) => {
    if (ev.target.id === "select-all") {
      for (const box of table.querySelectorAll(".pick-run")) box.checked = ev.target.checked;
    }
    selectionChanged();
  });
}
button?.addEventListener("click", () => panel.show(selected()));
const diffButton = document.getElementById("diff-btn");
diffButton.addEventListener("click", () => {
  location.assign(`/diff?${new URLSearchParams(selected().map((r) => ["run", r.id]))}`);
});
