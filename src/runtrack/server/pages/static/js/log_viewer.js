// The log viewer: renders a file through the Terminal (colours, carriage returns), tails
// it by byte offset while the run is live, marks tracebacks / errors / warnings and jumps
// between them, and searches in the file.
import { Terminal, styleCss } from "./ansi.js";
import { artifactUrl } from "./common.js";

const CHUNK = 1 << 20;
const MAX_INITIAL = 4 << 20;
const ERROR = /\b(error|exception|fatal|critical|failed)\b|\w(Error|Exception):|^E\d{4} /i;
const WARNING = /warn(ing)?\b|^W\d{4} /i;
const TRACEBACK = /^Traceback \(most recent call last\)|^During handling of the above exception/;

function escapeHtml(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export class LogViewer {
  constructor(node, runId) {
    this.node = node;
    this.runId = runId;
    this.generation = 0;
    this.live = false;
  }

  reset(path) {
    this.generation += 1;
    this.path = path;
    this.term = new Terminal();
    this.decoder = new TextDecoder("utf-8");
    this.offset = 0;
    this.lines = [];
    this.kinds = [];
    this.inTraceback = [];
    this.query = "";
    this.hits = [];
    this.hitIndex = -1;
    this.issueIndex = -1;
    this.node.replaceChildren();
    this.body = document.createElement("div");
    this.body.className = "log-lines";
    this.node.append(this.body);
  }

  async open(path, size, live) {
    this.reset(path);
    this.live = live;
    if (size > MAX_INITIAL) {
      this.offset = size - MAX_INITIAL;
      const note = document.createElement("div");
      note.className = "log-note";
      note.textContent = `Showing the last ${MAX_INITIAL >> 20} MB of ${(size / 1048576).toFixed(0)} MB; download the file for all of it.`;
      this.node.prepend(note);
    }
    await this.fetchMore(true);
    this.node.dispatchEvent(new CustomEvent("log-loaded", { bubbles: true }));
  }

  // Read from the current offset to the end of the file (bounded chunks).
  async fetchMore(first = false) {
    const generation = this.generation;
    for (let rounds = 0; rounds < 64; rounds++) {
      const url = artifactUrl(this.runId, this.path, { offset: this.offset, length: CHUNK });
      const response = await fetch(url);
      if (generation !== this.generation) return;
      if (!response.ok) throw new Error(`${response.status} reading ${this.path}`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (generation !== this.generation) return;
      if (!bytes.length) break;
      this.offset += bytes.length;
      this.term.write(this.decoder.decode(bytes, { stream: true }));
      this.render(first);
      if (bytes.length < CHUNK) break;
    }
  }

  classify(i) {
    const text = this.term.text(i);
    const prevTb = i > 0 && this.inTraceback[i - 1];
    let kind = "", tb = false;
    if (TRACEBACK.test(text)) { kind = "err"; tb = true; }
    else if (prevTb && (/^\s/.test(text) || text === "")) { kind = "err"; tb = true; }
    else if (prevTb) kind = "err"; // the exception line closes the traceback
    else if (ERROR.test(text)) kind = "err";
    else if (WARNING.test(text)) kind = "warn";
    this.inTraceback[i] = tb;
    this.kinds[i] = kind;
  }

  rowHtml(i) {
    const row = this.term.rows[i];
    const text = row.chars.join("");
    const marks = new Uint8Array(text.length);
    if (this.query) {
      const lower = text.toLowerCase();
      for (let at = lower.indexOf(this.query); at >= 0; at = lower.indexOf(this.query, at + 1)) {
        marks.fill(1, at, at + this.query.length);
      }
    }
    let html = "", start = 0;
    for (let k = 1; k <= text.length; k++) {
      if (k < text.length && row.styles[k] === row.styles[start] && marks[k] === marks[start]) continue;
      const part = escapeHtml(text.slice(start, k));
      const css = styleCss(row.styles[start]);
      let piece = css ? `<span style="${css}">${part}</span>` : part;
      if (marks[start]) piece = `<mark>${piece}</mark>`;
      html += piece;
      start = k;
    }
    return html || " ";
  }

  render(first) {
    const stick = first || this.atBottom();
    const dirty = this.term.takeDirty();
    for (const i of dirty) {
      this.classify(i);
      let line = this.lines[i];
      if (!line) {
        line = document.createElement("div");
        line.dataset.n = String(i + 1);
        this.lines[i] = line;
        this.body.append(line);
      }
      line.className = `ln ${this.kinds[i]}`;
      line.innerHTML = this.rowHtml(i);
    }
    if (this.query) this.findHits();
    this.node.dataset.lines = String(this.lines.length);
    this.node.dataset.offset = String(this.offset);
    if (this.follow && stick) this.node.scrollTop = this.node.scrollHeight;
    this.node.dispatchEvent(new CustomEvent("log-updated", { bubbles: true }));
  }

  atBottom() { return this.node.scrollHeight - this.node.scrollTop - this.node.clientHeight < 40; }

  // First line of each error or warning block.
  issues() {
    const starts = [];
    for (let i = 0; i < this.kinds.length; i++) {
      if (this.kinds[i] && (i === 0 || this.kinds[i - 1] !== this.kinds[i] ||
          TRACEBACK.test(this.term.text(i)))) starts.push(i);
    }
    return starts;
  }

  jump(i, cls) {
    const line = this.lines[i];
    if (!line) return;
    for (const old of this.body.querySelectorAll(`.${cls}`)) old.classList.remove(cls);
    line.classList.add(cls);
    this.follow = false;
    line.scrollIntoView({ block: "center" });
  }

  nextIssue(direction) {
    const starts = this.issues();
    if (!starts.length) return [0, 0];
    // nothing picked yet: ▼ goes to the first issue, ▲ to the last one
    if (this.issueIndex < 0) this.issueIndex = direction > 0 ? 0 : starts.length - 1;
    else this.issueIndex = (this.issueIndex + direction + starts.length) % starts.length;
    this.jump(starts[this.issueIndex], "current-issue");
    return [this.issueIndex + 1, starts.length];
  }

  // Jump to the start of the file's last traceback (or last error line); false if none.
  lastTraceback() {
    let found = -1;
    for (let i = 0; i < this.kinds.length; i++) {
      if (TRACEBACK.test(this.term.text(i)) && !(i > 0 && this.inTraceback[i - 1])) found = i;
    }
    if (found < 0) found = this.kinds.lastIndexOf("err");
    if (found < 0) return false;
    const starts = this.issues();
    this.issueIndex = starts.indexOf(found);
    this.jump(found, "current-issue");
    return true;
  }

  // Only the lines that matched before or match now are drawn again, so a keystroke
  // over a 20,000-line log costs a text scan, not 20,000 rebuilt lines.
  search(query) {
    const before = this.hits;
    this.query = query.toLowerCase();
    this.hitIndex = -1;
    this.findHits();
    const redo = new Set(before);
    for (const i of this.hits) redo.add(i);
    for (const i of redo) if (this.lines[i]) this.lines[i].innerHTML = this.rowHtml(i);
  }

  findHits() {
    if (!this.query) { this.hits = []; return; }
    this.hits = [];
    for (let i = 0; i < this.lines.length; i++) {
      if (this.term.text(i).toLowerCase().includes(this.query)) this.hits.push(i);
    }
  }

  nextHit(direction = 1) {
    if (!this.hits.length) return [0, 0];
    this.hitIndex = (this.hitIndex + direction + this.hits.length) % this.hits.length;
    this.jump(this.hits[this.hitIndex], "current-hit");
    return [this.hitIndex + 1, this.hits.length];
  }
}
