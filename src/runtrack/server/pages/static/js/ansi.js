// A small terminal: feed it bytes-as-text chunk by chunk and it keeps rows of styled
// cells the way a terminal would show them. Handles SGR colours (16, 256, true colour),
// bold/dim/italic/underline, carriage return (tqdm redraws a line in place), backspace,
// tab, erase-in-line, and cursor up/down/column moves. Escape sequences split across
// chunks are kept until the rest arrives.

const BASIC = ["#1f2328", "#cf222e", "#1a7f37", "#9a6700", "#0969da", "#8250df", "#1b7c83", "#6e7781",
  "#57606a", "#e5534b", "#2da44e", "#bf8700", "#218bff", "#a475f9", "#3192aa", "#8c959f"];
const PLAIN = Object.freeze({ key: "", fg: null, bg: null, bold: false, dim: false, italic: false, underline: false });

function color256(n) {
  if (n < 16) return BASIC[n];
  if (n >= 232) { const v = 8 + (n - 232) * 10; return `rgb(${v},${v},${v})`; }
  n -= 16;
  const c = (v) => (v ? 55 + v * 40 : 0);
  return `rgb(${c(Math.floor(n / 36))},${c(Math.floor(n / 6) % 6)},${c(n % 6)})`;
}

function withStyle(style, params) {
  const s = { ...style };
  const p = params.length ? params : [0];
  for (let i = 0; i < p.length; i++) {
    const n = p[i];
    if (n === 0) Object.assign(s, PLAIN);
    else if (n === 1) s.bold = true;
    else if (n === 2) s.dim = true;
    else if (n === 3) s.italic = true;
    else if (n === 4) s.underline = true;
    else if (n === 22) { s.bold = false; s.dim = false; }
    else if (n === 23) s.italic = false;
    else if (n === 24) s.underline = false;
    else if (n >= 30 && n <= 37) s.fg = BASIC[n - 30];
    else if (n >= 90 && n <= 97) s.fg = BASIC[n - 90 + 8];
    else if (n >= 40 && n <= 47) s.bg = BASIC[n - 40];
    else if (n >= 100 && n <= 107) s.bg = BASIC[n - 100 + 8];
    else if (n === 39) s.fg = null;
    else if (n === 49) s.bg = null;
    else if ((n === 38 || n === 48) && p[i + 1] === 5) { s[n === 38 ? "fg" : "bg"] = color256(p[i + 2] || 0); i += 2; }
    else if ((n === 38 || n === 48) && p[i + 1] === 2) {
      s[n === 38 ? "fg" : "bg"] = `rgb(${p[i + 2] || 0},${p[i + 3] || 0},${p[i + 4] || 0})`; i += 4;
    }
  }
  s.key = [s.fg, s.bg, s.bold, s.dim, s.italic, s.underline].join("|");
  return Object.freeze(s);
}

export function styleCss(s) {
  const parts = [];
  if (s.fg) parts.push(`color:${s.fg}`);
  if (s.bg) parts.push(`background:${s.bg}`);
  if (s.bold) parts.push("font-weight:600");
  if (s.dim) parts.push("opacity:.65");
  if (s.italic) parts.push("font-style:italic");
  if (s.underline) parts.push("text-decoration:underline");
  return parts.join(";");
}

export class Terminal {
  constructor() {
    this.rows = [{ chars: [], styles: [] }];
    this.row = 0;
    this.col = 0;
    this.style = PLAIN;
    this.pending = "";
    this.dirty = new Set([0]);
  }

  text(i) { return this.rows[i].chars.join(""); }

  put(ch) {
    const r = this.rows[this.row];
    while (r.chars.length < this.col) { r.chars.push(" "); r.styles.push(PLAIN); }
    r.chars[this.col] = ch;
    r.styles[this.col] = this.style;
    this.col += 1;
    this.dirty.add(this.row);
  }

  moveTo(row) {
    this.row = Math.max(0, row);
    while (this.rows.length <= this.row) {
      this.rows.push({ chars: [], styles: [] });
      this.dirty.add(this.rows.length - 1);
    }
  }

  csi(params, final) {
    const n = params[0] || 0;
    const r = this.rows[this.row];
    if (final === "m") this.style = withStyle(this.style, params);
    else if (final === "K") {
      if (n === 0) { r.chars.length = Math.min(r.chars.length, this.col); r.styles.length = r.chars.length; }
      else if (n === 1) for (let i = 0; i <= this.col && i < r.chars.length; i++) r.chars[i] = " ";
      else { r.chars = []; r.styles = []; }
      this.dirty.add(this.row);
    } else if (final === "A" || final === "F") { this.row = Math.max(0, this.row - (n || 1)); if (final === "F") this.col = 0; }
    else if (final === "B" || final === "E") { this.moveTo(this.row + (n || 1)); if (final === "E") this.col = 0; }
    else if (final === "C") this.col += n || 1;
    else if (final === "D") this.col = Math.max(0, this.col - (n || 1));
    else if (final === "G") this.col = Math.max(0, (n || 1) - 1);
  }

  write(chunk) {
    const s = this.pending + chunk;
    this.pending = "";
    let i = 0;
    while (i < s.length) {
      const ch = s[i];
      if (ch === "\x1b") {
        if (i + 1 >= s.length) { this.pending = s.slice(i); return; }
        const next = s[i + 1];
        if (next === "[") {
          let j = i + 2;
          while (j < s.length && !(s.charCodeAt(j) >= 0x40 && s.charCodeAt(j) <= 0x7e)) j++;
          if (j >= s.length) { this.pending = s.slice(i); return; }
          const body = s.slice(i + 2, j).replace(/^[?>=]/, "");
          this.csi(body ? body.split(";").map((v) => parseInt(v, 10) || 0) : [], s[j]);
          i = j + 1;
        } else if (next === "]") {
          let j = s.indexOf("\x07", i);
          const st = s.indexOf("\x1b\\", i);
          if (j < 0 || (st >= 0 && st < j)) j = st >= 0 ? st + 1 : -1;
          if (j < 0) { this.pending = s.slice(i); return; }
          i = j + 1;
        } else i += 2;
        continue;
      }
      if (ch === "\n") { this.moveTo(this.row + 1); this.col = 0; }
      else if (ch === "\r") this.col = 0;
      else if (ch === "\b") this.col = Math.max(0, this.col - 1);
      else if (ch === "\t") { do this.put(" "); while (this.col % 8); }
      else if (ch >= " " || ch > "\x7f") this.put(ch);
      i += 1;
    }
  }

  // Take the rows changed since the last call (sorted).
  takeDirty() {
    const rows = [...this.dirty].sort((a, b) => a - b);
    this.dirty.clear();
    return rows;
  }
}
