"""``RunDetails``: the notebook view of a run (or several), refreshed while it runs.

Display is one MIME bundle carrying both the live widget (an ``ipywidgets.HTML`` whose
value is replaced on each refresh) and ``text/html`` (the same content, static). A front
end with a widget manager shows the widget; one without (plain IPython, VS Code without
widgets, nbconvert, GitHub) shows the HTML. Without ipywidgets the HTML output itself is
updated in place through its display id.

Refreshing runs on a daemon thread, so the kernel is never blocked: the interval starts at
``refresh_start`` seconds, grows x1.5 after a refresh that found nothing new, halves
after one that did (never outside ``refresh_start``…``refresh_max``), and the thread ends
once every shown run is terminal, after ``stop()``, when the widget is closed, after 5
failed refreshes in a row, or after ``max_refresh_seconds``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from runtrack.widgets._data import Collector
from runtrack.widgets._render import render

log = logging.getLogger("runtrack")

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
MAX_ERRORS = 5


class Backoff:
    """Refresh interval: halves after news, grows x``factor`` after none, in [start, cap]."""

    def __init__(self, start: float = 2.0, cap: float = 30.0, factor: float = 1.5) -> None:
        self.start = start
        self.cap = max(cap, start)
        self.factor = factor
        self.interval = start

    def next(self, changed: bool) -> float:
        if changed:
            self.interval = max(self.start, self.interval / 2)
        else:
            self.interval = min(self.cap, self.interval * self.factor)
        return self.interval


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (outputs can be updated in place), False elsewhere
    (plain Python, terminal IPython: an update would print the view again)."""
    try:
        from IPython.core.getipython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()  # type: ignore[no-untyped-call]
    return shell is not None and getattr(shell, "kernel", None) is not None


def _kernel_widgets() -> Any:
    """The ipywidgets module when running in a Jupyter kernel that has it, else None."""
    if not _in_kernel():
        return None
    try:
        import ipywidgets
    except ImportError:
        return None
    return ipywidgets


