"""Log text, line by line: safe lines for the search index, tracebacks, plain hints.

Everything here is pure (no I/O) so the supervisor, an interactive run and the tests
share it:

* :class:`LineSplitter` turns appended bytes into numbered, indexable lines with
  bounded memory: a line longer than :data:`runtrack.limits.MAX_LOG_LINE_CHARS` is cut
  (the rest of it is skipped up to its newline, never buffered), invalid UTF-8 is
  replaced, ANSI escapes and control characters (NUL included) are removed, and a
  ``\\r``-redrawn progress bar keeps only its last state.
* :class:`TracebackScanner` finds Python tracebacks in those lines and keeps the
  first and the last, with the exception type and message.
* :func:`hint_for` gives a one-line plain-language hint for CUDA OOM, NCCL
  timeouts, the OOM killer (exit 137 / SIGKILL) and segmentation faults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runtrack import _ansi, limits

TRACEBACK_HEAD = "Traceback (most recent call last):"
#: lines of one traceback kept (its head and its end survive when it is longer)
MAX_TRACEBACK_LINES = 200

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::\s?(.*))?$")


def clean_line(raw: bytes) -> str:
    """One raw log line (without its newline) as indexable text."""
    return _clean_text(raw.decode("utf-8", "replace"))


def _clean_text(text: str) -> str:
    text = text.rstrip("\r")
    if "\r" in text:  # a progress bar redrawn in place: what the terminal finally showed
        parts = [p for p in text.split("\r") if p.strip()]
        text = parts[-1] if parts else ""
    text = _CONTROL.sub("", _ansi.strip(text))
    return text[: limits.MAX_LOG_LINE_CHARS]


def _clean_block(block: bytes, cap: int) -> list[str]:
    """The complete lines of ``block`` (newline-separated, no trailing newline), cleaned.

    The common case (no control character, no escape, no carriage return anywhere)
    costs one decode and one split for the whole block; otherwise only the lines that
    hold such characters go through :func:`_clean_text` (cut to ``cap`` characters
    first, so a huge line costs no more than its head).
    """
    text = block.decode("utf-8", "replace")
    lines = text.split("\n")
    limit = limits.MAX_LOG_LINE_CHARS
    if _CONTROL.search(text) is None:
        if len(text) > limit and max(map(len, lines)) > limit:
            return [line[:limit] for line in lines]
        return lines
    return [
        _clean_text(line[:cap]) if _CONTROL.search(line) else line[:limit] for line in lines
    ]


class LineSplitter:
    """Feed bytes as they arrive; get complete, cleaned lines back.

    Memory is bounded by ``MAX_LOG_LINE_CHARS * 4`` bytes whatever the input (a 10 MB
    line without a newline keeps only its head).
    """

    def __init__(self) -> None:
        self._partial = bytearray()
        self._skipping = False  # inside an over-long line: drop bytes up to its newline
        self._cap = limits.MAX_LOG_LINE_CHARS * 4

    def feed(self, data: bytes) -> list[str]:
        first = data.find(b"\n")
        if first < 0:
            self._keep(data)
            return []
        self._keep(data[:first])
        out = [clean_line(bytes(self._partial))]
        self._partial.clear()
        self._skipping = False
        last = data.rfind(b"\n")
        if last > first:
            out += _clean_block(data[first + 1 : last], self._cap)
        self._keep(data[last + 1 :])
        return out

    def _keep(self, rest: bytes) -> None:
        """Add the start (or more) of an unfinished line, up to the cap."""
        if rest and not self._skipping:
            room = self._cap - len(self._partial)
            self._partial += rest[:room]
            if len(rest) > room:
                self._skipping = True

    def flush(self) -> list[str]:
        """The unterminated last line, if any (call when the file is complete)."""
        if not self._partial:
            self._skipping = False
            return []
        line = clean_line(bytes(self._partial))
        self._partial.clear()
        self._skipping = False
        return [line]


@dataclass(frozen=True)
class Traceback:
    """One Python traceback found in a log: where it starts, what was raised."""

    path: str
    line: int
    exc_type: str
    message: str
    text: str


class TracebackScanner:
    """Feed numbered lines of one log file; keeps the first and the last traceback."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.first: Traceback | None = None
        self.last: Traceback | None = None
        self.count = 0
        self._lines: list[str] | None = None
        self._start = 0
        self._prefix = ""  # what each line of this traceback starts with ("[rank1]: ")

    def feed_lines(self, first_no: int, lines: list[str]) -> None:
        """Feed ``lines`` (without newlines, as :class:`LineSplitter` gives them), numbered
        from ``first_no``: as :meth:`feed` line by line, but
        outside a traceback it jumps to the next line holding one (a C-speed search over
        the joined lines), so a million plain lines cost a few milliseconds."""
        i, end = 0, len(lines)
        joined: str | None = None
        at_char = 0  # where line i starts in ``joined``
        while i < end:
            if self._lines is None:
                if joined is None:
                    joined = "\n".join(lines)
                found = joined.find(TRACEBACK_HEAD, at_char)
                if found < 0:
                    return
                start = joined.rfind("\n", 0, found) + 1
                i += joined.count("\n", at_char, start)
                at_char = start
            self.feed(first_no + i, lines[i])
            at_char += len(lines[i]) + 1
            i += 1

    def feed(self, line_no: int, line: str) -> None:
        """Feed line ``line_no`` (1-based) of the file."""
        at = line.find(TRACEBACK_HEAD)
        if at >= 0:
            self._lines, self._start, self._prefix = [line[at:]], line_no, line[:at]
            return
        if self._lines is None:
            return
        body = line[len(self._prefix) :] if line.startswith(self._prefix) else line
        if not body.strip() or body[0].isspace():
            self._add(body)
            return
        match = _EXC_LINE.match(body)
        if match is None:
            self._lines = None  # not a traceback after all (or a garbled one)
            return
        self._add(body)
        self._record(match.group(1), (match.group(2) or "").strip())

    def _add(self, line: str) -> None:
        assert self._lines is not None
        if len(self._lines) < MAX_TRACEBACK_LINES:
            self._lines.append(line)
        else:
            self._lines[-1] = line

    def _record(self, exc_type: str, message: str) -> None:
        assert self._lines is not None
        found = Traceback(
            self.path,
            self._start,
            exc_type.rsplit(".", 1)[-1],
            message[: limits.MAX_ERROR_MESSAGE_LENGTH],
            "\n".join(self._lines)[-limits.MAX_ERROR_MESSAGE_LENGTH :],
        )
        self.count += 1
        if self.first is None:
            self.first = found
        self.last = found
        self._lines = None  # a chained exception starts its own "Traceback" line


