// Column management of the runs table: show/hide any column, move the added columns
// (metric, property, tag) left or right. Hidden columns and the added columns' order
// are kept per page (this browser's localStorage); a page opened without a query gets
// the added columns it had last time.
const STORE = `runtrack.columns:${location.pathname}`;

function load() {
  try { return JSON.parse(localStorage.getItem(STORE) || "{}"); } catch (_) { return {}; }
}

function save(state) {
  try { localStorage.setItem(STORE, JSON.stringify(state)); } catch (_) { /* storage off */ }
}

function goWithColumns(cols) {
  const params = new URLSearchParams(location.search);
  params.delete("col");
  for (const c of cols) params.append("col", c);
  params.delete("page");
  location.assign(`${location.pathname}?${params}`);
}

export function setupColumns(table) {
  const list = document.getElementById("columns-list");
  const params = new URLSearchParams(location.search);
  const state = load();
  const cols = params.getAll("col");
  // a bare visit gets back the columns added last time
  if (!location.search && Array.isArray(state.cols) && state.cols.length) {
    goWithColumns(state.cols);
    return;
  }
  state.cols = cols;
  state.hidden = Array.isArray(state.hidden) ? state.hidden : [];
  save(state);
  if (!table || !list) return;
  const heads = [...table.tHead.rows[0].cells].filter((th) => th.dataset.key);
  const style = document.createElement("style");
  document.head.append(style);
  const apply = () => {
    const rules = [];
    [...table.tHead.rows[0].cells].forEach((th, i) => {
      if (th.dataset.key && state.hidden.includes(th.dataset.key)) {
        rules.push(`#runs-table tr > :nth-child(${i + 1}) { display: none; }`);
      }
    });
    style.textContent = rules.join("\n");
    table.dataset.hidden = state.hidden.join(",");
  };
  const items = heads.map((th) => {
    const key = th.dataset.key, extra = th.classList.contains("extra");
    const label = (th.querySelector("a")?.firstChild?.textContent || th.textContent).trim();
    const box = Object.assign(document.createElement("input"), { type: "checkbox", checked: !state.hidden.includes(key) });
    box.addEventListener("change", () => {
      state.hidden = box.checked ? state.hidden.filter((k) => k !== key) : [...state.hidden, key];
      save(state);
      apply();
    });
    const row = document.createElement("div");
    row.className = "column-item";
    row.dataset.key = key;
    const name = document.createElement("label");
    name.append(box, ` ${label}`);
    row.append(name);
    if (extra) {
      const at = cols.indexOf(key);
      for (const [text, delta, title] of [["↑", -1, "Move left"], ["↓", 1, "Move right"]]) {
        const move = Object.assign(document.createElement("button"), { type: "button", textContent: text, title, className: "ghost move" });
        move.dataset.move = String(delta);
        move.disabled = at + delta < 0 || at + delta >= cols.length;
        move.addEventListener("click", () => {
          const next = [...cols];
          [next[at], next[at + delta]] = [next[at + delta], next[at]];
          state.cols = next;
          save(state);
          goWithColumns(next);
        });
        row.append(move);
      }
    }
    return row;
  });
  list.replaceChildren(...items);
  // removing an added column (its ×) is remembered too
  table.tHead.addEventListener("click", (ev) => {
    const remove = ev.target.closest("a.remove");
    if (!remove) return;
    state.cols = new URL(remove.href).searchParams.getAll("col");
    save(state);
  });
  document.addEventListener("keydown", (ev) => {
    const menu = document.getElementById("columns-menu");
    if (ev.key === "Escape" && menu?.open) menu.open = false;
  });
  apply();
}
