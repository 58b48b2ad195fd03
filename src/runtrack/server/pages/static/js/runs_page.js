// The runs table: live status, selection (this page's ticks, or every run matching the
// filter), column picker, experiment filter, compare, run actions.
import { formatDuration, formatNumber, getJSON, pageData, poll, setChip } from "./common.js";
import { ComparePanel, postJSON, savedViews } from "./compare.js";
import { setupColumns } from "./columns.js";

const data = pageData("table-data") || { metric_names: [] };
const table = document.getElementById("runs-table");
const actions = document.getElementById("run-actions");
let canWrite = false; // set from /api/v1/views/access
const ACTION_BATCH = 500; // runs per call of /api/v1/views/runs/actions (its limit)

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
  const head = fresh.querySelector(".page-head h1"), shownHead = document.querySelector(".page-head h1");
  if (head && shownHead) shownHead.replaceWith(document.adoptNode(head));
  for (const sel of [".pager .muted", "#archived-toggle"]) {
    const node = document.querySelector(sel), now = fresh.querySelector(sel);
    if (node && now) node.replaceWith(document.adoptNode(now));
  }
  selectionChanged();
}

let quiet = 0;
async function refresh() {
  // finished pages look for new runs every few seconds, live ones every second
  if (!liveRows().length && ++quiet % 3) return true;
  const payload = await getJSON(data.twin);
  data.total = payload.total;
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

// "Select all N runs matching the filter": the runs of every page, fetched from
// /api/v1/views/run-ids with the table's own query (null: the ticks of this page rule).
let matching = null;
const banner = document.getElementById("select-matching");

function selected() {
  if (matching) return matching.runs;
  return rows().filter((tr) => tr.querySelector(".pick-run").checked).map((tr) => ({
    id: tr.dataset.run,
    label: `${tr.querySelector(".name a").textContent.trim()} #${tr.cells[2].textContent.trim()}`,
  }));
}

async function selectMatching() {
  const url = new URL(data.twin, location.origin);
  url.pathname = "/api/v1/views/run-ids";
  const answer = await getJSON(url.pathname + url.search);
  matching = answer;
  for (const tr of rows()) tr.querySelector(".pick-run").checked = true;
  const all = document.getElementById("select-all");
  if (all) all.checked = true;
}

function showBanner(picked) {
  if (!banner) return;
  const text = banner.querySelector(".text"), btn = banner.querySelector("button");
  const onPage = rows().length;
  if (matching) {
    const capped = matching.total > matching.runs.length;
    text.textContent = capped
      ? `The first ${formatNumber(matching.runs.length)} of ${formatNumber(matching.total)} runs matching the filter are selected (at most ${formatNumber(matching.limit)} at once).`
      : `All ${formatNumber(matching.runs.length)} runs matching the filter are selected.`;
    btn.textContent = "Clear selection";
    btn.dataset.do = "clear";
    banner.hidden = false;
  } else if (onPage && picked.length === onPage && (data.total || 0) > onPage) {
    text.textContent = `All ${onPage} runs on this page are ticked.`;
    btn.textContent = `Select all ${formatNumber(data.total)} runs matching the filter`;
    btn.dataset.do = "all";
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
}

banner?.querySelector("button").addEventListener("click", async (ev) => {
  if (ev.target.dataset.do === "clear") {
    matching = null;
    for (const tr of rows()) tr.querySelector(".pick-run").checked = false;
    const all = document.getElementById("select-all");
    if (all) all.checked = false;
  } else {
    try { await selectMatching(); } catch (err) {
      banner.querySelector(".text").textContent = `Cannot select: ${err.message}`;
      return;
    }
  }
  selectionChanged();
});

function selectionChanged() {
  panel.matching = Boolean(matching);
  const picked = selected();
  showBanner(picked);
  button.querySelector(".n").textContent = String(picked.length);
  button.disabled = picked.length === 0;
  if (actions) {
    actions.querySelector(".n").textContent = String(picked.length);
    actions.hidden = !canWrite || picked.length === 0;
  }
  diffButton.disabled = picked.length < 2 || picked.length > 10;
  for (const tr of rows()) tr.classList.toggle("picked", tr.querySelector(".pick-run").checked);
  if (panel.node && !panel.node.hidden) panel.show(picked);
}

if (table) {
  table.addEventListener("change", (ev) => {
    matching = null; // a tick changed by hand: the ticks of this page rule again
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

// -- the workspace from the URL: ticked runs, compare panel, panels (a saved view too)
const params = new URLSearchParams(location.search);
const picks = new Set(params.getAll("sel"));
if (picks.size && !picks.has("all")) {
  for (const tr of rows()) tr.querySelector(".pick-run").checked = picks.has(tr.dataset.run);
}
if (panel.node) panel.restore(params);
selectionChanged();
(picks.has("all") && table ? selectMatching() : Promise.resolve()).then(() => {
  selectionChanged();
  if (params.get("cmp") === "1" && selected().length) panel.show(selected());
}).catch((err) => { if (banner) { banner.hidden = false; banner.querySelector(".text").textContent = `Cannot select: ${err.message}`; } });

// -- saved views (experiment pages): ?view=<name> opens one
const views = document.querySelector(".saved-views");
if (views) {
  const experimentId = views.dataset.experiment;
  const base = `/api/v1/views/experiments/${encodeURIComponent(experimentId)}/saved-views`;
  const pick = document.getElementById("saved-views");
  const nameInput = document.getElementById("view-name");
  const remove = document.getElementById("delete-view");
  const fill = (list) => {
    pick.replaceChildren(new Option("Saved views…", ""), ...list.map((v) => new Option(v.name, v.name)));
    for (const opt of pick.options) {
      const view = list.find((v) => v.name === opt.value);
      if (view) opt.dataset.query = view.query;
    }
    pick.value = params.get("view") || "";
    remove.disabled = !pick.value;
  };
  const open = (name, list) => {
    const view = list.find((v) => v.name === name);
    if (!view) return false;
    const query = new URLSearchParams(view.query);
    query.set("view", name);
    location.replace(`${location.pathname}?${query}`);
    return true;
  };
  savedViews(experimentId).then((list) => {
    const wanted = params.get("view");
    // ?view=<name> alone (a shared link) opens the view's whole query
    if (wanted && [...params.keys()].every((k) => k === "view") && open(wanted, list)) return;
    fill(list);
    if (wanted && !list.some((v) => v.name === wanted)) {
      document.getElementById("compare-note").textContent = `No saved view named “${wanted}”.`;
    }
  }).catch((err) => console.warn("runtrack: saved views:", err.message));
  actOnPick(pick, () => {
    const query = new URLSearchParams(pick.selectedOptions[0].dataset.query || "");
    query.set("view", pick.value);
    location.assign(`${location.pathname}?${query}`);
  });
  document.getElementById("save-view").addEventListener("click", async () => {
    const name = nameInput.value.trim() || pick.value;
    if (!name) { nameInput.focus(); return; }
    const query = new URLSearchParams(location.search);
    query.delete("view"); query.delete("page");
    try {
      const answer = await postJSON(base, { name, query: query.toString() });
      params.set("view", name);
      query.set("view", name);
      history.replaceState(null, "", `${location.pathname}?${query}`);
      fill(answer.views);
      nameInput.value = "";
    } catch (err) { document.getElementById("compare-note").textContent = `Cannot save: ${err.message}`; }
  });
  remove.addEventListener("click", async () => {
    if (!pick.value || !confirm(`Delete the saved view “${pick.value}” for everyone?`)) return;
    try {
      const answer = await postJSON(`${base}/${encodeURIComponent(pick.value)}`, undefined, "DELETE");
      params.delete("view");
      fill(answer.views);
    } catch (err) { document.getElementById("compare-note").textContent = `Cannot delete: ${err.message}`; }
  });
}

// -- run actions on the ticked runs (hidden for read-only tokens)
getJSON("/api/v1/views/access").then((a) => { canWrite = a.write; selectionChanged(); })
  .catch(() => { canWrite = false; });
actions?.addEventListener("click", async (ev) => {
  const action = ev.target.dataset?.action;
  if (!action) return;
  const note = document.getElementById("action-note");
  const ids = selected().map((r) => r.id);
  const body = { action, runs: ids };
  if (action === "tag" || action === "untag") {
    const text = document.getElementById("action-tag").value.trim();
    if (!text) { note.textContent = "Type a tag: key or key=value."; return; }
    const [key, ...rest] = text.split("=");
    body.tags = { [key.trim()]: action === "tag" ? rest.join("=").trim() : null };
  } else if (action === "rename") {
    if (ids.length !== 1) { note.textContent = "Rename one run at a time."; return; }
    body.display_name = document.getElementById("action-name").value.trim();
    if (!body.display_name) { note.textContent = "Type the new display name."; return; }
  } else if (action === "delete" && !confirm(`Delete ${ids.length} run(s), their children and all their data?`)) {
    return;
  }
  note.textContent = "…";
  let done = 0;
  try {
    // the route takes at most ACTION_BATCH runs a call: a selection across pages goes in parts
    for (let i = 0; i < ids.length; i += ACTION_BATCH) {
      const part = ids.slice(i, i + ACTION_BATCH);
      await postJSON("/api/v1/views/runs/actions", { ...body, runs: part });
      done += part.length;
    }
    note.textContent = `${action}: ${ids.length} run(s) done`;
    if (matching && (action === "delete" || action === "archive" || action === "unarchive")) {
      matching = null; // the runs matching the filter changed
    }
    await replaceRows();
  } catch (err) { note.textContent = `Cannot ${action}: ${err.message}${done ? ` (${done} of ${ids.length} done)` : ""}`; }
});

setupColumns(table);
