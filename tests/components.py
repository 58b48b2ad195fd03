"""``RUNTRACK_TEST_WITHOUT``: run the suite as on a machine without some components.

``RUNTRACK_TEST_WITHOUT=postgres,chromium,lightning python -m pytest -q`` makes the tests
that need PostgreSQL, Chromium or Lightning (torch) behave as if the component were not
installed: they skip (and, under ``CI=true``, fail, as for a missing component). Nothing
is uninstalled; the variable is read once, when the tests are imported (the autouse
``clean_environ`` fixture removes ``RUNTRACK_`` variables before each test).
"""

from __future__ import annotations

import os

ENV = "RUNTRACK_TEST_WITHOUT"
KNOWN = ("postgres", "chromium", "lightning")


def _parse(value: str) -> frozenset[str]:
    names = frozenset(part.strip() for part in value.split(",") if part.strip())
    unknown = sorted(names.difference(KNOWN))
    if unknown:
        raise ValueError(f"{ENV}={value!r}: unknown component(s) {', '.join(unknown)}; "
                         f"name some of {', '.join(KNOWN)}")
    return names


HIDDEN = _parse(os.environ.get(ENV, ""))


def hidden(component: str) -> str | None:
    """Why ``component`` counts as missing (``RUNTRACK_TEST_WITHOUT`` names it), or None."""
    assert component in KNOWN, component
    return f"{component} is hidden by {ENV}" if component in HIDDEN else None
