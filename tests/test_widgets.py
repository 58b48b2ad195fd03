"""RunDetails and the HTML reprs, on real runs in a real SQLite workspace."""

from __future__ import annotations

import io
import json
import threading

import pytest

from runtrack import Experiment, InvalidTypeError, OfflineRun, Run, Workspace, _format
from runtrack.sdk import _html
from runtrack.widgets import RunDetails, runs_table
from runtrack.widgets._data import _pick_log
from runtrack.widgets._details import Backoff

WAIT_S = 60.0


def _upload_log(run: Run, path: str, text: str) -> None:
    run.upload_file(path, io.BytesIO(text.encode()))


def test_interactive_run_data(exp: Experiment) -> None:
    with exp.start_logging(display_name="fit") as run:
        for i in range(30):
            run.log("loss", 1 / (i + 1), step=i * 10)
            run.log("acc", i / 30)
        run.log("alpha", 0.5)
        run.log("category", "red")
        run.log_list("fib", [1, 1, 2, 3])
        run.log_row("roc", fpr=0.1, tpr=0.9)
        print("\x1b[32mtraining\x1b[0m started")
        print("".join(f"\repoch {p:3d}%" for p in range(0, 101, 10)))
    data = RunDetails(run).get_widget_data()

    json.dumps(data)  # plain data only
    assert data["mode"] == "run"
    assert data["active"] is False
    assert data["run"]["id"] == run.id
    assert data["run"]["status"] == "Completed"
    assert data["run"]["name"] == "fit"
    assert data["run"]["duration_s"] >= 0
    assert data["url"] is None  # local workspace: no web UI known
    charts = {c["name"]: c for c in data["charts"]}
    assert list(charts) == ["loss", "acc"]
    loss = charts["loss"]
    assert loss["x"] == "step"
    (series,) = loss["series"]
    assert series["run_id"] == run.id
    assert series["x"] == [float(i * 10) for i in range(30)]
    assert series["y"] == pytest.approx([1 / (i + 1) for i in range(30)])
    assert series["last"] == pytest.approx(1 / 30)
    assert charts["acc"]["x"] == "index"
    assert data["values"] == {
        "alpha": 0.5,
        "category": "red",
        "fib": "list of 4",
        "roc": "table, 1 rows x 2 columns",
    }
    assert data["children"] == []
    log = data["log"]
    assert log["path"] == "logs/user_log.txt"
    assert log["lines"] == ["training started", "epoch 100%"]
    assert '<span style="color:#0dbc79">training</span> started' in log["html"]


def test_parent_with_children(exp: Experiment) -> None:
    parent = exp.start_logging()
    children = parent.create_children(count=3)
    for i, child in enumerate(children):
        for j in range(5):
            child.log("mse", (i + 1) * 10.0 / (j + 1))
        child.log("alpha", i / 10)
        if i < 2:
            child.complete()
    details = RunDetails(parent, metrics=["mse", "alpha"])
    data = details.get_widget_data()

    assert data["active"] is True
    assert [c["id"] for c in data["children"]] == [c.id for c in children]
    assert [c["status"] for c in data["children"]] == ["Completed", "Completed", "Running"]
    assert data["columns"] == ["mse", "alpha"]
    assert data["metrics"][children[2].id] == {"mse": pytest.approx(6.0), "alpha": 0.2}
    (mse,) = data["charts"]  # alpha is one value per child: a column, not a chart
    assert mse["name"] == "mse"
    assert [s["run_id"] for s in mse["series"]] == [c.id for c in children]
    assert len({s["color"] for s in mse["series"]}) == 3
    assert data["log"]["path"] is None
    assert "waiting" in data["log"]["message"]

    html = details.html
    for child in children:
        assert child.display_name in html
    assert html.count("<svg") == 1
    assert "Child runs (3)" in html

    children[2].fail("diverged")
    parent.complete()
    data = details.get_widget_data()
    assert data["active"] is False
    assert data["children"][2]["status"] == "Failed"
    assert data["children"][2]["error"] == "diverged"


