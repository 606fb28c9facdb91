"""Train and evaluate an ASGE network: ``python -m asge_np.train --dataset fashionmnist``.

The loop, per epoch: set the cosine learning rate; for every mini-batch, ``model.train_step``
(each layer learns from its own loss); validate every predictor; keep the best-validation
weights; write a checkpoint.  At the end the best-validation weights are evaluated once on the
test set.  Everything lands in the run directory::

    config.json      every argument, the seed, backend and library versions
    metrics.csv      one row per epoch: per-layer loss/accuracy, head accuracies, lr, seconds
    curves.png       per-layer and head curves
    checkpoint.npz   the latest state: weights, optimiser moments, epoch, batch, RNG states
    best_model.npz   weights of the best validation epoch;   model.npz   the final weights
    summary.json     best epoch, test accuracy per predictor and per layer, total seconds

A run stopped at any moment (Ctrl-C, ``kill -9``, a crash) continues with ``--resume RUN_DIR``
and ends with the same numbers as an uninterrupted run: the checkpoint holds every RNG state
(data order, augmentation, dropout) and the epoch's progress.
"""

import argparse
import csv
import io
import json
import math
import os
import platform
import signal
import sys
import time

import numpy as np

from . import __version__, backend
from .checkpoint import load_checkpoint, save_checkpoint, write_text_atomic
from .data import (DATASETS, augmentation_for, canonical_name, fit_images, iterate_batches,
                   load_dataset, make_synthetic, num_batches, train_val_split)
from .errors import UserError
from .goodness import REDUCTIONS
from .models import BETWEEN_LAYERS, STRATEGIES, build_model
from .optim import cosine_lr

#: Recipes.  ``paper``: the public code (VGG8, full width, 100 epochs).  ``cpu``: tuned to do
#: well within 15 minutes of training on a 2-core laptop-class CPU (see README for the numbers).
#: Tuned on 2-epoch runs over 15k FashionMNIST images: batch 32 beat 64 and 128 by 2-5 points at
#: about 14 % more time per image (more updates count for more than throughput this early);
#: lr 1e-3..2e-3 were level, 4e-3 and up worse; width 0.375 gained less than its doubled time;
#: dropout 0 changed nothing; goodness "sum" instead of "mean" lost 30 points.
PRESETS = {
    "paper": dict(model="vgg8", width=1.0, epochs=100, batch_size=128, lr=2e-4, min_lr=1e-5,
                  weight_decay=1e-3, dropout=0.1, augment="paper"),
    "cpu": dict(model="vgg8", width=0.25, epochs=5, batch_size=32, lr=1.5e-3, min_lr=1e-5,
                weight_decay=1e-3, dropout=0.1, augment="paper"),
}

#: Arguments that change the numbers a run produces; a checkpoint is only resumed under the same.
FINGERPRINT = ("dataset", "model", "width", "epochs", "batch_size", "lr", "min_lr", "weight_decay",
               "dropout", "seed", "limit", "eval_limit", "val_size", "augment", "fit", "select",
               "goodness", "alpha", "between")
#: Arguments a resumed run takes from its checkpoint unless given again.
CARRIED = FINGERPRINT + ("checkpoint_every", "data_dir", "gpu", "preset")

DATASET_CHOICES = sorted(DATASETS) + ["synthetic"]


# ------------------------------------------------------------------------------ arguments
class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise UserError(f"{message} (see python -m asge_np.train --help)")


