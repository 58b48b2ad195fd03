"""The docs test: every fenced block of README.md and docs/**/*.md runs as written.

Pages are found by glob, so a new page is tested the moment it exists. Each page gets
its own temporary folder (the current folder of every block; ``./.runtrack`` there is
the default workspace) and its own environment (``TMPDIR`` inside the folder); its
blocks run in page order.

How to write a block (the convention, also in docs/CONTRIBUTING-docs.md):

* Every fence names a language. ``text`` marks an illustration (output, diagrams,
  sketches) and is not run. A fence without a language fails this test.
* ``python`` blocks run alone, each in a fresh interpreter, and must exit 0. If a block
  continues from earlier prose (uses ``run``, ``exp``…), give it what it needs in a
  hidden prelude, an HTML comment right above the fence::

      <!-- docs-test: before
      from runtrack import Experiment, Workspace
      exp = Experiment(Workspace.from_config(), "docs")
      -->

* ``bash``/``sh``/``shell`` blocks: each command (a line; ``\\`` continues it; ``&&``
  separates commands; ``#`` comments are dropped) must exit 0. ``export K=V`` sets K for
  the page's later commands. ``runtrack …`` and ``python …`` run with the interpreter under
  test. Only checked, not run: ``pip install`` (the extras it names must exist in
  pyproject.toml) and ``python -m pytest`` (CI runs the suite). Commands that serve
  (``runtrack server``, ``runtrack ui``, ``runtrack demo`` without ``--no-serve``) start in
  the background on a free 127.0.0.1 port, must answer HTTP, and are then stopped.
* ``json`` blocks must parse.
* Other directives, an HTML comment right above the fence:
  ``<!-- docs-test: needs MODULE -->`` skips the block when MODULE is not installed
  (fails instead under ``CI=true``, where CI installs it; lines after ``needs MODULE`` are a
  prelude, as after ``before``); ``<!-- docs-test: skip REASON -->``
  skips it (a reason is required; use it only for what cannot run here, such as S3).
* Placeholders, written exactly as in ``PLACEHOLDERS`` below, are replaced before a block
  runs: a server URL by a live server over the page's workspace, ``RUN_ID`` by a completed
  submitted run (two processes: ranks 0 and 1), ``/data/runtrack`` by a folder, and so on.
  The page's folder also holds
  ``train.py`` and ``scripts/train.py`` (log a ``loss`` metric with runtrack, or with
  mlflow when ``MLFLOW_TRACKING_URI`` is set; accept any arguments) and
  ``actuals_vs_predictions.png``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

import httpx
import pytest

from tests.live_server import LiveServer, free_port, start_server

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("**/*.md")])
RUNNABLE = {"python", "bash", "sh", "shell", "json"}
BLOCK_TIMEOUT_S = 300
SERVE_TIMEOUT_S = 180

# placeholder -> what it stands for (filled per page, lazily)
PLACEHOLDERS = {
    "http://tracker:5000": "the URL of a live server over the page's workspace",
    "http://127.0.0.1:5000": "the URL of a live server over the page's workspace",
    "RUN_ID": "a completed submitted run (ranks 0 and 1) in the page's workspace",
    "<run id>": "the id of a completed submitted run in the page's workspace",
    "rt_…": "a token string",
    "/data/runtrack": "a folder of the page",
    "/etc/runtrack/tokens.json": "a token file in the page's folder",
    "postgresql://runtrack:secret@db/runtrack": "an empty database on a throwaway PostgreSQL",
    "s3://team-bucket/runtrack": "a local folder (S3 is not reachable from the tests)",
}

_FENCE = re.compile(
    r"(?P<comment><!--\s*docs-test:(?P<directive>.*?)-->\s*\n)?"
    r"^```(?P<lang>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$",
    re.S | re.M,
)
_SERVING = re.compile(r"^runtrack\s+(server|ui|demo)\b")

TRAIN_PY = """\
import os
import sys

if os.environ.get("MLFLOW_TRACKING_URI"):
    import mlflow

    with mlflow.start_run():
        mlflow.log_metric("loss", 0.5)
else:
    from runtrack import Run

    run = Run.get_context()
    run.log("loss", 0.5)
