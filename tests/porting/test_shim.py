"""The ``azureml`` import shim: resolves to runtrack only when azureml-core is absent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.porting.conftest import ANNOUNCEMENT, SRC, run_python

IMPORTS = """
from azureml.core import (Workspace, Experiment, Run, ScriptRunConfig, Environment, Dataset,
                          Datastore, Model, ComputeTarget, RunConfiguration, ScriptRun, VERSION,
                          get_run)
from azureml.core.run import Run as Run2, _OfflineRun
from azureml.core.conda_dependencies import CondaDependencies
from azureml.core.environment import Environment as Env2
from azureml.core.experiment import Experiment as Exp2
from azureml.core.workspace import Workspace as Ws2
from azureml.core.runconfig import RunConfiguration as RC2, MpiConfiguration, PyTorchConfiguration
from azureml.core.script_run_config import ScriptRunConfig as SRC2
from azureml.core.script_run import ScriptRun as SR2
from azureml.core.compute import ComputeTarget as CT2, AmlCompute, ComputeInstance
from azureml.core.compute_target import ComputeTargetException
from azureml.core.model import Model as M2
from azureml.core.dataset import Dataset as D2
from azureml.core.datastore import Datastore as DS2
from azureml.core.authentication import (InteractiveLoginAuthentication,
                                         ServicePrincipalAuthentication)
from azureml.widgets import RunDetails
from azureml.exceptions import UserErrorException, RunEnvironmentException, AzureMLException
from azureml.train.hyperdrive import HyperDriveConfig, RandomParameterSampling, BanditPolicy, choice
from azureml.train.hyperdrive.parameter_expressions import uniform
from azureml.data import TabularDataset, FileDataset, OutputFileDatasetConfig
from azureml.data.datapath import DataPath
import runtrack
import runtrack.widgets
assert Run is Run2 is runtrack.Run and SR2 is ScriptRun is runtrack.Run
assert Workspace is Ws2 is runtrack.Workspace and Experiment is Exp2 is runtrack.Experiment
assert Environment is Env2 and CondaDependencies is runtrack.CondaDependencies
assert ScriptRunConfig is SRC2 and RC2 is RunConfiguration
assert RunDetails is runtrack.widgets.RunDetails
assert VERSION == runtrack.VERSION == runtrack.__version__
assert isinstance(Run.get_context(), _OfflineRun)
print("imports ok")
"""


def test_v1_imports_resolve_to_runtrack_and_announce_once(
    tmp_path: Path, shim_env: dict[str, str]
) -> None:
    script = tmp_path / "imports.py"
    script.write_text(IMPORTS)
    out = run_python(script, shim_env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("imports ok")
    assert out.stderr.count(ANNOUNCEMENT) == 1


def test_a_real_azureml_is_never_shadowed(tmp_path: Path, shim_env: dict[str, str]) -> None:
    real = tmp_path / "real_site" / "azureml" / "core"
    real.mkdir(parents=True)
    (real.parent / "__init__.py").write_text("")
    (real / "__init__.py").write_text("REAL = True\n")
    script = tmp_path / "which.py"
    script.write_text("import azureml.core\nprint(azureml.core.REAL, azureml.core.__file__)\n")
    env = {**shim_env, "PYTHONPATH": f"{tmp_path / 'real_site'}:{shim_env['PYTHONPATH']}"}
    out = run_python(script, env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"True {real / '__init__.py'}")
    assert ANNOUNCEMENT not in out.stderr


def test_the_shim_can_be_turned_off(tmp_path: Path, shim_env: dict[str, str]) -> None:
    script = tmp_path / "off.py"
    script.write_text("import azureml.core\n")
    out = run_python(script, {**shim_env, "RUNTRACK_AZUREML_SHIM": "0"})
    assert out.returncode == 1
    assert "No module named 'azureml'" in out.stderr


def test_without_the_pth_there_is_no_azureml(tmp_path: Path, shim_env: dict[str, str]) -> None:
    """runtrack's sources alone serve no ``azureml``: only the .pth turns the shim on (``-S``
    skips every .pth, whether or not this interpreter has runtrack installed)."""
    script = tmp_path / "plain.py"
    script.write_text("import azureml\n")
    out = subprocess.run([sys.executable, "-S", str(script)], cwd=tmp_path,
                         env={**shim_env, "PYTHONPATH": str(SRC)}, capture_output=True, text=True)
    assert "No module named 'azureml'" in out.stderr


def test_the_build_puts_the_pth_at_the_site_packages_root(tmp_path: Path) -> None:
    """setup.py's build_py hook: the .pth lands next to the packages in the build."""
    root = SRC.parent
    build = tmp_path / "build"
    subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "-d", str(build)],
        cwd=root,
        check=True,
        capture_output=True,
    )
    assert (build / "runtrack-azureml.pth").read_text() == (
        SRC / "runtrack-azureml.pth"
    ).read_text()
    assert (build / "runtrack_azureml" / "azureml" / "core" / "__init__.py").is_file()
    probe = tmp_path / "probe.py"
    # -S: no .pth of this interpreter runs (runtrack may be installed here); the build's .pth
    # is the only one, and site-packages joins the path afterwards for the dependencies
    probe.write_text(
        f"import site, sys; sys.path.insert(0, {str(build)!r}); site.addsitedir({str(build)!r})\n"
        "sys.path.extend(site.getsitepackages())\n"
        "import azureml.core.run, runtrack_azureml\n"
        f"assert azureml.core.run.__file__.startswith({str(build)!r}), azureml.core.run.__file__\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-S", str(probe)], env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize(
    ("expr", "feature"),
    [
        ("OutputFileDatasetConfig(name='out')", "output datasets"),
        ("DataPath(None, 'x')", "output datasets"),
        ("qnormal(0, 1, 0.1)", "qnormal"),
        ("lognormal(0, 1)", "lognormal"),
    ],
)
def test_names_not_implemented_import_and_refuse_clearly(expr: str, feature: str) -> None:
    from runtrack.sdk._pending import DataPath, OutputFileDatasetConfig, lognormal, qnormal

    names = {"OutputFileDatasetConfig": OutputFileDatasetConfig, "DataPath": DataPath,
             "qnormal": qnormal, "lognormal": lognormal}
    with pytest.raises(NotImplementedError, match=feature):
        eval(expr, names)


def test_the_shim_serves_the_registry_datasets_and_hyperdrive() -> None:
    from runtrack.sdk import datasets, hyperdrive, models
    from runtrack_azureml.azureml.core import Dataset, Datastore, Model
    from runtrack_azureml.azureml.train.hyperdrive import HyperDriveConfig, choice

    assert (Dataset, Datastore, Model) == (datasets.Dataset, datasets.Datastore, models.Model)
    assert (HyperDriveConfig, choice) == (hyperdrive.HyperDriveConfig, hyperdrive.choice)


def test_an_editable_install_gets_the_pth_too(tmp_path: Path) -> None:
    """``pip install -e '.[azureml]'``: the editable wheel carries the .pth as well."""
    import zipfile

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from setuptools import build_meta; "
            f"print(build_meta.build_editable({str(tmp_path)!r}))",
        ],
        cwd=SRC.parent,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    wheel = tmp_path / out.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read("runtrack-azureml.pth") == (SRC / "runtrack-azureml.pth").read_bytes()
