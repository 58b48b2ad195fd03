// The Outputs + logs tab: the file tree, opening a file (log viewer, image or download),
// following a live log, jumping between issues, searching, downloading.
import { artifactUrl, el, getJSON } from "./common.js";
import { LogViewer } from "./log_viewer.js";

const PREFERRED = /(driver|std_?out|std_log|user_log|stdout|output)/i;

function sizeText(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}

function buildTree(files) {
  const root = { dirs: new Map(), files: [] };
  for (const f of files) {
    const parts = f.path.split("/");
    let node = root;
    for (const part of parts.slice(0, -1)) {
      if (!node.dirs.has(part)) node.dirs.set(part, { dirs: new Map(), files: [] });
      node = node.dirs.get(part);
    }
    node.files.push({ ...f, name: parts[parts.length - 1] });
  }
  return root;
}

export class OutputsTab {
  constructor(page) {
    this.page = page;
    this.run = page.run;
    this.terminal = page.run.terminal;
    this.files = new Map(page.files.map((f) => [f.path, f]));
  }

  build() {
    this.viewerNode = document.getElementById("viewer");
    this.viewer = new LogViewer(this.viewerNode, this.run.id);
    this.viewer.follow = true;
    this.renderTree();
    this.bindBar();
    const logs = this.page.logs;
    const wanted = new URLSearchParams(location.search);  // ?log=path&line=n (log search hits)
    const asked = this.files.has(wanted.get("log")) ? wanted.get("log") : null;
    const failing = asked ? null : this.failingLog();
    const first = asked || failing || logs.find((p) => PREFERRED.test(p)) || logs[0] ||
      this.page.files.find((f) => f.kind === "text")?.path;
    if (first) {
      this.open(first, !asked && Boolean(this.run.error), asked ? Number(wanted.get("line")) || 0 : 0);
    }
    if (!this.terminal) this.tail();
  }

  // A failed distributed run names the rank that failed ("User program (rank 3) …"):
  // its own log is the one to read.
  failingLog() {
    const match = /\(rank (\d+)\)/.exec(this.run.error?.message || "");
    if (!match) return null;
    const name = `std_log_process_${match[1].padStart(2, "0")}.txt`;
    return this.page.logs.find((p) => p.split("/").pop() === name) || null;
  }

  renderTree() {
    const tree = document.getElementById("tree");
    const draw = (node, depth) => {
      const items = [];
      for (const [name, sub] of [...node.dirs.entries()].sort()) {
        const det = el("details", { open: depth < 2 ? "" : null, class: "dir" },
          el("summary", {}, el("span", { class: "folder", text: name })));
        det.append(...draw(sub, depth + 1));
        items.push(det);
      }
      for (const f of node.files.sort((a, b) => a.name.localeCompare(b.name))) {
        const item = el("button", { class: `file k-${f.kind}`, "data-path": f.path, title: f.path },
          el("span", { class: "fname", text: f.name }), el("span", { class: "fsize", text: sizeText(f.size) }));
        item.addEventListener("click", () => this.open(f.path));
        items.push(item);
      }
      return items;
    };
    tree.replaceChildren(...draw(buildTree([...this.files.values()]), 0));
    if (!this.files.size) tree.append(el("p", { class: "muted small", text: "No files yet." }));
    if (this.current) tree.querySelector(`[data-path="${CSS.escape(this.current)}"]`)?.classList.add("active");
  }

  bindBar() {
    const follow = document.getElementById("follow");
    follow.addEventListener("change", () => {
      this.viewer.follow = follow.checked;
      if (follow.checked) this.viewerNode.scrollTop = this.viewerNode.scrollHeight;
    });
    const issueCount = document.getElementById("issue-count");
    const jumpIssue = (dir) => {
      const [at, n] = this.viewer.nextIssue(dir);
      issueCount.textContent = n ? `${at}/${n}` : "none";
      follow.checked = false;
    };
    document.getElementById("next-issue").addEventListener("click", () => jumpIssue(1));
    document.getElementById("prev-issue").addEventListener("click", () => jumpIssue(-1));
    const search = document.getElementById("log-search");
    const count = document.getElementById("search-count");
    // debounced: typing a word searches once, when the typing pauses
    let timer = 0;
    const run = () => {
      clearTimeout(timer);
      if (this.viewer.query === search.value.toLowerCase()) return;
      this.viewer.search(search.value);
      count.textContent = search.value ? `${this.viewer.hits.length} lines` : "";
    };
    search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 120); });
    search.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter") return;
      run();
      const [at, n] = this.viewer.nextHit(ev.shiftKey ? -1 : 1);
      count.textContent = n ? `${at}/${n}` : "no match";
      follow.checked = false;
    });
  }

  // Open a file; `atIssue`: scroll to its last traceback (a failed run's log);
  // `line` (1-based): jump to that line (a log search hit).
  open(path, atIssue = false, line = 0) {
    const file = this.files.get(path);
    if (!file) return;
    this.current = path;
    for (const b of document.querySelectorAll("#tree .file")) b.classList.toggle("active", b.dataset.path === path);
    document.getElementById("viewer-path").textContent = path;
    const one = document.getElementById("download-one");
    one.hidden = false;
    one.href = artifactUrl(this.run.id, path);
    one.setAttribute("download", path.split("/").pop());
    if (file.kind === "image") {
      this.viewer.reset(path);
      this.viewerNode.append(el("img", { class: "preview", src: artifactUrl(this.run.id, path), alt: path }));
    } else if (file.kind === "binary" && file.size > 65536) {
      this.viewer.reset(path);
      this.viewerNode.append(el("p", { class: "muted", text: `Binary file, ${sizeText(file.size)}. Use Download.` }));
    } else {
      this.viewer.follow = document.getElementById("follow").checked;
      this.viewer.open(path, file.size, !this.terminal).then(() => {
        if (line > 0) {
          this.viewer.jump(line - 1, "current-hit");
        } else if (atIssue && this.viewer.path === path && this.viewer.lastTraceback()) {
          document.getElementById("follow").checked = false;
          const [at, n] = [this.viewer.issueIndex + 1, this.viewer.issues().length];
          document.getElementById("issue-count").textContent = `${at}/${n}`;
        }
      }).catch((err) => {
        this.viewerNode.append(el("p", { class: "muted", text: `Cannot read ${path}: ${err.message}` }));
      });
    }
  }

  // While the run is live: new files appear in the tree, the open text file grows.
  tail() {
    let last = 0;
    const step = async () => {
      try {
        if (this.viewer.path === this.current && this.files.get(this.current)?.kind !== "image") {
          await this.viewer.fetchMore();
        }
        if (Date.now() - last > 3000) {
          last = Date.now();
          const listing = await getJSON(`/api/v1/runs/${encodeURIComponent(this.run.id)}/artifacts`);
          const known = this.files.size;
          for (const a of listing.artifacts) {
            const kind = this.files.get(a.path)?.kind || (/^(logs|user_logs|system_logs|azureml-logs)\//.test(a.path) ? "log" : "text");
            this.files.set(a.path, { ...a, kind });
          }
          if (this.files.size !== known) {
            this.renderTree();
            if (!this.current) { const first = [...this.files.keys()][0]; if (first) this.open(first); }
          }
        }
      } catch (err) {
        console.warn("runtrack: tailing failed:", err.message);
      }
      if (!this.terminal) setTimeout(step, 1000);
      else if (this.viewer.path) this.viewer.fetchMore().catch(() => {});
    };
    setTimeout(step, 1000);
  }

  runStatus(found) { if (found.terminal) this.terminal = true; }
}
