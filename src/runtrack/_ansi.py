"""Terminal output (ANSI SGR colours, carriage returns, erase/cursor codes) → HTML.

A log written by a program that thinks it talks to a terminal is replayed on a small
screen model, so what comes out is what a terminal would show: a progress bar redrawn
with ``\\r`` hundreds of times leaves one line (its last state), ``ESC[K`` erases,
``ESC[nA`` moves up (multi-line progress bars), and colours become inline styles.

:func:`render` returns plain lines and their HTML, :func:`terminal_text` the plain
text (``runtrack submit``'s log stream), :func:`strip` drops the codes of one line (the
log index); nothing else in runtrack parses escape codes. Unknown escape sequences are
dropped, never shown raw.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace

__all__ = ["Screen", "Style", "render", "strip", "terminal_text"]

#: The 16 basic colours, tuned for a dark background (VS Code's dark terminal palette).
BASIC = (
    "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
    "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
)  # fmt: skip

_CSI = re.compile(r"\x1b\[([0-9;?]*)([ -/]*)([@-~])")
_OSC = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
#: every escape sequence: CSI, OSC (maybe unterminated), two-character escapes
_ANY = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_MAX_COLUMNS = 4096  # a cursor-forward code cannot make a line longer than this


@dataclass(frozen=True)
class Style:
    """How a run of characters looks. Colours are CSS colour strings or None."""

    fg: str | None = None
    bg: str | None = None
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    inverse: bool = False

    def css(self) -> str:
        fg, bg = (self.bg, self.fg) if self.inverse else (self.fg, self.bg)
        if self.inverse:
            fg, bg = fg or "#1e1e1e", bg or "#d4d4d4"
        parts = []
        if fg:
            parts.append(f"color:{fg}")
        if bg:
            parts.append(f"background:{bg}")
        if self.bold:
            parts.append("font-weight:bold")
        if self.dim:
            parts.append("opacity:.7")
        if self.italic:
            parts.append("font-style:italic")
        if self.underline:
            parts.append("text-decoration:underline")
        return ";".join(parts)


PLAIN = Style()
Cell = tuple[str, Style]


def color_256(n: int) -> str:
    """CSS colour of xterm 256-colour palette entry ``n``."""
    if n < 16:
        return BASIC[n]
    if n < 232:
        n -= 16
        levels = [0 if v == 0 else 55 + 40 * v for v in (n // 36, (n // 6) % 6, n % 6)]
        return "#{:02x}{:02x}{:02x}".format(*levels)
    grey = 8 + 10 * (n - 232)
    return f"#{grey:02x}{grey:02x}{grey:02x}"


def _extended(params: list[int], i: int) -> tuple[str | None, int]:
    """Parse ``5;n`` or ``2;r;g;b`` after a 38/48; return (colour, next index)."""
    if i < len(params) and params[i] == 5 and i + 1 < len(params):
        return color_256(max(0, min(255, params[i + 1]))), i + 2
    if i < len(params) and params[i] == 2 and i + 3 < len(params):
        r, g, b = (max(0, min(255, v)) for v in params[i + 1 : i + 4])
        return f"#{r:02x}{g:02x}{b:02x}", i + 4
    return None, len(params)


def apply_sgr(style: Style, params: list[int]) -> Style:
    """The style after one ``ESC[...m`` sequence."""
    if not params:
        params = [0]
    i = 0
    while i < len(params):
        p = params[i]
        i += 1
        if p == 0:
            style = PLAIN
        elif p == 1:
            style = replace(style, bold=True)
        elif p == 2:
            style = replace(style, dim=True)
        elif p == 3:
            style = replace(style, italic=True)
        elif p == 4:
            style = replace(style, underline=True)
        elif p == 7:
            style = replace(style, inverse=True)
        elif p == 22:
            style = replace(style, bold=False, dim=False)
        elif p == 23:
            style = replace(style, italic=False)
        elif p == 24:
            style = replace(style, underline=False)
        elif p == 27:
            style = replace(style, inverse=False)
        elif 30 <= p <= 37:
            style = replace(style, fg=BASIC[p - 30])
        elif 90 <= p <= 97:
            style = replace(style, fg=BASIC[p - 90 + 8])
        elif 40 <= p <= 47:
            style = replace(style, bg=BASIC[p - 40])
        elif 100 <= p <= 107:
            style = replace(style, bg=BASIC[p - 100 + 8])
        elif p == 39:
            style = replace(style, fg=None)
        elif p == 49:
            style = replace(style, bg=None)
        elif p in (38, 48):
            colour, i = _extended(params, i)
            if colour is not None:
                style = replace(style, fg=colour) if p == 38 else replace(style, bg=colour)
    return style


class Screen:
    """An endless terminal screen: lines of (character, style) cells and a cursor."""

    def __init__(self) -> None:
        self.lines: list[list[Cell]] = [[]]
        self.row = 0
        self.col = 0
        self.style = PLAIN

    # -- cursor and text ---------------------------------------------------------

    def _line(self) -> list[Cell]:
        while self.row >= len(self.lines):
            self.lines.append([])
        return self.lines[self.row]

    def put(self, text: str) -> None:
        line = self._line()
        for ch in text:
            if self.col < len(line):
                line[self.col] = (ch, self.style)
            else:
                if self.col > len(line):
                    line.extend([(" ", PLAIN)] * (self.col - len(line)))
                line.append((ch, self.style))
            self.col += 1

    def newline(self) -> None:
        self.row += 1
        self.col = 0
        self._line()

    def erase_line(self, mode: int) -> None:
        line = self._line()
        if mode == 0:
            del line[self.col :]
        elif mode == 1:
            for i in range(min(self.col + 1, len(line))):
                line[i] = (" ", PLAIN)
        else:
            line.clear()

    def csi(self, params: str, final: str) -> None:
        nums = (
            [int(p) if p.isdigit() else 0 for p in params.lstrip("?").split(";")] if params else []
        )
        n = nums[0] if nums and nums[0] > 0 else 1
        if final == "m":
            self.style = apply_sgr(self.style, nums)
        elif final == "K":
            self.erase_line(nums[0] if nums else 0)
        elif final == "A":
            self.row = max(0, self.row - n)
        elif final in "BE":
            self.row += n
            self._line()
            if final == "E":
                self.col = 0
        elif final == "F":
            self.row = max(0, self.row - n)
            self.col = 0
        elif final == "C":
            self.col = min(self.col + n, _MAX_COLUMNS)
        elif final == "D":
            self.col = max(0, self.col - n)
        elif final == "G":
            self.col = min(n - 1, _MAX_COLUMNS)
        # everything else (J, H, s, u, h, l …) changes nothing a log viewer can show

    # -- feeding -----------------------------------------------------------------

    def feed(self, text: str) -> None:
        """Interpret ``text`` (may contain escape codes and control characters)."""
        text = _OSC.sub("", text)
        pos = 0
        end = len(text)
        while pos < end:
            ch = text[pos]
            if ch >= " " and ch != "\x7f":
                nxt = pos + 1
                while nxt < end and text[nxt] >= " " and text[nxt] != "\x7f":
                    nxt += 1
                self.put(text[pos:nxt])
                pos = nxt
                continue
            if ch == "\n":
                self.newline()
            elif ch == "\r":
                self.col = 0
            elif ch == "\b":
                self.col = max(0, self.col - 1)
            elif ch == "\t":
                self.put(" " * (8 - self.col % 8))
            elif ch == "\x1b":
                match = _CSI.match(text, pos)
                if match is not None:
                    self.csi(match.group(1), match.group(3))
                    pos = match.end()
                    continue
                pos += 2  # a two-character escape (ESC 7, ESC =, …) or a dangling ESC
                continue
            pos += 1

    # -- output ------------------------------------------------------------------

    def _trimmed(self, max_lines: int | None) -> list[list[Cell]]:
        lines = self.lines
        while lines and not lines[-1]:
            lines = lines[:-1]
        if max_lines is not None:
            lines = lines[-max_lines:] if max_lines > 0 else []
        return lines

    def plain_lines(self, max_lines: int | None = None) -> list[str]:
        return ["".join(c for c, _ in line).rstrip() for line in self._trimmed(max_lines)]

    def html_lines(self, max_lines: int | None = None) -> list[str]:
        return [_line_html(line) for line in self._trimmed(max_lines)]


def _line_html(line: list[Cell]) -> str:
    out: list[str] = []
    i = 0
    while i < len(line):
        style = line[i][1]
        j = i
        while j < len(line) and line[j][1] == style:
            j += 1
        text = html.escape("".join(c for c, _ in line[i:j]), quote=False)
        css = style.css()
        out.append(f'<span style="{css}">{text}</span>' if css else text)
        i = j
    return "".join(out).rstrip()


def render(text: str, max_lines: int | None = None) -> tuple[list[str], str]:
    """Replay ``text`` on a terminal screen; return its last ``max_lines`` lines as
    plain text and as HTML (one line per ``\\n``-joined line, no wrapping element)."""
    screen = Screen()
    screen.feed(text)
    return screen.plain_lines(max_lines), "\n".join(screen.html_lines(max_lines))


def terminal_text(text: str) -> str:
    """What a terminal shows for ``text``, as plain text (no escape codes); a trailing
    newline is kept, so consecutive pieces of one stream join up."""
    screen = Screen()
    screen.feed(text)
    lines = screen.plain_lines()
    if not text.endswith("\n"):
        return "\n".join(lines)
    lines += [""] * (text.count("\n") - len(lines))  # blank lines the screen trimmed
    return "\n".join(lines) + "\n"


def strip(text: str) -> str:
    """``text`` without its escape sequences (no screen replay: one line, fast)."""
    return _ANY.sub("", text)
