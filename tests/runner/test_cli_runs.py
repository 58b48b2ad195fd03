"""`runtrack submit / logs / cancel / download` against real supervised runs."""

from __future__ import annotations

import zipfile
from pathlib import Path

from click.testing import CliRunner

from runtrack.cli import main

SCRIPT = """
import os, sys
rank = os.environ.get("RANK", "0")
print("rank", rank, "args", sys.argv[1:])
print("step 1\\rstep 2\\rstep 3 \\x1b[32mok\\x1b[0m")
os.makedirs("outputs", exist_ok=True)
open(f"outputs/r{rank}.txt", "w").write(rank)
if sys.argv[1:] == ["--fail"]:
    sys.exit(5)
"""


def test_submit_follow_logs_download_cancel(tmp_path: Path) -> None:
    src = tmp_path / "proj"
    src.mkdir()
    (src / "job.py").write_text(SCRIPT)
    uri = str(tmp_path / "ws")
    cli = CliRunner()
    result = cli.invoke(
        main,
        [
            "submit",
            str(src / "job.py"),
            "--lr",
            "0.1",
            "--uri",
            uri,
            "--experiment",
            "cli",
            "--processes-per-node",
            "2",
            "--tag",
            "team=a",
            "--follow",
        ],
    )
    assert result.exit_code == 0, result.output
    run_id = result.output.splitlines()[0]
    assert "rank 0 args ['--lr', '0.1']" in result.output
    assert "Streaming user_logs/std_log_process_00.txt" in result.output
    assert "Status: Completed" in result.output

    shown = cli.invoke(main, ["logs", run_id, "--uri", uri, "--rank", "1"])
    assert shown.exit_code == 0, shown.output
    assert "rank 1 args" in shown.output
    assert "step 3 ok\n" in shown.output and "\r" not in shown.output  # rendered
    raw = cli.invoke(main, ["logs", run_id, "--uri", uri, "--raw"])
    assert "step 1\rstep 2\rstep 3 \x1b[32mok" in raw.output
    bad_rank = cli.invoke(main, ["logs", run_id, "--uri", uri, "--rank", "7"])
    assert bad_rank.exit_code != 0 and "no rank 7" in bad_rank.output

    out = tmp_path / "dl"
    got = cli.invoke(
        main, ["download", run_id, "--uri", uri, "--prefix", "outputs", "-o", str(out)]
    )
    assert got.exit_code == 0, got.output
    assert sorted(p.name for p in (out / "outputs").iterdir()) == ["r0.txt", "r1.txt"]
    archive = tmp_path / "logs.zip"
    got = cli.invoke(
        main, ["download", run_id, "--uri", uri, "--prefix", "user_logs/", "--zip", str(archive)]
    )
    assert got.exit_code == 0, got.output
    names = zipfile.ZipFile(archive).namelist()
    assert names == ["user_logs/std_log_process_00.txt", "user_logs/std_log_process_01.txt"]

    done = cli.invoke(main, ["cancel", run_id, "--uri", uri])
    assert done.exit_code == 0 and done.output.strip() == f"{run_id}: Completed"

    failed = cli.invoke(
        main, ["submit", str(src / "job.py"), "--uri", uri, "-e", "cli", "--follow", "--", "--fail"]
    )
    assert failed.exit_code == 1, failed.output
    assert "User program exited with code 5" in failed.output
    missing = cli.invoke(main, ["logs", "no-such-run", "--uri", uri])
    assert missing.exit_code != 0
