"""PyTorch Lightning's ``MLFlowLogger`` training a tiny model on the CPU into runtrack,
and ``mlflow.pytorch.log_model`` (MLflow 3 logged models).

Needs ``torch`` and ``lightning`` (``pip install 'runtrack[lightning]'``, CPU torch);
skipped when they are missing, except under CI=true.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import LiveServer
from tests.mlflow.conftest import require

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]


@pytest.fixture
def torch_stack() -> tuple[Any, Any]:
    require("torch", "pip install 'runtrack[lightning]' (CPU torch)")
    require("lightning", "pip install 'runtrack[lightning]'")
    import lightning
    import torch

    return torch, lightning


def _module(torch: Any, lightning: Any) -> Any:
    class Tiny(lightning.LightningModule):  # type: ignore[misc, name-defined]
        def __init__(self, lr: float = 0.1, hidden: int = 4) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(3, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
            )

        def training_step(self, batch: Any, _: int) -> Any:
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x), y)
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch: Any, _: int) -> None:
            x, y = batch
            self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    return Tiny()


def _loader(torch: Any) -> Any:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=gen)
    y = x.sum(dim=1, keepdim=True)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)


def test_lightning_mlflow_logger(
    mlflow: Any, torch_stack: tuple[Any, Any], live_server: LiveServer, tmp_path: Path
) -> None:
    torch, lightning = torch_stack
    from lightning.pytorch.loggers import MLFlowLogger

    exp_name = f"lightning-{uuid.uuid4().hex[:8]}"
    logger = MLFlowLogger(experiment_name=exp_name, tracking_uri=live_server.url,
                          run_name="tiny", log_model=True)
    trainer = lightning.Trainer(
        max_epochs=2, logger=logger, accelerator="cpu", devices=1, log_every_n_steps=2,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path,
    )
    loader = _loader(torch)
    trainer.fit(_module(torch, lightning), loader, loader)

    client = mlflow.MlflowClient()
    run = client.get_run(logger.run_id)
    assert run.info.run_name == "tiny"
    assert run.info.status == "FINISHED"
    assert run.data.params["lr"] == "0.1"
    assert run.data.params["hidden"] == "4"
    assert {"train_loss_step", "train_loss_epoch", "val_loss", "epoch"} <= set(run.data.metrics)
    steps = [m.step for m in client.get_metric_history(logger.run_id, "train_loss_step")]
    assert steps == sorted(steps) and len(steps) == 8  # 16 steps, logged every 2nd
    files = [f.path for f in client.list_artifacts(logger.run_id)]
    assert any(path.startswith("epoch=1-step=16") for path in files), files

    from runtrack import Run, Workspace

    ws = Workspace(str(live_server.workspace))
    try:
        rt = Run.get(ws, logger.run_id)
        metrics = rt.get_metrics()
        assert len(metrics["train_loss_step"]) == 8
        assert len(metrics["val_loss"]) == 2
        assert rt.get_properties()["lr"] == "0.1"
        assert any(name.endswith(".ckpt") for name in rt.get_file_names())
    finally:
        ws.close()


def test_pytorch_log_model_round_trip(
    mlflow: Any, torch_stack: tuple[Any, Any], live_server: LiveServer
) -> None:
    torch, _ = torch_stack
    import mlflow.pytorch

    mlflow.set_experiment(f"models-{uuid.uuid4().hex[:8]}")
    net = torch.nn.Linear(2, 1)
    with mlflow.start_run() as run:
        info = mlflow.pytorch.log_model(
            net, name="model", pip_requirements=["torch"], serialization_format="pickle"
        )
    assert info.model_id.startswith("m-")
    model = mlflow.get_logged_model(info.model_id)
    assert model.status.to_proto() == 2 or str(model.status) == "READY"
    assert model.source_run_id == run.info.run_id
    found = mlflow.search_logged_models(output_format="list")
    assert info.model_id in [m.model_id for m in found]
    loaded = mlflow.pytorch.load_model(f"models:/{info.model_id}")
    x = torch.ones(1, 2)
    assert torch.allclose(loaded(x), net(x))
    loaded_by_run = mlflow.pytorch.load_model(f"runs:/{run.info.run_id}/model")
    assert torch.allclose(loaded_by_run(x), net(x))
    files = [f.path for f in mlflow.MlflowClient().list_artifacts(run.info.run_id, "model")]
    assert "model/MLmodel" in files
