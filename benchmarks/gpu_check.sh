#!/usr/bin/env bash
# One command for a machine with a GPU and CuPy:  bash benchmarks/gpu_check.sh [DATA_DIR]
#  1. the GPU tests (CuPy against NumPy, marked `gpu`);
#  2. CPU/GPU parity of one training step on a fixed batch;
#  3. seconds per FashionMNIST epoch of full-width VGG8 (the paper preset), one epoch.
# DATA_DIR holds fashion-mnist/ (or the IDX files); without it, $ASGE_DATA and the usual search apply.
set -uo pipefail
cd "$(dirname "$0")/.."
data_dir=${1:-${ASGE_DATA:-../shared/data}}
status=0

echo "== GPU tests"
python3 -m pytest -q -m gpu tests/test_gpu.py || status=1

echo "== CPU/GPU parity on a fixed batch"
python3 benchmarks/gpu_parity.py || status=1

echo "== one FashionMNIST epoch, VGG8 full width (paper preset)"
out=$(mktemp -d)/run
python3 -m asge_np.train --gpu --preset paper --dataset fashionmnist --epochs 1 --data-dir "$data_dir" --out "$out" \
  && python3 - "$out" <<'PY' || status=1
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/metrics.csv")))
print(f"seconds per epoch (train + validation): {float(rows[0]['seconds']):.1f}")
PY
exit $status
