"""``runtrack._bulk.collector_paused``: the collector is paused inside, restored after."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from runtrack._bulk import collector_paused


@pytest.fixture(autouse=True)
def _restore_collector() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_paused_inside_and_enabled_after() -> None:
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: one pause
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_enabled_after_an_error() -> None:
    gc.enable()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_overlapping_threads_share_one_pause() -> None:
    gc.enable()
    inside, release = threading.Event(), threading.Event()

    def reader() -> None:
        with collector_paused():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=reader)
    thread.start()
    assert inside.wait(10)
    with collector_paused():
        pass
    assert not gc.isenabled()  # the other read is still running
    release.set()
    thread.join(10)
    assert gc.isenabled()