class RunDetails:
    """Status, metric charts, log tail and child runs of a run, live in a notebook.

    ``RunDetails(run).show()``; ``run_instance`` may also be a list of runs or an
    Experiment (its newest runs), whose metrics are overlaid. ``metrics`` picks the
    charts and table columns (default: every scalar metric). ``get_widget_data()``
    returns what is shown as plain data.
    """

    def __init__(
        self,
        run_instance: Any,
        *,
        metrics: Sequence[str] | None = None,
        log_lines: int = 60,
        max_points: int = 600,
        refresh_start: float = 2.0,
        refresh_max: float = 30.0,
        max_refresh_seconds: float = 24 * 3600,
    ) -> None:
        self._collector = Collector(
            run_instance, metrics=metrics, log_lines=log_lines, max_points=max_points
        )
        self._backoff = Backoff(refresh_start, refresh_max)
        self._max_seconds = max_refresh_seconds
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # set: refresh now instead of after the interval
        self._thread: threading.Thread | None = None
        self._data: dict[str, Any] | None = None
        self._html = ""
        self._widget: Any = None
        self._handle: Any = None
        self._render_lib: Callable[[str], Any] | None = None
        self.refreshes = 0
        self.last_error: str | None = None

    # -- data ----------------------------------------------------------------------

    def get_widget_data(self, widget_settings: dict[str, Any] | None = None) -> dict[str, Any]:
        """Fetch and return what the widget shows, as plain Python data (a dict)."""
        self._update()
        assert self._data is not None
        return self._data

    @property
    def is_refreshing(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _refresh_state(self) -> dict[str, Any]:
        return {"active": self.is_refreshing, "interval": self._backoff.interval}

    def _update(self) -> bool:
        """Collect and re-render; push to the widget. True when something changed."""
        with self._lock:
            before = self._collector.fingerprint
            data = self._collector.collect()
            self._data = data
            self.refreshes += 1
            self._html = render(data, refresh=self._refresh_state())
            if self._widget is not None:
                self._widget.value = self._html
            return self._collector.fingerprint != before

    # -- display -------------------------------------------------------------------

    def _text(self) -> str:
        data = self._data
        if data is None:
            return "RunDetails"
        if data["run"] is not None:
            run = data["run"]
            text = f"RunDetails: {run['label']} ({run['id']}) — {run['status']}, {run['duration']}"
        else:
            statuses = ", ".join(f"{r['label']}: {r['status']}" for r in data["runs"][:5])
            text = f"RunDetails: {data['title']} — {statuses}"
        charts = ", ".join(c["name"] for c in data["charts"])
        return text + (f"; metrics: {charts}" if charts else "")

    def _bundle(self) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": self._text(), "text/html": self._html}
        if self._widget is not None:
            view = self._widget._repr_mimebundle_().get(WIDGET_MIME)
            if view is not None:
                bundle[WIDGET_MIME] = view
        return bundle

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """Displayed as a bare expression: a snapshot (``show()`` refreshes it)."""
        if self._data is None:
            self._update()
        widgets = _kernel_widgets()
        if widgets is not None and self._widget is None:
            self._widget = widgets.HTML(value=self._html)
        return self._bundle()

    def _repr_html_(self) -> str:
        if self._data is None:
            self._update()
        return self._html

    @property
    def html(self) -> str:
        """The current rendering (static HTML, no script)."""
        if self._data is None:
            self._update()
        return self._html

    def show(
        self,
        render_lib: Callable[[str], Any] | None = None,
        widget_settings: dict[str, Any] | None = None,
    ) -> None:
        """Display the view and keep it current while any shown run is active.

        ``render_lib``: a function taking HTML (e.g. Databricks' ``displayHTML``) used
        instead of IPython's display: called now, and once more when the runs end.
        """
        self._update()
        assert self._data is not None
        # Outside a kernel nothing can be updated in place: show a snapshot only.
        if self._data["active"] and (render_lib is not None or _in_kernel()):
            self._start()
            with self._lock:  # the first rendering already says it is live
                self._html = render(self._data, refresh=self._refresh_state())
        if render_lib is not None:
            self._render_lib = render_lib
            render_lib(self._html)
            return
        try:
            from IPython.core.getipython import get_ipython
            from IPython.display import display
        except ImportError:
            # No notebook extra: plain Python shows the one-line summary, as below.
            print(self._text())
            return
        if get_ipython() is None:  # type: ignore[no-untyped-call]
            print(self._text())  # plain Python: the one-line summary
            return
        widgets = _kernel_widgets()
        with self._lock:
            if widgets is not None and self._widget is None:
                self._widget = widgets.HTML(value=self._html)
            bundle = self._bundle()
        self._handle = display(bundle, raw=True, display_id=True)  # type: ignore[no-untyped-call]

    # -- refreshing ----------------------------------------------------------------

    def _start(self) -> None:
        if self.is_refreshing:
            return
        self._stop.clear()
        self._wake.clear()
        self._thread = threading.Thread(target=self._loop, name="runtrack-run-details", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop refreshing (the view keeps its last state)."""
        self._stop.set()
        self._wake.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Refresh now, then block until refreshing has ended (the runs are terminal);
        True if it has. After ``run.wait_for_completion()`` this returns at once with
        the view (and a saved notebook's static copy) in its final state."""
        thread = self._thread
        if thread is not None:
            self._wake.set()
            thread.join(timeout)
        return not self.is_refreshing

    def _closed(self) -> bool:
        return self._widget is not None and getattr(self._widget, "comm", None) is None

    def _loop(self) -> None:
        deadline = time.monotonic() + self._max_seconds
        errors = 0
        interval = self._backoff.interval
        while True:
            self._wake.wait(interval)
            self._wake.clear()
            if self._stop.is_set() or time.monotonic() > deadline or self._closed():
                break
            try:
                changed = self._update()
                errors = 0
                self.last_error = None
            except Exception as exc:  # a flaky store must not kill the kernel's thread
                errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("runtrack: RunDetails refresh failed: %s", self.last_error)
                if errors >= MAX_ERRORS:
                    break
                interval = self._backoff.next(False)
                continue
            self._publish(final=False)
            assert self._data is not None
            if not self._data["active"]:
                break
            interval = self._backoff.next(changed)
        self._finish()

    def _finish(self) -> None:
        """Last render without the 'refreshing' note; the static fallback gets it too."""
        self._thread = None
        if self._data is None:
            return
        with self._lock:
            self._html = render(self._data, refresh={"active": False, "interval": 0})
            if self._widget is not None and not self._closed():
                self._widget.value = self._html
        self._publish(final=True)

    def _publish(self, *, final: bool) -> None:
        """Push the HTML where no widget carries it: render_lib or the display handle."""
        try:
            if self._render_lib is not None:
                if final:
                    self._render_lib(self._html)
            elif self._handle is not None and (self._widget is None or final):
                self._handle.update(self._bundle(), raw=True)
        except Exception as exc:
            log.debug("runtrack: RunDetails could not update its output: %s", exc)
