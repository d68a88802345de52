"""``isdarts train`` end to end on the smoke profile: outputs, resume after a kill with
identical numbers, NaN stop, profile validation; ``isdarts genotype`` printing and plotting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from isdarts.cli import main
from isdarts.errors import IsdartsError
from isdarts.spaces.darts.names import REFERENCE_GENOTYPES
from isdarts.train.profile import TrainProfile, load_train_profile
from isdarts.train.run import TrainRequest, epoch_lr, run_training

pytestmark = pytest.mark.usefixtures("one_thread")


def _request(out: Path, name: str = "isdarts_published") -> TrainRequest:
    return TrainRequest(
        REFERENCE_GENOTYPES[name], name, load_train_profile("smoke"), seed=3, out=out
    )


def test_cli_smoke_run_and_resume_after_kill(cifar10, tmp_path, capsys) -> None:
    full = tmp_path / "full"
    assert (
        main(
            [
                "train",
                "--genotype",
                "darts_v2",
                "--profile",
                "smoke",
                "--seed",
                "3",
                "--out",
                str(full),
            ]
        )
        == 0
    )
    assert "darts_v2 seed 3 (smoke): test acc" in capsys.readouterr().out
    result = json.loads((full / "result.json").read_text())
    for key in (
        "test_acc",
        "test_error",
        "params_m",
        "epochs",
        "wall_seconds",
        "data_source",
        "device",
        "torch_version",
    ):
        assert key in result
    assert result["test_error"] == pytest.approx(100 - result["test_acc"])
    assert result["params_m_c36_l20"] == pytest.approx(3.349342)
    log = [json.loads(line) for line in (full / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2, 3] and "test_acc" in log[-1]

    killed = tmp_path / "killed"

    def kill(epoch: int, net) -> None:
        if epoch == 2:
            raise KeyboardInterrupt

    req = TrainRequest(
        REFERENCE_GENOTYPES["darts_v2"], "darts_v2", load_train_profile("smoke"), seed=3, out=killed
    )
    with pytest.raises(KeyboardInterrupt):
        run_training(req, on_epoch_end=kill)
    assert not (killed / "result.json").exists()
    assert torch.load(killed / "checkpoint.pt", weights_only=False)["state"]["epoch"] == 2
    resumed = run_training(req)
    assert resumed["test_acc"] == result["test_acc"]
    log2 = [json.loads(line) for line in (killed / "log.jsonl").read_text().splitlines()]
    assert [r["train_loss"] for r in log2] == [r["train_loss"] for r in log]
    assert run_training(req)["test_acc"] == result["test_acc"]  # finished: not repeated


def test_nan_stops_with_a_clear_error(cifar10, tmp_path) -> None:
    def poison(epoch: int, net) -> None:
        with torch.no_grad():
            net.classifier.weight.fill_(float("nan"))

    with pytest.raises(
        IsdartsError, match=r"became nan at epoch 2, step 1.*checkpoint \(epoch 1\)"
    ):
        run_training(_request(tmp_path), on_epoch_end=poison)


def test_checkpoint_of_another_run_is_refused(cifar10, tmp_path) -> None:
    def kill(epoch: int, net) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_training(_request(tmp_path), on_epoch_end=kill)
    with pytest.raises(IsdartsError, match="different training"):
        run_training(_request(tmp_path, "darts_v2"))


def test_profiles_load_and_unknown_key_is_named(tmp_path) -> None:
    for name in ("smoke", "cpu", "paper"):
        assert isinstance(load_train_profile(name), TrainProfile)
    paper = load_train_profile("paper")
    assert (paper.channels, paper.layers, paper.epochs, paper.batch_size) == (36, 20, 600, 96)
    bad = tmp_path / "p.yaml"
    bad.write_text("epochs: 3\nlearning_rate: 0.1\n")
    with pytest.raises(IsdartsError, match=r"p\.yaml: unknown key 'learning_rate'"):
        load_train_profile(bad)
    bad.write_text("drop_path: 1.5\n")
    with pytest.raises(IsdartsError, match="bad value 1.5 for 'drop_path'"):
        load_train_profile(bad)
    with pytest.raises(IsdartsError, match="training profile 'nope' not found"):
        load_train_profile("nope")


def test_warmup_then_cosine() -> None:
    prof = TrainProfile(name="t", epochs=10, warmup_epochs=2, lr=0.1, lr_min=0.0)
    lrs = [epoch_lr(e, prof) for e in range(10)]
    assert lrs[:3] == [pytest.approx(0.05), pytest.approx(0.1), pytest.approx(0.1)]
    assert all(a > b for a, b in zip(lrs[2:], lrs[3:], strict=False))


def test_genotype_cli_json_and_plot(tmp_path, capsys) -> None:
    png = tmp_path / "cell.png"
    assert main(["genotype", "darts_v2", "--json", "--plot", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["params_m"] == pytest.approx(3.349342)
    assert out["genotype"] == REFERENCE_GENOTYPES["darts_v2"].to_dict()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["genotype", "nope"]) == 2
    assert "neither a file nor a reference name" in capsys.readouterr().err
