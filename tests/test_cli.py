"""The ``skqrnn`` command line: train / evaluate / predict on real shards, and user errors."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skqrnn.cli import main
from skqrnn.datasets import sample_paths
from skqrnn.io import load_yt8m

SMALL = ["--param", "stem_units=32", "--param", "growth_rate=8",
         "--param", "block_layers=(2,)", "--param", "epochs=1", "--param", "batch_size=128"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small DenseNet trained by the CLI on two shipped real shards."""
    d = tmp_path_factory.mktemp("cli")
    shards = sample_paths()
    model = d / "model.keras"
    rc = main(["train", "--model", "densenet", "--train", str(Path(shards[0]).parent /
                                                                "validate000[01].tfrecord"),
               "--epochs", "2", "--quiet", "--out", str(model)] + SMALL)
    assert rc == 0
    return d, model, shards


def test_train_writes_a_loadable_model_and_no_leftovers(trained):
    d, model, _ = trained
    from skqrnn import DenseNetClassifier
    from skqrnn.base import load_model

    est = load_model(model)
    assert isinstance(est, DenseNetClassifier)
    assert est.growth_rate == 8 and est.block_layers == (2,)
    assert est.n_features_in_ == 1152 and len(est.classes_) == 3862
    assert sorted(p.name for p in d.iterdir()) == ["model.keras"]  # checkpoint removed


