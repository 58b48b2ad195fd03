"""Line cleaning, traceback scanning, hints and error explanation (pure functions)."""

from __future__ import annotations

from runtrack import limits
from runtrack.model import ErrorInfo, RunStatus
from runtrack.runner.explain import TRACEBACK_IN_LOG, explain
from runtrack.runner.logscan import LineSplitter, TracebackScanner, clean_line, hint_for

TB = [
    "Traceback (most recent call last):",
    '  File "train.py", line 3, in <module>',
    "    main()",
    '  File "train.py", line 2, in main',
    "    raise ValueError('bad 42')",
    "ValueError: bad 42",
]


def test_clean_line() -> None:
    assert clean_line(b"\x1b[31mred\x1b[0m plain") == "red plain"
    assert clean_line(b"  0%|  \r 50%|#####  \r100%|##########\r\n") == "100%|##########"
    assert clean_line(b"bad \xff\xfe utf8") == "bad \ufffd\ufffd utf8"
    assert clean_line(b"nul\x00bell\x07 tab\tok") == "nulbell tab\tok"
    assert clean_line(b"\x1b]0;title\x07shown") == "shown"


def test_splitter_numbers_lines_and_bounds_memory() -> None:
    s = LineSplitter()
    assert s.feed(b"one\ntw") == ["one"]
    assert s.feed(b"o\nthree") == ["two"]
    assert s.flush() == ["three"]
    huge = b"z" * (10 << 20)
    s = LineSplitter()
    out = []
    for i in range(0, len(huge), 1 << 16):  # a 10 MB line arriving in pieces
        out += s.feed(huge[i : i + (1 << 16)])
        assert len(s._partial) <= limits.MAX_LOG_LINE_CHARS * 4
    out += s.feed(b"\nnext\n")
    assert [len(x) for x in out] == [limits.MAX_LOG_LINE_CHARS, 4]
    junk = bytes(range(256)) * 100
    assert all(isinstance(x, str) for x in LineSplitter().feed(junk + b"\n"))


def _scan(lines: list[str], path: str = "user_logs/std_log.txt") -> TracebackScanner:
    s = TracebackScanner(path)
    for i, line in enumerate(lines, 1):
        s.feed(i, line)
    return s


def test_first_and_last_traceback() -> None:
    other = [*TB[:-1], "KeyError: 'x'"]
    s = _scan(["epoch 1", *TB, "still going", "[rank1]: " + other[0],
               *("[rank1]: " + x for x in other[1:]), "done"])
    assert s.count == 2
    assert s.first is not None and s.last is not None
    assert (s.first.exc_type, s.first.message, s.first.line) == ("ValueError", "bad 42", 2)
    assert (s.last.exc_type, s.last.message) == ("KeyError", "'x'")
    assert s.last.text.splitlines()[0] == TB[0]
    assert not _scan(["Traceback (most recent call last):", "not an exception line"]).count


def test_chained_exceptions_last_is_the_final_one() -> None:
    lines = [*TB, "", "During handling of the above exception, another exception occurred:", "",
             *TB[:-1], "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2 GiB"]
    s = _scan(lines)
    assert s.last is not None and s.last.exc_type == "OutOfMemoryError"


def test_hints() -> None:
    assert "GPU ran out of memory" in (hint_for("CUDA out of memory. Tried", 1) or "")
    assert "NCCL" in (hint_for("[E ProcessGroupNCCL.cpp] Watchdog caught collective "
                               "operation timeout", 1) or "")
    assert "OOM killer" in (hint_for("Killed", 137) or "")
    assert "OOM killer" in (hint_for("", -9) or "")
    assert "segmentation fault" in (hint_for("", -11) or "")
    assert hint_for("ValueError: bad", 1) is None


def test_explain_failed_run() -> None:
    path0, path1 = "user_logs/std_log_process_0.txt", "user_logs/std_log_process_1.txt"
    early = [*TB[:-1], "RuntimeError: first problem"]
    s1 = _scan([*early, "x", *TB[:-1], "RuntimeError: CUDA out of memory"], path1)
    s0 = _scan(["fine"], path0)
    error = ErrorInfo("UserError", "User program (rank 1) failed with RuntimeError: CUDA out of "
                      "memory", type="RuntimeError", traceback="\n".join(TB), exit_code=1, rank=1)
    got = explain(RunStatus.FAILED, error, [s0, s1], {path0: 0, path1: 1})
    assert got is not None and got.rank == 1 and got.code == "UserError"
    assert got.first_traceback is not None and "first problem" in got.first_traceback
    assert got.hint is not None and "GPU" in got.hint
    assert explain(RunStatus.CANCELED, None, [s1]) is None


def test_explain_traceback_printed_and_run_completed() -> None:
    got = explain(RunStatus.COMPLETED, None, [_scan(["a", *TB, "b"])])
    assert got is not None and got.code == TRACEBACK_IN_LOG and got.type == "ValueError"
    assert "printed 1 traceback" in got.message and got.traceback is not None
    assert explain(RunStatus.COMPLETED, None, []) is None


def _per_line(data: bytes) -> list[str]:
    """What the splitter must give: each line cut at the cap and cleaned on its own."""
    cap = limits.MAX_LOG_LINE_CHARS * 4
    return [clean_line(raw[:cap]) for raw in data.split(b"\n")[:-1]]


def test_splitter_block_path_matches_line_by_line() -> None:
    import random

    rng = random.Random(3)
    pieces = [b"plain words 123", b"\x1b[1;32mcolour\x1b[0m", b" 10%|#\r 90%|#########\r",
              b"\xff\xfe\xc3\x28 bad", "caf\u00e9 \u2603".encode(), b"tab\there", b"",
              b"nul\x00x", b"y" * 9000, b"\x1b[2K" + b"z" * 8500, b"Traceback (most"]
    data = b"\n".join(rng.choice(pieces) for _ in range(3000)) + b"\n"
    for size in (1, 7, 4096, 1 << 20):  # chunk boundaries anywhere, a line in many chunks
        splitter = LineSplitter()
        got: list[str] = []
        for i in range(0, len(data), size):
            got += splitter.feed(data[i : i + size])
        assert got == _per_line(data), size
        assert splitter.flush() == []


def test_feed_lines_jumps_but_finds_the_same_tracebacks() -> None:
    lines = ["noise"] * 500 + TB + ["x " * 30] * 700 + ["[rank1]: " + x for x in TB] + ["end"]
    lines += [*TB[:-1], "KeyError: 'x'", "tail"]
    one, many = _scan(lines), TracebackScanner("user_logs/std_log.txt")
    for start in range(0, len(lines), 333):  # batches cutting a traceback in two
        many.feed_lines(start + 1, lines[start : start + 333])
    assert many.count == one.count == 3
    assert many.first == one.first and many.last == one.last
    assert many.first is not None and many.first.line == 501
    assert many.last is not None and many.last.exc_type == "KeyError"