print("trained with", sys.argv[1:])
"""


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    body: str
    directive: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks_of(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        line = text.count("\n", 0, m.start("lang")) + 1
        out.append(Block(page, line, m.group("lang").strip(), m.group("body"),
                         (m.group("directive") or "").strip()))
    return out


@dataclass
class Page:
    """The folder, environment and lazily made fixtures one page's blocks share."""

    folder: Path
    request: pytest.FixtureRequest
    env: dict[str, str] = field(default_factory=dict)
    servers: list[LiveServer] = field(default_factory=list)
    _values: dict[str, str] = field(default_factory=dict)

    def value(self, placeholder: str) -> str:
        if placeholder not in self._values:
            self._values[placeholder] = self._make(placeholder)
        return self._values[placeholder]

    def _make(self, placeholder: str) -> str:
        if placeholder.startswith("http://"):
            server = start_server(self.folder / "_server", workspace=self.folder / ".runtrack")
            self.servers.append(server)
            return server.url
        if placeholder in ("RUN_ID", "<run id>"):
            return self._submitted_run()
        if placeholder == "rt_…":
            return "rt_docs-test-token"
        if placeholder.startswith("postgresql://"):
            return str(self.request.getfixturevalue("postgres_url"))
        made = self.folder / placeholder.replace("://", "/").strip("/")
        made.parent.mkdir(parents=True, exist_ok=True)
        return str(made)

    def _submitted_run(self) -> str:
        code = (
            "from runtrack import Experiment, MpiConfiguration, ScriptRunConfig, Workspace\n"
            "run = Experiment(Workspace.from_config(), 'docs').submit(ScriptRunConfig(\n"
            "    'scripts', 'train.py',\n"
            "    distributed_job_config=MpiConfiguration(process_count_per_node=2)))\n"
            "run.wait_for_completion()\n"
            "print(run.id)\n"
        )
        out = run_checked([sys.executable, "-c", code], self)
        return out.strip().splitlines()[-1]

    def fill(self, text: str) -> str:
        for placeholder in PLACEHOLDERS:
            if placeholder in text:
                text = text.replace(placeholder, self.value(placeholder))
        return text


def run_checked(cmd: list[str] | str, page: Page, where: str = "") -> str:
    done = subprocess.run(
        cmd, cwd=page.folder, env=page.env, capture_output=True, text=True,
        timeout=BLOCK_TIMEOUT_S, shell=isinstance(cmd, str), check=False,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"{where or cmd}: exit {done.returncode}\n--- command: {cmd}\n"
            f"--- stdout:\n{done.stdout[-4000:]}\n--- stderr:\n{done.stderr[-4000:]}"
        )
    return done.stdout


def commands_of(body: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", body)
    commands = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        command: list[str] = []
        for word in [*words, "&&"]:
            if word == "&&":
                if command:
                    commands.append(shlex.join(command))
                command = []
            else:
                command.append(word)
    return commands


def _pip_extras_exist(command: str) -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    extras = set(re.findall(r"^([\w-]+) = \[", pyproject, re.M))
    for group in re.findall(r"\[([\w,\s-]+)\]", command):
        for extra in group.split(","):
            assert extra.strip() in extras, f"{command!r}: no extra {extra.strip()!r} in pyproject"


def _with_interpreter(command: str) -> str:
    words = shlex.split(command)
    if words[0] == "runtrack":
        words = [sys.executable, "-m", "runtrack", *words[1:]]
    elif words[0] == "python":
        words = [sys.executable, *words[1:]]
    return shlex.join(words)


def _serve(command: str, page: Page, where: str) -> None:
    words = shlex.split(command)
    for flag in ("--host", "--port"):
        if flag in words:
            i = words.index(flag)
            del words[i:i + 2]
    port = free_port()
    words += ["--host", "127.0.0.1", "--port", str(port)]
    log = page.folder / f"_serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(shlex.split(_with_interpreter(shlex.join(words))),
                                cwd=page.folder, env=page.env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"{where}: {command!r} exited {proc.returncode}:\n"
                                     f"{log.read_text(errors='replace')[-4000:]}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2.0)
                return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{where}: {command!r} never answered HTTP"
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=20)


