"""Rendering stored output as a terminal would show it."""

from __future__ import annotations

from runtrack.sdk._logview import render_terminal


def test_carriage_returns_overwrite_like_a_terminal() -> None:
    assert render_terminal("10%\r50%\r100%\ndone\n") == "100%\ndone\n"
    assert render_terminal("abcdef\rXY\n") == "XYcdef\n"
    assert render_terminal("progress\r\n") == "progress\n"


def test_colours_are_dropped() -> None:
    text = "\x1b[1;31merror\x1b[0m: x\n"
    assert render_terminal(text) == "error: x\n"