_HINTS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"CUDA out of memory|CUDA error: out of memory|OutOfMemoryError|"
                   r"CUBLAS_STATUS_ALLOC_FAILED", re.I),
        "The GPU ran out of memory: lower the batch size or sequence length, use mixed "
        "precision or gradient checkpointing, or free tensors you keep across steps.",
    ),
    (
        re.compile(r"NCCL.*(time(d)?[ _-]?out|Watchdog caught collective)|"
                   r"(Timeout|timed out).*NCCL", re.I),
        "A collective operation (NCCL) timed out: usually one rank crashed, hung or fell "
        "far behind the others; look at the other ranks' logs first.",
    ),
]
_OOM_KILLER = (
    "The process was killed with SIGKILL (exit 137), most often by the Linux OOM killer "
    "because the machine ran out of memory: use less host memory (smaller batches, fewer "
    "data-loader workers) or a larger machine."
)
_SEGFAULT = (
    "The process crashed with a segmentation fault (SIGSEGV): usually a native extension "
    "(CUDA, a data loader, a compiled library) failed; check library versions and run "
    "with PYTHONFAULTHANDLER=1 to see where."
)


def hint_for(text: str, exit_code: int | None) -> str | None:
    """A one-line plain-language hint for a known failure, or None."""
    for pattern, hint in _HINTS:
        if pattern.search(text):
            return hint
    if exit_code in (137, -9):
        return _OOM_KILLER
    if exit_code in (139, -11) or "Segmentation fault" in text:
        return _SEGFAULT
    return None
