"""Terminal replay of log text: colours, carriage returns, erase and cursor codes."""

from __future__ import annotations

from runtrack._ansi import Screen, Style, apply_sgr, color_256, render


def test_plain_text_passes_through_escaped() -> None:
    lines, html = render("a < b & c\nsecond line\n")
    assert lines == ["a < b & c", "second line"]
    assert html == "a &lt; b &amp; c\nsecond line"


def test_carriage_return_keeps_the_last_state_of_a_progress_bar() -> None:
    text = "epoch 1\n" + "".join(f"\r{p:3d}%|{'#' * (p // 10):<10}|" for p in range(0, 101, 5))
    lines, _ = render(text + "\ndone\n")
    assert lines == ["epoch 1", "100%|##########|", "done"]


def test_shorter_overwrite_keeps_the_tail_like_a_terminal() -> None:
    lines, _ = render("abcdef\rXY\n")
    assert lines == ["XYcdef"]


def test_crlf_is_one_line_break() -> None:
    assert render("one\r\ntwo\r\n")[0] == ["one", "two"]


def test_sgr_colours_become_inline_styles_and_reset() -> None:
    lines, html = render("\x1b[31mred\x1b[0m plain \x1b[1;32mbold green\x1b[m")
    assert lines == ["red plain bold green"]
    assert '<span style="color:#cd3131">red</span> plain ' in html
    assert '<span style="color:#0dbc79;font-weight:bold">bold green</span>' in html


def test_256_and_truecolour() -> None:
    assert color_256(196) == "#ff0000"
    assert color_256(232) == "#080808"
    assert color_256(9) == "#f14c4c"
    style = apply_sgr(Style(), [38, 5, 208, 48, 2, 1, 2, 3])
    assert style.fg == "#ff8700"
    assert style.bg == "#010203"
    assert apply_sgr(style, [39, 49]) == Style()


def test_erase_in_line_and_cursor_up_redraw() -> None:
    # tqdm-style: two bars redrawn in place with ESC[A (up) and ESC[K (erase to end)
    text = "bar1 10%\nbar2 10%\n\x1b[2A\rbar1 100%\x1b[K\n\rbar2 100%\x1b[K\n"
    assert render(text)[0] == ["bar1 100%", "bar2 100%"]
    assert render("hello world\r\x1b[2Kbye")[0] == ["bye"]
    assert render("abcdef\x1b[3D\x1b[1K")[0] == ["    ef"]


def test_unknown_escapes_and_control_characters_never_show() -> None:
    text = "a\x1b]8;;http://x\x07link\x1b]8;;\x07b\x1b[?25l\x1b=c\x07d\x00e\x1b"
    lines, html = render(text)
    assert lines == ["alinkbcde"]
    assert "\x1b" not in html


def test_tabs_backspace_and_max_lines() -> None:
    assert render("a\tb")[0] == ["a       b"]
    assert render("abc\bX")[0] == ["abX"]
    lines, html = render("".join(f"line {i}\n" for i in range(100)), max_lines=3)
    assert lines == ["line 97", "line 98", "line 99"]
    assert html.count("\n") == 2


def test_screen_feed_in_pieces_equals_feed_at_once() -> None:
    text = "x\x1b[33myellow\x1b[0m\r\nnext\rN"
    whole = Screen()
    whole.feed(text)
    parts = Screen()
    for piece in ("x\x1b[33myel", "low\x1b[0m\r\n", "next\rN"):
        parts.feed(piece)
    assert whole.plain_lines() == parts.plain_lines() == ["xyellow", "Next"]
