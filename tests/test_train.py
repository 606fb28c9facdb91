"""The training CLI: run directory, exact resume after kill -9 and Ctrl-C, bad arguments."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from asge_np import train as train_module
from asge_np.checkpoint import load_checkpoint
from asge_np.data import datasets

from data_files import cifar_batch, isolated, md5, py2_pickle, write_tar  # noqa: F401
from test_data_cifar import _cifar10_members

QUICK = ["--dataset", "synthetic", "--limit", "320", "--batch-size", "32", "--width", "0.0625",
         "--epochs", "3", "--eval-limit", "200", "--seed", "3"]


def run_cli(args, module="asge_np.train", **kwargs):
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          timeout=300, **kwargs)


def start_cli(args):
    return subprocess.Popen([sys.executable, "-m", "asge_np.train", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_results(run_dir):
    with open(os.path.join(run_dir, "metrics.csv")) as f:
        rows = [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]
    with open(os.path.join(run_dir, "summary.json")) as f:
        summary = json.load(f)
    summary.pop("total_seconds")
    weights, _ = load_checkpoint(os.path.join(run_dir, "model.npz"))
    return rows, summary, weights


def assert_same_results(a, b):
    rows_a, summary_a, weights_a = read_results(a)
    rows_b, summary_b, weights_b = read_results(b)
    assert rows_a == rows_b
    assert summary_a == summary_b
    assert sorted(weights_a) == sorted(weights_b)
    for name in weights_a:
        assert np.array_equal(weights_a[name], weights_b[name]), name


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("ref") / "run")
    result = run_cli(QUICK + ["--out", out, "--checkpoint-every", "3"])
    assert result.returncode == 0, result.stderr
    return out, result


def test_run_directory_contents(reference_run):
    out, result = reference_run
    for name in ("config.json", "metrics.csv", "summary.json", "curves.png", "checkpoint.npz",
                 "best_model.npz", "model.npz"):
        assert os.path.isfile(os.path.join(out, name)), name
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["seed"] == 3 and config["width"] == 0.0625 and config["backend"] == "numpy"
    assert "numpy" in config["versions"]
    rows = list(csv.DictReader(open(os.path.join(out, "metrics.csv"))))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert {"lr", "seconds", "train_layer7_loss", "train_layer1_acc", "val_layer7_acc", "val_head_acc",
            "val_ensemble_acc", "train_ensemble_acc"} <= set(rows[0])
    assert float(rows[0]["lr"]) > float(rows[2]["lr"])  # cosine annealing
    summary = json.load(open(os.path.join(out, "summary.json")))
    assert set(summary["test_accuracy"]) == {"goodness_last_layer", "head", "ensemble"}
    assert len(summary["test_accuracy_per_layer"]) == 7 and summary["best_val_epoch"] in (1, 2, 3)
    assert "test accuracy" in result.stdout
    with np.load(os.path.join(out, "checkpoint.npz"), allow_pickle=False) as data:
        assert "layers.0.w.adam_m" in data.files


def test_kill_minus_9_mid_epoch_then_resume_gives_the_same_numbers(reference_run, tmp_path):
    out = str(tmp_path / "killed")
    proc = start_cli(QUICK + ["--out", out, "--checkpoint-every", "3"])
    checkpoint = os.path.join(out, "checkpoint.npz")
    deadline = time.time() + 120
    killed_at = None
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(checkpoint):
            try:
                _, meta = load_checkpoint(checkpoint)
            except Exception:
                meta = None
            if meta and meta["epoch"] >= 1 and meta["batch"] >= 3:
                os.kill(proc.pid, signal.SIGKILL)
                killed_at = (meta["epoch"], meta["batch"])
                break
        time.sleep(0.01)
    proc.wait()
    assert killed_at is not None, "the run ended before it could be killed"
    assert not os.path.exists(os.path.join(out, "summary.json"))
    resumed = run_cli(["--resume", out])
    assert resumed.returncode == 0, resumed.stderr
    assert_same_results(reference_run[0], out)


def test_ctrl_c_saves_and_resume_gives_the_same_numbers(reference_run, tmp_path):
    out = str(tmp_path / "interrupted")
    proc = start_cli(QUICK + ["--out", out, "--checkpoint-every", "3"])
    checkpoint = os.path.join(out, "checkpoint.npz")
    deadline = time.time() + 120
    while time.time() < deadline and not os.path.exists(checkpoint):
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode in (0, 130), stderr  # 0 only if it finished before the signal landed
    assert "Traceback" not in stderr
    if proc.returncode == 130:
        assert "--resume" in stderr
        resumed = run_cli(["--resume", checkpoint])
        assert resumed.returncode == 0, resumed.stderr
    assert_same_results(reference_run[0], out)


def test_evaluate_reproduces_the_summary(reference_run):
    out, _ = reference_run
    result = run_cli([out], module="asge_np.evaluate")
    assert result.returncode == 0, result.stderr
    assert "head ensemble" in result.stdout and "layer 7 goodness" in result.stdout


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, capsys):
    real_build = train_module.build_model
    calls = {"n": 0}

    def poisoned_build(*args, **kwargs):
        model = real_build(*args, **kwargs)
        real_step = model.train_step

        def step(x, y):
            out = real_step(x, y)
            calls["n"] += 1
            if calls["n"] == 5:
                out["layer_loss"] = out["layer_loss"] * np.nan
            return out

        model.train_step = step
        return model

    monkeypatch.setattr(train_module, "build_model", poisoned_build)
    out = str(tmp_path / "nan")
    code = train_module.main(QUICK + ["--out", out, "--checkpoint-every", "2"])
    assert code == 2
    err = capsys.readouterr().err
    assert "non-finite" in err and "--lr" in err and len(err.strip().splitlines()) == 1
    _, meta = load_checkpoint(os.path.join(out, "checkpoint.npz"))
    assert (meta["epoch"], meta["batch"]) == (0, 4)  # the checkpoint before the bad batch


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset", "imagenet"], "unknown dataset"),
        (["--model", "resnet"], "invalid choice"),
        (["--batch-size", "0"], "positive integer"),
        (["--epochs", "-3"], "positive integer"),
        (["--width", "0"], "> 0"),
        (["--lr", "nan"], "finite"),
        (["--lr=-1e-3"], "> 0"),
        (["--lr", "-1e-3"], "expected one argument"),
        (["--weight-decay", "-1"], ">= 0"),
        (["--dropout", "1.5"], "[0, 1)"),
        (["--between", "maxpool"], "invalid choice"),
        (["--alpha=-1"], ">= 0"),
        (["--limit", "0"], "positive integer"),
        (["--val-size", "-1"], "non-negative integer"),
        (["--dataset", "synthetic", "--val-size", "4800"], "leaves no training images"),
        (["--min-lr", "1", "--lr", "0.1"], "above --lr"),
        (["--resume", "/nonexistent/run"], "no checkpoint"),
        (["--gpu", "--dataset", "synthetic"], "CuPy"),
        (["--bogus"], "unrecognized"),
    ],
)
def test_bad_arguments_give_one_line_errors(args, message, tmp_path):
    result = run_cli(args + ["--out", str(tmp_path / "x")], cwd=str(tmp_path))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr


def test_val_size_zero_trains_on_everything_and_keeps_the_last_epoch(tmp_path):
    out = str(tmp_path / "run")
    args = [a for a in QUICK if a not in ("--limit", "320")] + ["--epochs", "2", "--val-size", "0", "--out", out]
    result = run_cli(args)
    assert result.returncode == 0, result.stderr
    assert "no validation set" in result.stdout
    with open(os.path.join(out, "config.json")) as f:
        assert json.load(f)["train_size"] == 4800  # every synthetic training image (6000 less the test fifth)
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    assert summary["best_val_epoch"] == 2 and summary["best_val_accuracy"] is None
    best, _ = load_checkpoint(os.path.join(out, "best_model.npz"))
    final, _ = load_checkpoint(os.path.join(out, "model.npz"))
    assert all(np.array_equal(best[k], final[k]) for k in final)  # the last epoch is the one kept
    with open(os.path.join(out, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and rows[-1]["val_ensemble_acc"] == "nan"


def test_out_pointing_at_a_file_and_foreign_checkpoints(reference_run, tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("not a directory")
    result = run_cli(QUICK + ["--out", str(a_file)])
    assert result.returncode == 2 and "is a file" in result.stderr
    result = run_cli(["--resume", str(a_file)])
    assert result.returncode == 2 and "not an asge_np checkpoint" in result.stderr
    result = run_cli(["--resume", reference_run[0], "--width", "0.5"])
    assert result.returncode == 2 and "other settings" in result.stderr and "--width" in result.stderr
    result = run_cli(["--resume", os.path.join(reference_run[0], "best_model.npz")])
    assert result.returncode == 2 and "not a training checkpoint" in result.stderr
    result = run_cli(QUICK + ["--out", reference_run[0]])
    assert result.returncode == 2 and "already holds a run" in result.stderr


@pytest.mark.parametrize("with_val", [True, False])
def test_curves_plot_every_series_with_or_without_validation(tmp_path, monkeypatch, with_val):
    """With --val-size 0 the validation columns are NaN: the accuracy panels must fall back to
    the training figures instead of drawing empty axes."""
    import matplotlib.figure

    L, drawn = 3, []
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda fig, *a, **k: drawn.append(fig))
    history = []
    for epoch in (1, 2):
        row = {"epoch": epoch, "lr": 1e-3, "seconds": 1.0}
        for i in range(1, L + 1):
            row[f"train_layer{i}_loss"], row[f"train_layer{i}_acc"] = 1.0 / epoch, 0.5 + 0.1 * epoch
            row[f"val_layer{i}_acc"] = 0.6 if with_val else float("nan")
        for k in ("ensemble", "head"):
            row[f"train_{k}_loss"], row[f"train_{k}_acc"] = 0.5, 0.7
            row[f"val_{k}_acc"] = 0.6 if with_val else float("nan")
        history.append(row)
    (tmp_path / ".curves.tmp.png").write_bytes(b"")  # savefig is stubbed; the rename still runs
    train_module._plot(str(tmp_path), history, L)
    (fig,) = drawn
    split = "val" if with_val else "train"
    assert split in fig.axes[1].get_title() and split in fig.axes[2].get_legend().get_texts()[0].get_text()
    for ax in fig.axes:
        assert ax.lines
        for line in ax.lines:
            assert np.isfinite(line.get_ydata()).all(), (ax.get_title(), line.get_label())


def test_method_variants_are_recorded_and_evaluate_rebuilds_them(tmp_path):
    """--between/--goodness/--alpha change the network; evaluate must rebuild the same one and
    reproduce every test accuracy of the summary (alpha 2 changes the projections' shapes, so a
    model rebuilt with the defaults could not even load the weights)."""
    out = str(tmp_path / "run")
    args = [a for a in QUICK if a not in ("--eval-limit", "200")] + ["--epochs", "1"]  # the last --epochs wins
    result = run_cli(args + ["--between", "rmspool-layernorm", "--goodness", "sum", "--alpha", "2",
                             "--out", out])
    assert result.returncode == 0, result.stderr
    with open(os.path.join(out, "config.json")) as f:
        config = json.load(f)
    assert (config["between"], config["goodness"], config["alpha"], config["epochs"]) == ("rmspool-layernorm", "sum", 2.0, 1)
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    result = run_cli([out], module="asge_np.evaluate")
    assert result.returncode == 0, result.stderr
    printed = {}
    for line in result.stdout.splitlines()[1:]:
        name, value = line.rsplit(None, 2)[0].strip(), float(line.split()[-2])
        printed[name] = value
    acc = summary["test_accuracy"]
    assert printed["goodness (last layer)"] == pytest.approx(100 * acc["goodness_last_layer"], abs=0.006)
    assert printed["last-layer head"] == pytest.approx(100 * acc["head"], abs=0.006)
    assert printed["head ensemble"] == pytest.approx(100 * acc["ensemble"], abs=0.006)
    for i, a in enumerate(summary["test_accuracy_per_layer"], start=1):
        assert printed[f"layer {i} goodness"] == pytest.approx(100 * a, abs=0.006)


def test_cifar10_and_cifar100_train_end_to_end(isolated, monkeypatch, capsys):
    """The 3-channel path with CIFAR augmentation (crop, flip, colour jitter, greyscale), and 100
    classes, through the CLI on small archives in the official format."""
    rng = np.random.default_rng(0)
    members, _, _ = _cifar10_members(rng, per_batch=8)  # 40 training images, 3 test images
    c10 = write_tar(isolated / "cifar-10-python.tar.gz", members)
    x = rng.integers(0, 256, (24, 3, 32, 32), dtype=np.uint8)
    fine = rng.integers(0, 100, 24).tolist()
    c100 = write_tar(isolated / "cifar-100-python.tar.gz", {
        "cifar-100-python/train": cifar_batch(x[:20], fine[:20], label_key=b"fine_labels"),
        "cifar-100-python/test": cifar_batch(x[20:], fine[20:], label_key=b"fine_labels"),
        "cifar-100-python/meta": py2_pickle({b"fine_label_names": [b"n%d" % i for i in range(100)],
                                             b"coarse_label_names": [b"c%d" % i for i in range(20)]}),
    })
    for attr, path in (("CIFAR10_ARCHIVE", c10), ("CIFAR100_ARCHIVE", c100)):
        monkeypatch.setattr(datasets, attr, datasets.FileSpec(os.path.basename(path), md5(path.read_bytes())))

    for name, classes, train_size in (("cifar10", 10, 32), ("cifar100", 100, 12)):
        out = isolated / f"run-{name}"
        code = train_module.main(["--dataset", name, "--data-dir", str(isolated), "--val-size", "8",
                                  "--epochs", "2", "--batch-size", "4", "--width", "0.0625", "--out", str(out)])
        assert code == 0, capsys.readouterr().err
        config = json.loads((out / "config.json").read_text())
        assert (config["num_classes"], config["train_size"], config["val_size"]) == (classes, train_size, 8)
        summary = json.loads((out / "summary.json").read_text())
        assert len(summary["test_accuracy_per_layer"]) == 7 and summary["epochs"] == 2
        weights, _ = load_checkpoint(str(out / "model.npz"))
        assert weights["layers.0.w"].shape == (8, 3, 3, 3) and weights["layers.0.R"].shape[1] == classes
        assert weights["last_head.w"].shape == (32, classes)