def run_bash(block: Block, page: Page) -> None:
    for command in commands_of(page.fill(block.body)):  # fill first: `<run id>` is 2 words
        words = shlex.split(command)
        if words[0] == "export":
            for assignment in words[1:]:
                key, _, value = assignment.partition("=")
                page.env[key] = value
        elif "pip" in words[:3] and "install" in words:
            _pip_extras_exist(command)
        elif words[:3] == ["python", "-m", "pytest"]:
            continue
        elif _SERVING.match(command) and "--no-serve" not in words:
            _serve(command, page, block.where)
        else:
            run_checked(_with_interpreter(command), page, f"{block.where}: {command}")


def run_python(block: Block, page: Page) -> None:
    head, _, rest = block.directive.partition("\n")
    prelude = rest.strip("\n") + "\n" if head.startswith(("before", "needs")) and rest else ""
    script = page.folder / f"_block_{block.line}.py"
    script.write_text(page.fill(prelude + block.body))
    run_checked([sys.executable, str(script)], page, block.where)


RUNNERS: dict[str, Callable[[Block, Page], None]] = {
    "python": run_python, "bash": run_bash, "sh": run_bash, "shell": run_bash,
    "json": lambda block, page: json.loads(block.body) and None,
}


def run_block(block: Block, page: Page) -> None:
    assert block.lang, f"{block.where}: name the fence's language (text for illustrations)"
    if block.lang == "text":
        return
    assert block.lang in RUNNABLE, f"{block.where}: unknown fence language {block.lang!r}"
    directive = block.directive
    if directive.startswith("skip"):
        assert directive[4:].strip(), f"{block.where}: 'docs-test: skip' needs a reason"
        return
    if directive.startswith("needs"):
        module = directive.split()[1]  # the first line: needs MODULE
        if find_spec(module) is None:
            if os.environ.get("CI") == "true":
                raise AssertionError(f"{block.where}: needs {module}, which CI installs")
            return
    RUNNERS[block.lang](block, page)


@pytest.fixture
def page_env(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    folder = tmp_path / "page"
    (folder / "scripts").mkdir(parents=True)
    for script in (folder / "train.py", folder / "scripts" / "train.py"):
        script.write_text(TRAIN_PY)
    from PIL import Image

    Image.new("RGB", (8, 8), "white").save(folder / "actuals_vs_predictions.png")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNTRACK_", "MLFLOW_"))}
    (folder / "tmp").mkdir()
    env["TMPDIR"] = str(folder / "tmp")  # `runtrack gc --apply` and run folders stay here
    page = Page(folder, request, env)
    yield page
    for server in page.servers:
        server.stop()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_block_of_the_page_runs(page: Path, page_env: Page) -> None:
    for block in blocks_of(page):
        run_block(block, page_env)


def test_a_broken_block_fails_and_says_where(page_env: Page) -> None:
    block = Block(ROOT / "docs" / "broken.md", 3, "bash", "true\nfalse\n")
    with pytest.raises(AssertionError, match=r"docs/broken.md:3: false"):
        run_block(block, page_env)


def test_unlabelled_fences_and_reasonless_skips_fail(page_env: Page) -> None:
    with pytest.raises(AssertionError, match="name the fence's language"):
        run_block(Block(ROOT / "README.md", 1, "", "anything\n"), page_env)
    with pytest.raises(AssertionError, match="needs a reason"):
        run_block(Block(ROOT / "README.md", 1, "bash", "false\n", "skip"), page_env)


def test_directives_and_fences_are_parsed(tmp_path: Path) -> None:
    doc = tmp_path / "d.md"
    doc.write_text(
        "# t\n<!-- docs-test: before\nx = 1\n-->\n```python\nprint(x)\n```\n\n"
        "```text\nnot run\n```\n"
    )
    found = blocks_of(doc)
    assert [(b.lang, b.directive, b.line) for b in found] == [
        ("python", "before\nx = 1", 5), ("text", "", 9)
    ]
    assert commands_of("a b \\\n  c  # note\nexport X=1 && y\n") == ["a b c", "export X=1", "y"]
