"""``Model``: the Azure v1 face of the registry, on a local workspace and on a server,
and eight processes registering one name at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtrack import Experiment, Workspace
from runtrack.catalog import MODEL_FILES_KEY
from runtrack.errors import InvalidValueError, NotFoundError, PropertyConflictError
from runtrack.sdk.models import Model
from tests.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]


def _model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "clf"
    (folder / "sub").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"\x00\x01weights")
    (folder / "sub" / "config.json").write_text('{"alpha": 0.5}')
    return folder


def _exercise(ws: Workspace, tmp_path: Path) -> None:
    single = tmp_path / "model.pkl"
    single.write_bytes(b"pickle-1")
    first = Model.register(ws, str(single), "ridge", tags={"area": "demo"},
                           properties={"alpha": 0.5}, description="first try",
                           model_framework="ScikitLearn")
    assert (first.name, first.version, first.id) == ("ridge", 1, "ridge:1")
    assert first.tags == {"area": "demo"} and first.description == "first try"
    assert first.properties == {"alpha": "0.5", "model_framework": "ScikitLearn"}
    single.write_bytes(b"pickle-2")  # the registered copy must not change
    second = Model.register(ws, _model_folder(tmp_path), "ridge")
    assert second.version == 2

    assert Model(ws, "ridge").version == 2
    assert Model(ws, "ridge", version=1) == first
    assert Model(ws, id="ridge:1").description == "first try"
    assert [m.id for m in Model.list(ws)] == ["ridge:2", "ridge:1"]
    assert [m.id for m in Model.list(ws, tags=["area"])] == ["ridge:1"]
    assert [m.id for m in Model.list(ws, tags=[["area", "other"]])] == []
    assert [m.id for m in Model.list(ws, properties=[["alpha", "0.5"]])] == ["ridge:1"]
    assert [m.id for m in Model.list(ws, name="nope")] == []
    assert list(ws.models) == ["ridge"] and ws.models["ridge"].version == 2

    out = Path(first.download(str(tmp_path / "dl1")))
    assert out == tmp_path / "dl1" / "model.pkl" and out.read_bytes() == b"pickle-1"
    with pytest.raises(FileExistsError):
        first.download(str(tmp_path / "dl1"))
    folder = Path(second.download(str(tmp_path / "dl2")))
    assert folder == tmp_path / "dl2" / "clf"
    assert (folder / "sub" / "config.json").read_text() == '{"alpha": 0.5}'
    assert sorted(second.get_files()) == ["clf/sub/config.json", "clf/weights.bin"]

    first.add_tags({"stage": "prod"})
    first.remove_tags(["area"])
    first.add_properties({"extra": "1"})
    with pytest.raises(PropertyConflictError):
        first.add_properties({"extra": "2"})
    again = Model(ws, "ridge", version=1)
    assert again.tags == {"stage": "prod"} and again.properties["extra"] == "1"
    second.delete()
    assert Model(ws, "ridge").version == 1
    assert Model.register(ws, str(single), "ridge").version == 3


def test_register_list_download_on_a_local_workspace(ws: Workspace, tmp_path: Path) -> None:
    _exercise(ws, tmp_path)


def test_the_same_on_a_server_workspace(live_server: LiveServer, tmp_path: Path) -> None:
    ws = Workspace(live_server.url)
    try:
        _exercise(ws, tmp_path)
        with pytest.raises(InvalidValueError):  # model files are not replaced over HTTP either
            ws.artifacts.delete_run(MODEL_FILES_KEY)
    finally:
        ws.close()


def test_unknown_names_and_bad_paths(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no model is registered yet"):
        Model(ws, "missing")
    (tmp_path / "m.bin").write_bytes(b"x")
    Model.register(ws, str(tmp_path / "m.bin"), "known")
    with pytest.raises(NotFoundError, match="'known'"):
        Model(ws, "missing")
    with pytest.raises(NotFoundError, match="versions are: 1"):
        Model(ws, "known", version=4)
    with pytest.raises(NotFoundError, match="does not exist"):
        Model.register(ws, str(tmp_path / "absent.pkl"), "known")
    with pytest.raises(InvalidValueError, match="may not contain"):
        Model.register(ws, str(tmp_path / "m.bin"), "a/b")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidValueError, match="no files"):
        Model.register(ws, str(empty), "known")


def test_run_register_model_copies_the_run_files(exp: Experiment, tmp_path: Path) -> None:
    run = exp.start_logging()
    (tmp_path / "model.pkl").write_bytes(b"trained")
    run.upload_file("outputs/model.pkl", str(tmp_path / "model.pkl"))
    model = run.register_model("clf", "outputs/model.pkl", tags={"k": "v"},
                               description="from a run")
    assert (model.version, model.run_id) == (1, run.id)
    assert model.url == f"runs:/{run.id}/outputs/model.pkl"
    run.upload_file("outputs/deep/a.txt", str(tmp_path / "model.pkl"))
    whole = run.register_model("clf", "outputs")
    assert sorted(whole.get_files()) == ["outputs/deep/a.txt", "outputs/model.pkl"]
    with pytest.raises(NotFoundError, match="has no file or folder 'nothing'"):
        run.register_model("clf", "nothing")
    run.complete()
    assert Path(model.download(str(tmp_path / "dl"))).read_bytes() == b"trained"
    assert [m.id for m in Model.list(exp.workspace, run_id=run.id)] == ["clf:2", "clf:1"]


_REGISTER = """
import sys
from pathlib import Path
from runtrack import Workspace
from runtrack.sdk.models import Model
ws = Workspace(sys.argv[1])
path = Path(sys.argv[2]) / f"m{sys.argv[3]}.bin"
path.write_bytes(sys.argv[3].encode())
print(Model.register(ws, str(path), "shared", tags={"who": sys.argv[3]}).version)
"""


@pytest.mark.parametrize("where", ["folder", "server"])
def test_eight_processes_registering_one_name_get_distinct_versions(
    tmp_path: Path, where: str, request: pytest.FixtureRequest
) -> None:
    uri = (str(tmp_path / "ws") if where == "folder"
           else request.getfixturevalue("live_server").url)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", _REGISTER, uri, str(tmp_path), str(i)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for i in range(8)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outs]
    assert sorted(int(out) for out, _ in outs) == list(range(1, 9))
    ws = Workspace(uri)
    try:
        for model in Model.list(ws, name="shared"):
            got = Path(model.download(str(tmp_path / "dl" / str(model.version))))
            assert got.read_bytes() == model.tags["who"].encode()
    finally:
        ws.close()
