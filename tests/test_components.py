"""tests/components.py: ``RUNTRACK_TEST_WITHOUT`` names the components the suite hides."""

from __future__ import annotations

import pytest

from tests import components


def test_names_are_parsed_and_unknown_ones_refused() -> None:
    assert components._parse("") == frozenset()
    assert components._parse(" postgres , chromium,") == {"postgres", "chromium"}
    with pytest.raises(ValueError, match=r"unknown component.*postgresql.*name some of"):
        components._parse("postgresql,lightning")


def test_a_hidden_component_gives_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(components, "HIDDEN", frozenset({"lightning"}))
    assert components.hidden("postgres") is None
    assert "RUNTRACK_TEST_WITHOUT" in str(components.hidden("lightning"))
