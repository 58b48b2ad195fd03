// A table metric's rows: filter (any cell contains the text), sort by a column (click its
// header; again to reverse), pages of PAGE rows. Every row is kept in memory; only a page
// is in the DOM.
import { el, formatNumber } from "./common.js";

const PAGE = 50;

function compare(a, b) {
  const na = typeof a === "number", nb = typeof b === "number";
  if (na && nb) return a - b;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (na !== nb) return na ? -1 : 1;
  return String(a).localeCompare(String(b));
}

export class TableViewer {
  constructor(rows, columns) {
    this.rows = rows;
    this.columns = columns;
    this.sortBy = null;
    this.descending = false;
    this.filter = "";
    this.page = 0;
    this.filterBox = el("input", { type: "search", class: "table-filter", placeholder: "Filter rows", "aria-label": "Filter rows" });
    this.info = el("span", { class: "muted small table-info" });
    this.prev = el("button", { class: "small", text: "‹ Prev" });
    this.next = el("button", { class: "small", text: "Next ›" });
    this.body = el("tbody");
    this.head = el("tr", {}, ...columns.map((c) => el("th", { class: "sortable", "data-col": c, text: c })));
    this.node = el("div", { class: "table-viewer" },
      el("div", { class: "table-bar" }, this.filterBox, this.prev, this.next, this.info),
      el("div", { class: "raw-wrap" }, el("table", { class: "grid compact" }, el("thead", {}, this.head), this.body)));
    let timer = 0;
    this.filterBox.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => { this.filter = this.filterBox.value.toLowerCase(); this.page = 0; this.render(); }, 120);
    });
    this.head.addEventListener("click", (ev) => {
      const col = ev.target.closest("th")?.dataset.col;
      if (!col) return;
      this.descending = this.sortBy === col ? !this.descending : false;
      this.sortBy = col;
      this.render();
    });
    this.prev.addEventListener("click", () => { this.page -= 1; this.render(); });
    this.next.addEventListener("click", () => { this.page += 1; this.render(); });
    this.render();
  }

  shown() {
    let rows = this.rows;
    if (this.filter) {
      rows = rows.filter((r) => this.columns.some((c) => String(r[c] ?? "").toLowerCase().includes(this.filter)));
    }
    if (this.sortBy) {
      const col = this.sortBy, sign = this.descending ? -1 : 1;
      rows = [...rows].sort((a, b) => sign * compare(a[col], b[col]));
    }
    return rows;
  }

  render() {
    const rows = this.shown();
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    this.page = Math.min(Math.max(0, this.page), pages - 1);
    const start = this.page * PAGE, part = rows.slice(start, start + PAGE);
    this.body.replaceChildren(...part.map((r) => el("tr", {}, ...this.columns.map((c) =>
      el("td", { class: typeof r[c] === "number" ? "num" : "", text: formatNumber(r[c] ?? null) })))));
    for (const th of this.head.children) {
      th.querySelector("i")?.remove();
      if (th.dataset.col === this.sortBy) th.append(el("i", { class: "arrow", text: this.descending ? "▼" : "▲" }));
    }
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= pages - 1;
    this.info.textContent = rows.length
      ? `rows ${formatNumber(start + 1)}–${formatNumber(start + part.length)} of ${formatNumber(rows.length)}` +
        (rows.length !== this.rows.length ? ` (filtered from ${formatNumber(this.rows.length)})` : "")
      : "no rows match";
  }
}
