"""Re-evaluate a saved run on the test set: ``python -m asge_np.evaluate RUN_DIR``."""

import argparse
import json
import os
import sys

from .checkpoint import load_checkpoint
from .errors import UserError
from .models import build_model
from .train import evaluate, load_data


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UserError(f"{message} (see python -m asge_np.evaluate --help)")


def main(argv=None):
    p = _Parser(prog="python -m asge_np.evaluate",
                description="Evaluate a training run's weights on the full test set, every predictor.")
    p.add_argument("run_dir", help="a run directory written by python -m asge_np.train")
    p.add_argument("--weights", choices=["best", "final"], default="best",
                   help="best_model.npz (best validation epoch, default) or model.npz (last epoch)")
    p.add_argument("--data-dir", help="folder holding the dataset files")
    p.add_argument("--gpu", action="store_true", help="evaluate on the GPU with CuPy")
    try:
        args = p.parse_args(sys.argv[1:] if argv is None else argv)
        config_path = os.path.join(args.run_dir, "config.json")
        if not os.path.isfile(config_path):
            raise UserError(f"{args.run_dir} is not a run directory (no config.json)")
        with open(config_path) as f:
            config = json.load(f)
        weights = os.path.join(args.run_dir, "best_model.npz" if args.weights == "best" else "model.npz")
        arrays, _ = load_checkpoint(weights)
        run = argparse.Namespace(**config)
        run.data_dir, run.gpu, run.eval_limit = args.data_dir or config.get("data_dir"), args.gpu, None
        ds, _, _, (x_te, y_te) = load_data(run)
        variant = {k: config[k] for k in ("goodness", "alpha", "between") if k in config}  # newer runs record them
        model = build_model(run.model, ds.channels, ds.num_classes, width=run.width, seed=run.seed, gpu=args.gpu,
                            **variant)
        model.load_state_dict(arrays)
        acc = evaluate(model, x_te, y_te)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{run.dataset} {run.model} width {run.width:g}, {args.weights} weights, {len(y_te)} test images")
    print(f"  goodness (last layer)  {acc['layers'][-1] * 100:6.2f} %")
    print(f"  last-layer head        {acc['head'] * 100:6.2f} %")
    print(f"  head ensemble          {acc['ensemble'] * 100:6.2f} %")
    for i, a in enumerate(acc["layers"], start=1):
        print(f"  layer {i} goodness       {a * 100:6.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