def _integer(minimum, what):
    """An argparse type: an integer >= ``minimum``, described as ``what`` in the error."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}")
        return value
    return parse


_positive_int = _integer(1, "positive")
_non_negative_int = _integer(0, "non-negative")


def _number(minimum, inclusive):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
        if not math.isfinite(value) or value < minimum or (value == minimum and not inclusive):
            bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
            raise argparse.ArgumentTypeError(f"expected a finite number {bound}, got {text!r}")
        return value
    return parse


def _probability(text):
    value = _number(0.0, True)(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}")
    return value


def build_parser():
    p = _Parser(
        prog="python -m asge_np.train",
        description="Train an ASGE network layer by layer (no backpropagation between layers) and "
                    "evaluate it. With no arguments: the cpu preset on FashionMNIST.",
    )
    p.add_argument("--dataset", default="fashionmnist", type=str.lower,
                   help=f"one of {', '.join(DATASET_CHOICES)} (default fashionmnist)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="cpu",
                   help="cpu: tuned for ~15 minutes on 2 cores (default); paper: the public "
                        "recipe, VGG8 full width, 100 epochs (for a GPU). Flags below override it.")
    p.add_argument("--model", choices=["vgg8", "vgg11"], help="network (preset: vgg8)")
    p.add_argument("--width", type=_number(0, False), help="width multiplier for every layer; "
                   "each layer's goodness grid P is kept (cpu preset 0.25, paper 1.0)")
    p.add_argument("--epochs", type=_positive_int, help="training epochs")
    p.add_argument("--batch-size", type=_positive_int, help="mini-batch size (cpu preset 32, paper 128)")
    p.add_argument("--lr", type=_number(0, False),
                   help="peak AdamW learning rate, cosine-annealed per epoch (cpu preset 1.5e-3, paper 2e-4)")
    p.add_argument("--min-lr", type=_number(0, True), help="learning rate at the end of the cosine (1e-5)")
    p.add_argument("--weight-decay", type=_number(0, True), help="AdamW decoupled weight decay (1e-3)")
    p.add_argument("--dropout", type=_probability, help="dropout between layers (0.1)")
    p.add_argument("--augment", choices=["paper", "none"],
                   help="paper: the public code's augmentation for the dataset; none: no augmentation")
    p.add_argument("--goodness", choices=list(REDUCTIONS), default=REDUCTIONS[0],
                   help="a patch's goodness: the mean (public code) or the sum of its squared activations")
    p.add_argument("--alpha", type=_number(0, True), default=1.0,
                   help="goodness grid P = (C_last / C)^alpha per layer (1)")
    p.add_argument("--between", choices=list(BETWEEN_LAYERS), default=BETWEEN_LAYERS[0],
                   help="what a layer's output goes through before the next layer: avgpool-rms (public "
                        "code: 2x2 average pooling, per-sample RMS norm) or rmspool-layernorm (the "
                        "paper's description: 2x2 RMS pooling, LayerNorm over channels)")
    p.add_argument("--fit", choices=["resize", "pad"], default="resize",
                   help="bring 28x28 images to 32x32 by bilinear resize (paper) or zero padding")
    p.add_argument("--select", choices=list(STRATEGIES), default="ensemble",
                   help="predictor whose validation accuracy picks the best epoch (ensemble)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random draw (0)")
    p.add_argument("--limit", type=_positive_int,
                   help="train on the first N training images only (quick runs)")
    p.add_argument("--val-size", type=_non_negative_int, metavar="N",
                   help="training images held out for validation, which picks the best epoch "
                        "(default: the public code's split, 10000 for MNIST/FashionMNIST, 5000 "
                        "for CIFAR); 0 trains on the whole training set and keeps the last epoch")
    p.add_argument("--eval-limit", type=_positive_int,
                   help="validate and test on the first N images only (smoke tests; the "
                        "summary says so)")
    p.add_argument("--gpu", action="store_true", help="run on the GPU with CuPy")
    p.add_argument("--data-dir", help="folder holding the dataset files (else $ASGE_DATA, the "
                   "cache, system folders, then a download)")
    p.add_argument("--out", help="run directory (default runs/DATASET-MODEL-wWIDTH-TIME)")
    p.add_argument("--resume", metavar="RUN_DIR_OR_CHECKPOINT",
                   help="continue a stopped run; its recorded arguments are used")
    p.add_argument("--checkpoint-every", type=_positive_int, metavar="N",
                   help="also checkpoint every N batches (always: every epoch, and on Ctrl-C)")
    return p


def resolve_args(argv):
    """Parse ``argv``, fill unset flags from the preset, check what argparse cannot."""
    args = build_parser().parse_args(argv)
    shadow = build_parser()  # the same flags with no defaults: tells which were given
    for action in shadow._actions:
        action.default = argparse.SUPPRESS
    given = set(vars(shadow.parse_args(argv)))
    for key, value in PRESETS[args.preset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.dataset != "synthetic":
        args.dataset = canonical_name(args.dataset)
    if args.min_lr > args.lr:
        raise UserError(f"--min-lr {args.min_lr:g} is above --lr {args.lr:g}")
    return args, given


# ------------------------------------------------------------------------------ data
def load_data(args):
    """Host arrays at 32x32: (train, val, test) pairs of uint8 images and int64 labels."""
    if args.dataset == "synthetic":
        ds = make_synthetic(n=6000, num_classes=10, seed=0)
    else:
        ds = load_dataset(args.dataset, data_dir=args.data_dir, progress=sys.stderr.isatty())
    val_size = getattr(args, "val_size", None)  # absent from the config of older runs
    if val_size is not None and val_size >= len(ds.train_labels):
        raise UserError(f"--val-size {val_size} leaves no training images: {args.dataset} has "
                        f"{len(ds.train_labels)}")
    (x_tr, y_tr), (x_val, y_val) = train_val_split(ds, seed=0, val_size=val_size)
    if args.limit:
        x_tr, y_tr = x_tr[:args.limit], y_tr[:args.limit]
    x_te, y_te = ds.test_images, ds.test_labels
    if args.eval_limit:
        x_val, y_val = x_val[:args.eval_limit], y_val[:args.eval_limit]
        x_te, y_te = x_te[:args.eval_limit], y_te[:args.eval_limit]
    fit = lambda x: x if x.shape[2:] == (32, 32) else fit_images(x, 32, method=args.fit)  # noqa: E731
    return ds, (fit(x_tr), y_tr), (fit(x_val), y_val), (fit(x_te), y_te)


def evaluate(model, images, labels, batch_size=500):
    """Accuracy of every predictor: {'layers': [per-layer goodness], 'head': .., 'ensemble': ..}."""
    xp = model.xp
    correct = {"layers": 0, "head": 0, "ensemble": 0}
    for x, y in iterate_batches(images, labels, batch_size, xp=xp):
        pred = model.predict_all(x, batch_size=batch_size)
        correct["layers"] = correct["layers"] + (pred["layers"] == y[None, :]).sum(axis=1)
        correct["head"] = correct["head"] + (pred["head"] == y).sum()
        correct["ensemble"] = correct["ensemble"] + (pred["ensemble"] == y).sum()
    n = len(labels)
    return {"layers": [float(c) / n for c in backend.to_host(correct["layers"])],
            "head": float(correct["head"]) / n, "ensemble": float(correct["ensemble"]) / n}


def strategy_accuracy(acc, strategy):
    return acc["layers"][-1] if strategy == "goodness" else acc[strategy]


# ------------------------------------------------------------------------------ run directory
def _default_out(args):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return os.path.join("runs", f"{args.dataset}-{args.model}-w{args.width:g}-{stamp}")


def _prepare_out(path, resuming):
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"--out {path} is a file, not a directory: choose another path")
    if not resuming and os.path.exists(os.path.join(path, "checkpoint.npz")):
        raise UserError(f"{path} already holds a run: continue it with --resume {path}, or pick another --out")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create run directory {path}: {e.strerror}")


def _record(args):
    return {k: getattr(args, k) for k in sorted(vars(args))}


def _metric_names(num_layers):
    names = ["epoch", "lr", "seconds"]
    for i in range(1, num_layers + 1):
        names += [f"train_layer{i}_loss", f"train_layer{i}_acc"]
    names += ["train_ensemble_loss", "train_ensemble_acc", "train_head_loss", "train_head_acc"]
    names += [f"val_layer{i}_acc" for i in range(1, num_layers + 1)]
    names += ["val_head_acc", "val_ensemble_acc"]
    return names


def _write_metrics(run_dir, history, num_layers):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_metric_names(num_layers))
    writer.writeheader()
    for row in history:
        writer.writerow(row)
    write_text_atomic(os.path.join(run_dir, "metrics.csv"), buf.getvalue())


# ------------------------------------------------------------------------------ training
class _Interrupt:
    """Turns the first Ctrl-C into a flag checked between batches, so a step is never cut in
    half; a second Ctrl-C stops at once (the last checkpoint is kept)."""

    def __init__(self):
        self.requested = False

    def __enter__(self):
        self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self._old)


def _rng_state(rng):
    return rng.bit_generator.state


def _set_rng_state(rng, state):
    rng.bit_generator.state = state


def _progress(iterable=None, **kwargs):
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        tqdm = None
    if tqdm is None or not sys.stderr.isatty():
        return None
    return tqdm(iterable, **kwargs)


def train(args, given=frozenset()):
    """Run (or resume) a training run; returns the summary dict, or None when Ctrl-C stopped it
    (after writing a checkpoint)."""
    resume_meta, resume_arrays = None, None
    if args.resume:
        path = args.resume
        if os.path.isdir(path):
            path = os.path.join(path, "checkpoint.npz")
        resume_arrays, resume_meta = load_checkpoint(path)
        recorded = resume_meta.get("config")
        if not isinstance(recorded, dict) or resume_meta.get("format") != "asge_np-run-1":
            raise UserError(f"{path} is not a training checkpoint of asge_np")
        differs = [k for k in FINGERPRINT if k in given and getattr(args, k) != recorded.get(k)]
        if differs:
            raise UserError("the checkpoint was made with other settings: "
                            + ", ".join(f"--{k.replace('_', '-')} {recorded.get(k)} (not {getattr(args, k)})" for k in differs))
        for k in CARRIED:
            if k not in given and k in resume_meta.get("args", {}):
                setattr(args, k, resume_meta["args"][k])
        if not args.out:
            args.out = os.path.dirname(os.path.abspath(path))
    run_dir = args.out or _default_out(args)
    xp = backend.array_module(args.gpu)  # a clear error before any work when CuPy is missing
    _prepare_out(run_dir, resuming=bool(args.resume))

    ds, (x_tr, y_tr), (x_val, y_val), (x_te, y_te) = load_data(args)
    model = build_model(args.model, ds.channels, ds.num_classes, width=args.width, seed=args.seed,
                        gpu=args.gpu, dropout=args.dropout, lr=args.lr, weight_decay=args.weight_decay,
                        goodness=args.goodness, alpha=args.alpha, between=args.between)
    transform = augmentation_for(args.dataset) if args.augment == "paper" and args.dataset != "synthetic" else None
    data_rng = np.random.default_rng(np.random.SeedSequence(args.seed).spawn(3)[2])
    L = len(model.layers)

    config = _record(args)
    config.update(out=run_dir, backend="cupy" if args.gpu else "numpy", versions=backend.library_versions(),
                  asge_np=__version__, python=platform.python_version(), num_classes=ds.num_classes,
                  train_size=int(len(y_tr)), val_size=int(len(y_val)), test_size=int(len(y_te)),
                  threads=model.threads, chunk_bytes=model.chunk_bytes)
    write_text_atomic(os.path.join(run_dir, "config.json"), json.dumps(config, indent=2) + "\n")

    fingerprint = {k: getattr(args, k) for k in FINGERPRINT}
    state = {"epoch": 0, "batch": 0, "history": [], "best_epoch": None, "best_val": -1.0,
             "elapsed": 0.0, "epoch_elapsed": 0.0, "sums": None, "epoch_rng": None}
    if resume_meta is not None:
        model.load_state_dict(resume_arrays)
        _set_rng_state(model.rng, resume_meta["model_rng"])
        _set_rng_state(data_rng, resume_meta["data_rng"])
        for key in state:
            state[key] = resume_meta[key]

    def checkpoint():
        meta = dict(state, format="asge_np-run-1", config=fingerprint,
                    args={k: getattr(args, k) for k in CARRIED},
                    model_rng=_rng_state(model.rng), data_rng=_rng_state(data_rng))
        save_checkpoint(os.path.join(run_dir, "checkpoint.npz"), model.state_dict(), meta)

    n_batches = num_batches(len(y_tr), args.batch_size)
    check_every = 1 if xp is np else 20  # a finiteness check syncs with the GPU
    tty = sys.stderr.isatty()
    epoch_bar = _progress(total=args.epochs, initial=state["epoch"], desc="epochs", unit="epoch")
    stopped = False
    with _Interrupt() as interrupt:
        while state["epoch"] < args.epochs:
            epoch = state["epoch"]
            model.lr = cosine_lr(epoch, args.epochs, args.lr, args.min_lr)
            if state["batch"] == 0:
                state["epoch_rng"] = _rng_state(data_rng)
                state["sums"] = None
            order_rng = np.random.default_rng()
            _set_rng_state(order_rng, state["epoch_rng"])
            order = order_rng.permutation(len(y_tr))  # what iterate_batches draws first
            if state["batch"] == 0:
                _set_rng_state(data_rng, _rng_state(order_rng))
            sums = None if state["sums"] is None else {k: xp.asarray(v) for k, v in state["sums"].items()}
            started = time.perf_counter() - state["epoch_elapsed"]
            batch_bar = _progress(total=n_batches, initial=state["batch"], desc=f"epoch {epoch + 1}",
                                  unit="batch", leave=False)
            batches = iterate_batches(x_tr, y_tr, args.batch_size, rng=data_rng, xp=xp, transform=transform,
                                      order=order, start_batch=state["batch"])
            for x, y in batches:
                out = model.train_step(x, y)
                weighted = {k: out[k].astype(xp.float64) * len(y) for k in out}
                sums = weighted if sums is None else {k: sums[k] + weighted[k] for k in sums}
                state["batch"] += 1
                if state["batch"] % check_every == 0 or state["batch"] == n_batches:
                    _check_finite(out, epoch, state["batch"], run_dir)
                    if batch_bar is not None:
                        batch_bar.set_postfix(loss=f"{float(out['layer_loss'][-1]):.3f}",
                                              acc=f"{float(out['layer_acc'][-1]):.3f}",
                                              ens=f"{float(out['ensemble_acc']):.3f}")
                if batch_bar is not None:
                    batch_bar.update(1)
                periodic = args.checkpoint_every and state["batch"] % args.checkpoint_every == 0
                if (interrupt.requested or periodic) and state["batch"] < n_batches:
                    _check_finite(out, epoch, state["batch"], run_dir)
                    state["sums"] = {k: backend.to_host(v).tolist() for k, v in sums.items()}
                    state["epoch_elapsed"] = time.perf_counter() - started
                    checkpoint()
                    if interrupt.requested:
                        stopped = True
                        break
            if batch_bar is not None:
                batch_bar.close()
            if stopped:
                break

            n = len(y_tr)
            train_means = {k: backend.to_host(v) / n for k, v in sums.items()}
            # without a validation set (--val-size 0) every epoch is "the best": the last one is kept
            val = evaluate(model, x_val, y_val) if len(y_val) else None
            seconds = time.perf_counter() - started
            row = {"epoch": epoch + 1, "lr": model.lr, "seconds": round(seconds, 3)}
            for i in range(L):
                row[f"train_layer{i + 1}_loss"] = float(train_means["layer_loss"][i])
                row[f"train_layer{i + 1}_acc"] = float(train_means["layer_acc"][i])
                row[f"val_layer{i + 1}_acc"] = val["layers"][i] if val else math.nan
            for k in ("ensemble", "head"):
                row[f"train_{k}_loss"] = float(train_means[f"{k}_loss"])
                row[f"train_{k}_acc"] = float(train_means[f"{k}_acc"])
            row["val_head_acc"] = val["head"] if val else math.nan
            row["val_ensemble_acc"] = val["ensemble"] if val else math.nan
            state["history"].append(row)
            state["elapsed"] += seconds
            selected = strategy_accuracy(val, args.select) if val else None
            if val is None or selected > state["best_val"]:
                state["best_val"], state["best_epoch"] = selected, epoch + 1
                save_checkpoint(os.path.join(run_dir, "best_model.npz"), model.state_dict(),
                                {"format": "asge_np-model-1", "epoch": epoch + 1, "config": fingerprint})
            state.update(epoch=epoch + 1, batch=0, sums=None, epoch_elapsed=0.0)
            checkpoint()
            _write_metrics(run_dir, state["history"], L)
            _plot(run_dir, state["history"], L)
            line = (f"epoch {epoch + 1}/{args.epochs}  lr {row['lr']:.2e}  "
                    f"train loss (last layer) {row[f'train_layer{L}_loss']:.4f}  "
                    + (f"val acc: last layer {val['layers'][-1]:.4f}  head {val['head']:.4f}  "
                       f"ensemble {val['ensemble']:.4f}  " if val else
                       f"train acc: last layer {row[f'train_layer{L}_acc']:.4f}  "
                       f"ensemble {row['train_ensemble_acc']:.4f}  ")
                    + f"{seconds:.1f} s")
            if epoch_bar is not None:
                epoch_bar.update(1)
                epoch_bar.write(line)
            else:
                print(line, flush=True)
            if interrupt.requested:
                stopped = True
                break
    if epoch_bar is not None:
        epoch_bar.close()
    if stopped:
        print(f"interrupted: checkpoint saved; continue with python -m asge_np.train --resume {run_dir}",
              file=sys.stderr)
        return None
    return _finish(args, model, run_dir, state, (x_te, y_te), L)


def _check_finite(out, epoch, batch, run_dir):
    values = [float(v) for v in backend.to_host(out["layer_loss"])] + [float(out["ensemble_loss"]), float(out["head_loss"])]
    if not all(math.isfinite(v) for v in values):
        raise UserError(f"the loss became non-finite at epoch {epoch + 1}, batch {batch}; the last good "
                        f"checkpoint is kept in {run_dir}: try a lower --lr")


def _finish(args, model, run_dir, state, test, L):
    _write_metrics(run_dir, state["history"], L)  # again: a resume may start right here
    _plot(run_dir, state["history"], L)
    save_checkpoint(os.path.join(run_dir, "model.npz"), model.state_dict(),
                    {"format": "asge_np-model-1", "epoch": state["epoch"], "config": {k: getattr(args, k) for k in FINGERPRINT}})
    best_arrays, _ = load_checkpoint(os.path.join(run_dir, "best_model.npz"))
    model.load_state_dict(best_arrays)
    acc = evaluate(model, *test)
    summary = {
        "best_val_epoch": state["best_epoch"], "best_val_accuracy": state["best_val"], "selected_by": args.select,
        "test_accuracy": {"goodness_last_layer": acc["layers"][-1], "head": acc["head"], "ensemble": acc["ensemble"]},
        "test_accuracy_per_layer": acc["layers"], "test_size": int(len(test[1])),
        "eval_limited": bool(args.eval_limit), "total_seconds": round(state["elapsed"], 2),
        "epochs": state["epoch"],
    }
    write_text_atomic(os.path.join(run_dir, "summary.json"), json.dumps(summary, indent=2) + "\n")
    print(format_summary(summary), flush=True)
    print(f"run directory: {run_dir}", flush=True)
    return summary


def format_summary(summary):
    if summary["best_val_accuracy"] is None:
        head = f"no validation set: the last epoch ({summary['best_val_epoch']}) is kept"
    else:
        head = (f"best validation epoch {summary['best_val_epoch']} ({summary['selected_by']} "
                f"{summary['best_val_accuracy']:.4f})")
    lines = [f"{head}; test accuracy on {summary['test_size']} images:"]
    for name, value in summary["test_accuracy"].items():
        lines.append(f"  {name:<20s} {value * 100:6.2f} %")
    lines.append("  per layer (goodness): " + "  ".join(f"{a * 100:.2f}" for a in summary["test_accuracy_per_layer"]))
    return "\n".join(lines)


def _plot(run_dir, history, L):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = [r["epoch"] for r in history]
    # without a validation set (--val-size 0) the accuracy panels show the training figures
    split = "val" if history and not math.isnan(history[-1]["val_ensemble_acc"]) else "train"
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for i in range(1, L + 1):
        axes[0].plot(epochs, [r[f"train_layer{i}_loss"] for r in history], marker="o", label=f"layer {i}")
        axes[1].plot(epochs, [r[f"{split}_layer{i}_acc"] for r in history], marker="o", label=f"layer {i}")
    axes[2].plot(epochs, [r[f"{split}_ensemble_acc"] for r in history], marker="o", label=f"head ensemble ({split})")
    axes[2].plot(epochs, [r[f"{split}_head_acc"] for r in history], marker="o", label=f"last-layer head ({split})")
    if split == "val":
        axes[2].plot(epochs, [r["train_ensemble_acc"] for r in history], ls="--", label="head ensemble (train)")
    titles = ("local loss per layer (train)", f"goodness accuracy per layer ({split})", "heads")
    for ax, title in zip(axes, titles):
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = os.path.join(run_dir, ".curves.tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, os.path.join(run_dir, "curves.png"))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        args, given = resolve_args(argv)
        summary = train(args, given)
        return 0 if summary is not None else 130  # None: stopped by Ctrl-C after a checkpoint
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped: the last checkpoint is kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