def test_refresh_follows_a_running_run_until_it_completes(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log("loss", 1.0)
    run.log("loss", 0.5)
    shown: list[str] = []
    details = RunDetails(run, refresh_start=0.05, refresh_max=0.2)
    details.show(render_lib=shown.append)
    assert details.is_refreshing
    assert "refreshing every" in shown[0]
    assert "Running" in shown[0]

    seen_new_point = threading.Event()
    for i in range(2, 6):
        run.log("loss", 1 / (i + 1))
    run.flush()
    for _ in range(int(WAIT_S / 0.05)):  # bounded: until the thread has picked up 6 points
        data = details.get_widget_data()
        if len(data["charts"][0]["series"][0]["y"]) == 6:
            seen_new_point.set()
            break
        threading.Event().wait(0.05)
    assert seen_new_point.is_set()
    assert details.is_refreshing
    run.complete()

    assert details.wait(WAIT_S), "refresh thread did not stop after the run completed"
    assert not details.is_refreshing
    assert details.refreshes >= 2
    assert details.last_error is None
    final = details.get_widget_data()
    assert final["run"]["status"] == "Completed"
    assert final["active"] is False
    assert len(shown) == 2  # the first rendering and the final one
    assert "Completed" in shown[1]
    assert "refreshing every" not in shown[1]


def test_stop_ends_refreshing(exp: Experiment) -> None:
    run = exp.start_logging()
    details = RunDetails(run, refresh_start=0.05, refresh_max=0.1)
    details.show(render_lib=lambda html: None)
    assert details.is_refreshing
    details.stop()
    assert details.wait(WAIT_S)
    run.complete()


def test_terminal_run_does_not_start_refreshing(exp: Experiment) -> None:
    with exp.start_logging() as run:
        run.log("x", 1)
    details = RunDetails(run)
    details.show(render_lib=lambda html: None)
    assert not details.is_refreshing
    assert details.wait(0)


def test_backoff_grows_to_the_cap_and_halves_on_news() -> None:
    b = Backoff(2.0, 30.0)
    grown = [b.next(False) for _ in range(10)]
    assert grown[0] == 3.0
    assert grown == sorted(grown)
    assert grown[-1] == 30.0
    assert b.next(True) == 15.0
    for _ in range(10):
        b.next(True)
    assert b.interval == 2.0


def test_list_of_runs_and_experiment_overlay(exp: Experiment) -> None:
    runs = []
    for alpha in (0.1, 0.2, 0.3):
        with exp.start_logging(tags={"alpha": alpha}) as run:
            for i in range(4):
                run.log("mse", alpha * 100 - i)
            run.log("alpha", alpha)
        runs.append(run)
    data = RunDetails(runs).get_widget_data()
    assert data["mode"] == "runs"
    assert data["run"] is None and data["log"] is None
    assert [r["id"] for r in data["runs"]] == [r.id for r in runs]
    assert [s["run_id"] for s in data["charts"][0]["series"]] == [r.id for r in runs]
    assert data["columns"] == ["mse", "alpha"]
    assert data["metrics"][runs[1].id] == {"mse": pytest.approx(17.0), "alpha": 0.2}

    by_exp = RunDetails(exp).get_widget_data()
    assert by_exp["mode"] == "experiment"
    assert {r["id"] for r in by_exp["runs"]} == {r.id for r in runs}
    assert by_exp["title"].startswith(exp.name)


def test_long_series_is_downsampled(exp: Experiment) -> None:
    with exp.start_logging() as run:
        for i in range(5000):
            run.log("loss", 1.0 if i == 2500 else 0.0, step=i)
    data = RunDetails(run, max_points=400).get_widget_data()
    (series,) = data["charts"][0]["series"]
    assert series["downsampled"] is True
    assert len(series["y"]) <= 400
    assert max(series["y"]) == 1.0  # the spike survives
    assert series["x"][0] == 0 and series["x"][-1] == pytest.approx(4999, abs=20)


def test_incremental_reads_match_a_fresh_read(exp: Experiment) -> None:
    run = exp.start_logging()
    details = RunDetails(run)
    for batch in range(3):
        for i in range(7):
            run.log("v", batch * 10 + i, step=batch * 7 + i)
        run.flush()
        details.get_widget_data()
    run.complete()
    cached = details.get_widget_data()["charts"][0]["series"][0]
    fresh = RunDetails(run).get_widget_data()["charts"][0]["series"][0]
    assert cached["x"] == fresh["x"] and cached["y"] == fresh["y"]
    assert len(fresh["y"]) == 21


def test_log_file_choice_follows_the_documented_order(exp: Experiment) -> None:
    files = {"logs/user_log.txt": 1, "azureml-logs/70_driver_log.txt": 1}
    assert _pick_log(files) == "azureml-logs/70_driver_log.txt"
    files["user_logs/std_log_process_01.txt"] = 1
    files["user_logs/std_log_process_00.txt"] = 1
    assert _pick_log(files) == "user_logs/std_log_process_00.txt"
    nodes = [
        f"user_logs/node_{n:02d}/std_log_process_{r:02d}.txt" for n, r in [(1, 2), (0, 1), (0, 0)]
    ]
    assert _pick_log(nodes) == "user_logs/node_00/std_log_process_00.txt"
    assert _pick_log(["user_logs/node_00/std_log_process_01.txt"]) is not None
    assert _pick_log(["user_logs/mpi_log.txt", "system_logs/prepare.txt"]) is None
    files["user_logs/std_log.txt"] = 1
    assert _pick_log(files) == "user_logs/std_log.txt"
    assert _pick_log({"outputs/model.pkl": 1}) is None

    run = exp.start_logging()
    _upload_log(run, "logs/user_log.txt", "interactive\n")
    _upload_log(run, "user_logs/std_log.txt", "".join(f"line {i}\n" for i in range(500)))
    run.complete()
    log = RunDetails(run, log_lines=20).get_widget_data()["log"]
    assert log["path"] == "user_logs/std_log.txt"
    assert log["lines"] == [f"line {i}" for i in range(480, 500)]
    assert log["truncated"] is True


def test_log_tail_of_a_big_log_starts_at_a_line_boundary(exp: Experiment) -> None:
    run = exp.start_logging()
    big = "".join(f"\x1b[36mrow {i:06d}\x1b[0m {'x' * 80}\n" for i in range(5000))
    _upload_log(run, "user_logs/std_log.txt", big)
    run.complete()
    log = RunDetails(run, log_lines=1000).get_widget_data()["log"]
    assert log["lines"][-1].startswith("row 004999")
    assert log["lines"][0].startswith("row ")  # no half line or half escape code
    assert "\x1b" not in log["html"]


def test_failed_run_shows_its_error(exp: Experiment) -> None:
    run = exp.start_logging()
    run.fail(ValueError("bad input shape"))
    details = RunDetails(run)
    data = details.get_widget_data()
    assert data["run"]["status"] == "Failed"
    assert "bad input shape" in data["run"]["error"]
    assert "bad input shape" in details.html
    assert "This run has no log file." in details.html


def test_offline_run_and_other_types_are_refused() -> None:
    with pytest.raises(InvalidTypeError, match="offline run"):
        RunDetails(OfflineRun())
    with pytest.raises(InvalidTypeError):
        RunDetails("run-id")


def test_mimebundle_outside_a_kernel_is_html_and_text(exp: Experiment) -> None:
    with exp.start_logging() as run:
        run.log("a", 1)
        run.log("a", 2)
    bundle = RunDetails(run)._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert run.id in bundle["text/plain"]
    assert "<svg" in bundle["text/html"]
    assert "<script" not in bundle["text/html"]


def test_repr_html_of_run_experiment_and_runs_table(exp: Experiment) -> None:
    with exp.start_logging(display_name="first <b>") as run:
        run.log("x", 1)
    second = exp.start_logging()
    html = run._repr_html_()
    assert run.id in html and exp.name in html
    assert "first &lt;b&gt;" in html
    assert "Completed" in html
    assert "href" not in html  # local workspace: no web UI to link to

    exp_html = exp._repr_html_()
    assert exp.name in exp_html
    assert run.id in exp_html and second.id in exp_html
    assert "<td" in exp_html

    table = runs_table(exp.get_runs())
    assert len(table) == 2
    assert second.id in table._repr_html_()
    assert "2 runs" in table._repr_html_()
    assert runs_table([])._repr_html_().endswith("No runs.</div>")
    second.complete()


def test_duration_and_number_texts() -> None:
    assert _format.duration_text(None) == "—"
    assert _format.duration_text(0.25) == "250 ms"
    assert _format.duration_text(4.25) == "4.2 s"
    assert _format.duration_text(42) == "42 s"
    assert _format.duration_text(187) == "3m 07s"
    assert _format.duration_text(7500) == "2h 05m"
    assert _format.duration_text(3 * 86400 + 4 * 3600) == "3d 4h"
    assert _html.number_text(3295.7123) == "3,296"  # runtrack._format.format_number
    assert _html.number_text(0.15000000000000002) == "0.15"
    assert _html.number_text(1e-5) == "1e-5"
    assert _html.number_text(True) == "True"
    assert _html.number_text("x" * 50).endswith("…")


def test_server_workspace_links_to_the_run_page(live_server) -> None:  # type: ignore[no-untyped-def]
    ws = Workspace(live_server.url)
    try:
        run = Experiment(ws, "links").start_logging(display_name="remote")
        run.log("loss", 2.0)
        run.log("loss", 1.0)
        _upload_log(run, "user_logs/std_log.txt", "\x1b[35mremote\x1b[0m log\n")
        details = RunDetails(run)
        data = details.get_widget_data()
        url = f"{live_server.url}/runs/{run.id}"
        assert data["url"] == url == data["run"]["url"]
        assert data["charts"][0]["series"][0]["y"] == [2.0, 1.0]
        assert data["log"]["lines"] == ["remote log"]
        assert f'href="{url}"' in details.html and "Open in runtrack" in details.html
        assert f'href="{url}"' in run._repr_html_()
        assert "Details page" in runs_table([run])._repr_html_()
        run.complete()
    finally:
        ws.close()


def test_widgets_surface_is_pinned_and_imports_no_front_end() -> None:
    import subprocess
    import sys

    import runtrack.widgets

    assert runtrack.widgets.__all__ == ["RunDetails", "RunsTable", "runs_table"]
    code = (
        "import sys, runtrack.widgets; "
        "top = {m.split('.')[0] for m in sys.modules}; "
        "print(sorted({'ipywidgets', 'IPython', 'plotly'} & top))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_show_outside_a_kernel_prints_one_snapshot_and_does_not_refresh(
    exp: Experiment, capsys: pytest.CaptureFixture[str]
) -> None:
    run = exp.start_logging()
    details = RunDetails(run, refresh_start=0.05)
    details.show()
    assert not details.is_refreshing
    out = capsys.readouterr().out
    assert out.startswith("RunDetails: #1") and run.id in out
    assert out.count("\n") == 1 and "<div" not in out
    run.complete()
