"""``irsnn train``: a tiny end-to-end run through the CLI, resuming, and bad flags."""

from __future__ import annotations

import csv
import json

import pytest

from irsnn.cli import build_parser, main
from irsnn.errors import ModelError
from irsnn.train import DEFAULTS, TrainConfig

TINY = ["--num-train", "11", "--num-test", "6", "--hidden-size", "12", "--batch-size", "4",
        "--backend", "reference"]


def test_train_smoke_writes_outputs(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--num-epochs", "2", "--out", str(out)] + TINY) == 0
    text = capsys.readouterr().out
    assert "test accuracy" in text
    for name in ("train_log.csv", "test_log.csv", "confusion.csv", "model_ir.txt",
                 "summary.json"):
        assert (out / name).is_file(), name
    saved = {p.name for p in (out / "checkpoints").iterdir()}
    assert {"0-input_hidden0-g.npy", "1-hidden0_output-g.npy", "1-irsnn_state.npz"} <= saved, \
        saved
    rows = list(csv.DictReader(open(out / "train_log.csv")))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_examples"] == 6 and 0.0 <= summary["test_accuracy"] <= 1.0
    assert "pop.hidden0" in (out / "model_ir.txt").read_text()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "plots skipped" in text
    else:
        for name in ("learning_curves.png", "raster.png", "confusion.png"):
            assert (out / name).stat().st_size > 1000, name

    # resume after epoch 1 for one more epoch
    assert main(["train", "--num-epochs", "1", "--resume-epoch", "1", "--no-plots",
                 "--out", str(out)] + TINY) == 0
    rows = list(csv.DictReader(open(out / "train_log.csv")))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert json.loads((out / "summary.json").read_text())["epochs"] == 3


def test_train_flags_parse():
    args = build_parser().parse_args(
        ["train", "--dataset", "digits", "--hidden-size", "64", "32", "--hidden-recurrent",
         "true", "false", "--hidden-model", "lif", "--hidden-input-sparsity", "0.5",
         "--hidden-recurrent-sparsity", "0.2", "0.3", "--seed", "3"])
    assert args.hidden_size == [64, 32] and args.hidden_recurrent == [True, False]
    assert args.hidden_recurrent_sparsity == [0.2, 0.3] and args.seed == 3
    cfg = TrainConfig(dataset="digits")
    assert cfg.num_epochs == DEFAULTS["digits"]["num_epochs"] and cfg.hidden_model == "lif"


@pytest.mark.parametrize("kwargs, match", [
    (dict(hidden_size=[8, 8], hidden_recurrent_sparsity=[0.1, 0.2, 0.3]), "3 values for 2"),
    (dict(hidden_input_sparsity=[0.0]), "must be in"),
    (dict(hidden_size=[0]), "positive"),
])
def test_bad_train_config(kwargs, match):
    with pytest.raises(ModelError, match=match):
        TrainConfig(**kwargs).check()


def test_cli_reports_missing_data(tmp_path, capsys):
    code = main(["train", "--dataset", "dvs-gesture", "--root", str(tmp_path / "d"),
                 "--out", str(tmp_path / "o")])
    assert code == 2
    assert "DVSGesture" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_resume_from_no_checkpoint_is_refused_before_training(tmp_path, capsys):
    assert main(["train", "--num-epochs", "1", "--resume-epoch", "3", "--no-plots",
                 "--out", str(tmp_path)] + TINY) == 2
    err = capsys.readouterr().err
    assert "checkpoint folder" in err and "does not exist" in err
    assert not (tmp_path / "train_log.csv").exists()


@pytest.mark.slow
def test_resume_continues_exactly_and_refuses_a_missing_checkpoint(tmp_path, capsys):
    """``--resume-epoch`` restores the optimiser and simulation state: 1 epoch + resume + 1
    epoch ends with the same checkpoint files as 2 epochs in one run (issue 17)."""
    import numpy as np
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert main(["train", "--num-epochs", "2", "--no-plots", "--out", str(whole)] + TINY) == 0
    assert main(["train", "--num-epochs", "1", "--no-plots", "--out", str(parts)] + TINY) == 0
    capsys.readouterr()
    assert main(["train", "--num-epochs", "1", "--resume-epoch", "4", "--no-plots",
                 "--out", str(parts)] + TINY) == 2
    assert "no checkpoint 4 " in capsys.readouterr().err
    assert main(["train", "--num-epochs", "1", "--resume-epoch", "0", "--no-plots",
                 "--out", str(parts)] + TINY) == 0
    final = sorted(p.name for p in (whole / "checkpoints").glob("1-*.npy"))
    assert "1-output-Bias.npy" in final and "1-input_hidden0-g.npy" in final
    for name in final:
        np.testing.assert_array_equal(np.load(parts / "checkpoints" / name),
                                      np.load(whole / "checkpoints" / name), err_msg=name)