def test_evaluate_streams_the_same_numbers_as_in_memory_metrics(trained, capsys):
    d, model, shards = trained
    from skqrnn.base import load_model
    from skqrnn.metrics import (global_average_precision, hit_at_k,
                                mean_average_precision, precision_at_equal_recall_rate)

    capsys.readouterr()
    assert main(["evaluate", "--model", str(model), "--data", shards[-1],
                 "--batch-size", "100", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    data = load_yt8m(shards[-1])
    proba = load_model(model).predict_proba(data.X)
    assert got["n_videos"] == data.X.shape[0]
    assert got["gap"] == pytest.approx(global_average_precision(data.y, proba), abs=1e-6)
    assert got["hit_at_one"] == pytest.approx(hit_at_k(data.y, proba), abs=1e-6)
    assert got["perr"] == pytest.approx(precision_at_equal_recall_rate(data.y, proba), abs=1e-6)
    assert got["map"] == pytest.approx(mean_average_precision(data.y, proba), abs=1e-6)


def test_predict_writes_a_kaggle_submission(trained):
    d, model, shards = trained
    out = d / "sub" / "submission.csv"
    out.parent.mkdir()
    assert main(["predict", "--model", str(model), "--data", shards[-1], "--out", str(out),
                 "--batch-size", "100", "--quiet"]) == 0
    with open(out) as f:
        rows = list(csv.reader(f))
    data = load_yt8m(shards[-1])
    assert rows[0] == ["VideoId", "LabelConfidencePairs"]
    assert [r[0] for r in rows[1:]] == list(data.ids)
    pairs = rows[1][1].split()
    assert len(pairs) == 40
    scores = [float(s) for s in pairs[1::2]]
    assert scores == sorted(scores, reverse=True)
    # JSON lines, other top-k
    out2 = d / "sub" / "submission.jsonl"
    assert main(["predict", "--model", str(model), "--data", shards[-1], "--out", str(out2),
                 "--format", "jsonl", "--top-k", "5", "--quiet"]) == 0
    first = json.loads(out2.read_text().splitlines()[0])
    assert first["id"] == data.ids[0] and len(first["labels"]) == 5


def test_evaluate_and_predict_take_a_saved_ensemble(trained, tmp_path, capsys):
    # An ensemble's save() directory is a model file for the command line too.
    from skqrnn import AveragingClassifier, DenseNetClassifier
    from skqrnn.base import load_model
    from skqrnn.metrics import global_average_precision

    d, model, shards = trained
    data = load_yt8m(shards[1])
    other = DenseNetClassifier(stem_units=16, growth_rate=8, block_layers=(1,), epochs=1,
                               random_state=1).fit(data.X, data.y)
    ens = AveragingClassifier([("a", load_model(model)), ("b", other)], weights=[0.7, 0.3])
    ens.fit(data.X, data.y)  # refits both members on this shard
    ens_dir = tmp_path / "ensemble"
    ens.save(ens_dir)
    capsys.readouterr()
    assert main(["evaluate", "--model", str(ens_dir), "--data", shards[-1], "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    test = load_yt8m(shards[-1])
    assert got["gap"] == pytest.approx(
        global_average_precision(test.y, ens.predict_proba(test.X)), abs=1e-6)
    out = tmp_path / "sub.csv"
    assert main(["predict", "--model", str(ens_dir), "--data", shards[-1], "--out", str(out),
                 "--quiet"]) == 0
    assert len(out.read_text().splitlines()) == test.X.shape[0] + 1


def test_resume_continues_from_the_checkpoint(tmp_path, capsys):
    shard = sample_paths()[0]
    out = tmp_path / "m.keras"
    ckpt = tmp_path / "ck.keras"
    assert main(["train", "--model", "densenet", "--train", shard, "--epochs", "1",
                 "--checkpoint", str(ckpt), "--quiet", "--out", str(tmp_path / "first.keras")]
                + SMALL) == 0
    # Simulate a run that was interrupted after epoch 1: restore its checkpoint files.
    from skqrnn.base import load_model

    load_model(tmp_path / "first.keras").save(str(ckpt))
    capsys.readouterr()
    assert main(["train", "--model", "densenet", "--train", shard, "--epochs", "2",
                 "--checkpoint", str(ckpt), "--resume", "--quiet", "--out", str(out)]
                + SMALL) == 0
    printed = capsys.readouterr().out
    assert "resuming" in printed and "epoch 2/2" in printed and "epoch 1/2" not in printed
    assert len(load_model(out).history_["loss"]) == 2  # one pass before, one after resume
    # The checkpoint belongs to a DenseNet: resuming it as another kind is refused.
    load_model(out).save(str(ckpt))
    assert main(["train", "--model", "mlp", "--train", shard, "--epochs", "2",
                 "--checkpoint", str(ckpt), "--resume", "--out", str(tmp_path / "x.keras")]) == 2
    assert "holds a DenseNetClassifier, not a MLPBaselineClassifier" in capsys.readouterr().err


def _error(capsys, argv):
    capsys.readouterr()
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skqrnn: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_user_errors_are_one_line_with_nonzero_exit(trained, tmp_path, capsys):
    d, model, shards = trained
    msg = _error(capsys, ["train", "--model", "densenet", "--train", str(tmp_path / "no*.tfr"),
                          "--out", str(tmp_path / "m.keras")])
    assert "matches no file" in msg
    msg = _error(capsys, ["train", "--model", "densenet", "--level", "frame",
                          "--train", shards[0], "--out", str(tmp_path / "m.keras")])
    assert "level='video'" in msg and "record 0" in msg
    msg = _error(capsys, ["train", "--model", "densenet", "--train", shards[0],
                          "--param", "growht_rate=3", "--out", str(tmp_path / "m.keras")])
    assert "no parameter 'growht_rate'" in msg and "growth_rate" in msg
    msg = _error(capsys, ["train", "--model", "densenet", "--train", shards[0],
                          "--out", str(model)])
    assert "exists" in msg and "--overwrite" in msg
    msg = _error(capsys, ["predict", "--model", str(model), "--data", shards[0],
                          "--out", str(model)])
    assert "same file as --model" in msg  # --overwrite would not help: not suggested
    msg = _error(capsys, ["evaluate", "--model", str(tmp_path / "missing.keras"),
                          "--data", shards[0]])
    assert "does not exist" in msg
    # A Keras model file that skqrnn did not write (another kind of model).
    import keras

    plain = tmp_path / "plain.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]).save(plain)
    msg = _error(capsys, ["evaluate", "--model", str(plain), "--data", shards[0]])
    assert "not a model saved by skqrnn" in msg
    # The user's files are untouched by failed commands.
    assert model.exists() and plain.exists()


TINY = ["--param", "stem_units=8", "--param", "growth_rate=4", "--param", "block_layers=(1,)",
        "--param", "epochs=1", "--param", "batch_size=128", "--epochs", "1"]


def test_train_never_replaces_or_deletes_an_existing_checkpoint(tmp_path, capsys):
    """The checkpoint is an output: an existing one is refused."""
    shard = sample_paths()[0]
    train = ["train", "--model", "densenet", "--train", shard, "--quiet"] + TINY
    mine = tmp_path / "mine.keras"
    mine.write_bytes(b"the user's own file")
    msg = _error(capsys, train + ["--checkpoint", str(mine), "--out", str(tmp_path / "m1.keras")])
    assert str(mine) in msg and "--resume" in msg and "--overwrite" in msg
    # The default checkpoint beside --out, and the state file of either.
    default = tmp_path / "m2.keras.ckpt.keras"
    default.write_bytes(b"another run's checkpoint")
    msg = _error(capsys, train + ["--out", str(tmp_path / "m2.keras")])
    assert str(default) in msg and "--overwrite" in msg
    # --resume reads the checkpoint, and writes nothing if it is not one.
    msg = _error(capsys, train + ["--resume", "--checkpoint", str(mine),
                                  "--out", str(tmp_path / "m4.keras")])
    assert "not a model saved by skqrnn" in msg
    # The checkpoint (or its state file) cannot be --out itself, even with --overwrite.
    msg = _error(capsys, train + ["--checkpoint", str(mine), "--overwrite", "--out", str(mine)])
    assert "--checkpoint" in msg and "same file" in msg
    assert mine.read_bytes() == b"the user's own file"
    assert default.read_bytes() == b"another run's checkpoint"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m2.keras.ckpt.keras", "mine.keras"]


def test_train_overwrite_replaces_the_checkpoint_then_removes_it(tmp_path):
    mine = tmp_path / "mine.keras"
    mine.write_bytes(b"stale")
    out = tmp_path / "m.keras"
    assert main(["train", "--model", "densenet", "--train", sample_paths()[0], "--quiet",
                 "--checkpoint", str(mine), "--overwrite", "--out", str(out)] + TINY) == 0
    # --overwrite gave the run the file; what it wrote itself it cleans up.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]


def test_resume_with_no_epoch_left_keeps_the_checkpoint_it_was_given(trained, tmp_path, capsys):
    """Only a checkpoint this run wrote is deleted at the end."""
    _, model, shards = trained
    ckpt = tmp_path / "ck.keras"
    ckpt.write_bytes(model.read_bytes())
    out = tmp_path / "m.keras"
    resume = ["train", "--model", "densenet", "--train", shards[0], "--epochs", "2",
              "--checkpoint", str(ckpt), "--resume", "--quiet", "--out", str(out)] + SMALL
    assert main(resume) == 0
    assert out.exists()
    assert ckpt.read_bytes() == model.read_bytes()


def test_predict_output_has_the_permissions_open_would_give(trained, tmp_path):
    _, model, shards = trained
    out = tmp_path / "submission.csv"
    old = os.umask(0o027)
    try:
        assert main(["predict", "--model", str(model), "--data", shards[-1], "--out", str(out),
                     "--quiet"]) == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o640  # 0o666 under the umask, not mkstemp's 0o600


def test_output_that_is_an_input_is_refused_even_with_overwrite(trained, tmp_path, capsys):
    _, model, shards = trained
    m1 = tmp_path / "m1.keras"
    m1.write_bytes(model.read_bytes())
    shard = tmp_path / "data0000.tfrecord"
    shard.write_bytes(Path(shards[-1]).read_bytes())
    msg = _error(capsys, ["predict", "--model", str(m1), "--data", str(shard),
                          "--out", str(m1), "--overwrite"])
    assert "--out" in msg and "--model" in msg and "same file" in msg
    msg = _error(capsys, ["predict", "--model", str(m1), "--data", str(tmp_path / "data*"),
                          "--out", str(shard), "--overwrite"])
    assert "--data" in msg and "same file" in msg
    msg = _error(capsys, ["train", "--model", "densenet", "--train", str(tmp_path),
                          "--out", str(shard), "--overwrite"] + TINY)
    assert "--train" in msg and "same file" in msg
    assert m1.read_bytes() == model.read_bytes()
    assert shard.read_bytes() == Path(shards[-1]).read_bytes()


def test_counts_below_one_are_refused_naming_the_flag(trained, tmp_path, capsys):
    _, model, shards = trained
    train = ["train", "--model", "densenet", "--train", shards[0], "--quiet",
             "--out", str(tmp_path / "m.keras")]
    for flag in ("--epochs", "--max-frames"):
        msg = _error(capsys, train + [flag, "0"])
        assert f"{flag} must be an integer >= 1; got 0" in msg
    msg = _error(capsys, ["evaluate", "--model", str(model), "--data", shards[0],
                          "--batch-size", "0"])
    assert "--batch-size" in msg
    msg = _error(capsys, ["predict", "--model", str(model), "--data", shards[0],
                          "--out", str(tmp_path / "s.csv"), "--top-k", "0"])
    assert "--top-k" in msg
    assert list(tmp_path.iterdir()) == []


def test_bad_parameter_values_are_one_line_errors(tmp_path, capsys):
    train = ["train", "--model", "densenet", "--train", sample_paths()[0], "--quiet",
             "--out", str(tmp_path / "m.keras")] + TINY
    msg = _error(capsys, train + ["--param", "callbacks=1"])
    assert "callbacks" in msg
    msg = _error(capsys, train + ["--param", "learning_rate=-1"])
    assert "learning_rate" in msg
    assert list(tmp_path.iterdir()) == []  # refused before any file is written


def test_grid_search_from_the_command_line(tmp_path, capsys):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"dropout": [0.2, 0.5]}))
    out = tmp_path / "best.keras"
    assert main(["train", "--model", "densenet", "--train", sample_paths()[0], "--grid",
                 str(grid), "--cv", "2", "--quiet", "--out", str(out)] + SMALL) == 0
    assert "best GAP@20" in capsys.readouterr().out and out.exists()
    grid.write_text(json.dumps({"dropuot": [0.2]}))
    msg = _error(capsys, ["train", "--model", "densenet", "--train", sample_paths()[0],
                          "--grid", str(grid), "--out", str(tmp_path / "b2.keras")])
    assert "dropuot" in msg


def test_console_script_and_module_entry_points():
    out = subprocess.run([sys.executable, "-m", "skqrnn", "--help"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and "demo" in out.stdout and "evaluate" in out.stdout
    exe = Path(sys.executable).parent / "skqrnn"
    if exe.exists():
        out = subprocess.run([str(exe), "train", "--help"], capture_output=True, text=True)
        assert out.returncode == 0 and "--param" in out.stdout


@pytest.mark.slow
def test_demo_runs_end_to_end_and_keeps_existing_results(tmp_path, capsys):
    """``skqrnn demo --fast``: the README's main job, shrunk for CI, through the CLI."""
    out = tmp_path / "demo"
    assert main(["demo", "--fast", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"Wrote to {out}" in printed and "GAP@20" in printed
    rows = json.loads((out / "results.json").read_text())
    models = {r["model"] for r in rows}
    assert {"DenseNetClassifier", "QRNNClassifier", "DCQRNNClassifier",
            "logistic (Google starter)"} <= models
    for r in rows:
        assert 0.0 <= r["gap"] <= 1.0 and 0.0 <= r["hit_at_one"] <= 1.0
    with open(out / "results.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == len(rows)
    with open(out / "submission.csv", newline="") as f:
        sub = list(csv.reader(f))
    assert sub[0] == ["VideoId", "LabelConfidencePairs"]
    assert len(sub[1:]) == len(load_yt8m(sample_paths()[-1:]).ids)
    assert len(sub[1][1].split()) == 40  # top 20 (label, score) pairs
    assert (out / "demo.png").stat().st_size > 10_000
    from skqrnn.base import load_model

    saved = sorted((out / "models").glob("*.keras"))
    assert saved and all(load_model(p).n_iter_ >= 1 for p in saved)
    # A second run into the same folder refuses to overwrite the results.
    before = (out / "results.json").read_bytes()
    assert main(["demo", "--fast", "--quiet", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "results.json").read_bytes() == before


# ------------------------------------------------- training through the estimator
def test_train_with_valid_stops_early_and_keeps_the_best_model(tmp_path, capsys):
    """``train --valid`` is the estimator's fit: validation GAP each epoch, early
    stopping on it, the best epoch's weights in --out, and a per-epoch CSV log."""
    from skqrnn.base import load_model

    shards = sample_paths()
    out, logs = tmp_path / "m.keras", tmp_path / "logs"
    # A wide network without dropout on 300 videos: it overfits within a few
    # epochs, so validation GAP peaks and then falls.
    assert main(["train", "--model", "densenet", "--train", shards[0], "--valid", shards[1],
                 "--epochs", "15", "--param", "early_stopping=True", "--param", "patience=2",
                 "--param", "stem_units=512", "--param", "growth_rate=64",
                 "--param", "dropout=0.0", "--param", "batch_size=32",
                 "--param", "learning_rate=0.003", "--log-dir", str(logs), "--quiet",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    est = load_model(out)
    gaps = est.history_["val_gap"]
    assert 3 <= len(gaps) < 15  # stopped early, patience 2
    best = int(np.argmax(gaps))
    assert len(gaps) == best + 3
    # The model written is the best epoch's: its GAP on the validation shard.
    data = load_yt8m(shards[1])
    from skqrnn.metrics import global_average_precision

    assert global_average_precision(data.y, est.predict_proba(data.X)) == pytest.approx(
        gaps[best], abs=1e-4)
    assert "validation GAP@20" in printed and "best validation GAP@20" in printed
    with open(logs / "training.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(gaps) and "val_gap" in rows[0]
    assert est.checkpoint is None and est.callbacks is None  # the run's, not the model's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", "m.keras"]


def test_inputs_and_outputs_are_checked_before_training(tmp_path, capsys, monkeypatch):
    """A typo in --valid or an unwritable --out is reported before epoch 1."""
    import skqrnn._files
    from skqrnn import DenseNetClassifier

    fits = []
    monkeypatch.setattr(DenseNetClassifier, "fit", lambda self, *a, **k: fits.append(1))
    shard = sample_paths()[0]
    train = ["train", "--model", "densenet", "--train", shard, "--quiet"] + TINY
    msg = _error(capsys, train + ["--valid", str(tmp_path / "typo*.tfrecord"),
                                  "--out", str(tmp_path / "m.keras")])
    assert "--valid" in msg and "matches no file" in msg
    msg = _error(capsys, train + ["--out", str(tmp_path / "no-such-dir" / "m.keras")])
    assert "does not exist" in msg

    def refuse(path, suffix):
        raise PermissionError(13, "Permission denied", os.path.dirname(path))

    monkeypatch.setattr(skqrnn._files, "_new_file_beside", refuse)
    msg = _error(capsys, train + ["--out", str(tmp_path / "m.keras")])
    assert "not writable" in msg and str(tmp_path) in msg
    assert fits == [] and list(tmp_path.iterdir()) == []


def test_os_errors_and_damaged_models_are_one_line(trained, tmp_path, capsys, monkeypatch):
    _, model, shards = trained
    # One flipped byte in the middle of a model file.
    bad = tmp_path / "bad.keras"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    msg = _error(capsys, ["evaluate", "--model", str(bad), "--data", shards[-1]])
    assert str(bad) in msg
    # A full disk while writing the submission: one line, no file left behind.
    import skqrnn.submission

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "s.csv"))

    monkeypatch.setattr(skqrnn.submission, "write_submission", full)
    msg = _error(capsys, ["predict", "--model", str(model), "--data", shards[-1],
                          "--out", str(tmp_path / "s.csv")])
    assert "No space left on device" in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.keras"]


def test_ctrl_c_exits_130(trained, capsys, monkeypatch):
    import skqrnn.cli

    _, model, shards = trained

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(skqrnn.cli, "_evaluate_stream", interrupt)
    assert main(["evaluate", "--model", str(model), "--data", shards[-1]]) == 130
    assert "Traceback" not in capsys.readouterr().err


def test_resume_refuses_parameters_that_differ_from_the_checkpoint(trained, tmp_path, capsys):
    _, model, shards = trained
    ckpt = tmp_path / "ck.keras"
    ckpt.write_bytes(model.read_bytes())
    msg = _error(capsys, ["train", "--model", "densenet", "--train", shards[0], "--epochs", "3",
                          "--checkpoint", str(ckpt), "--resume", "--out",
                          str(tmp_path / "m.keras")] + SMALL[:-4]
                 + ["--param", "batch_size=64", "--param", "dropout=0.3"])
    assert "batch_size=64" in msg and "dropout=0.3" in msg and "checkpoint" in msg
    assert ckpt.read_bytes() == model.read_bytes()
