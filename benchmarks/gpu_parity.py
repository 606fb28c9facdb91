"""CPU/GPU parity on a fixed batch: same seed, same batch, a few float32 steps on each backend.

Prints the largest relative difference of the per-layer losses and of the weights; exits 1 if
they differ by more than float32 round-off can explain.
"""

import sys
import time

import numpy as np

import asge_np
from asge_np import backend


def main():
    cp = backend.require_gpu()
    rng = np.random.default_rng(0)
    x = rng.random((128, 1, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, 128)
    cpu = asge_np.build_model("vgg8", 1, 10, width=0.25, seed=1)
    gpu = asge_np.build_model("vgg8", 1, 10, width=0.25, seed=1, gpu=True)
    xg, yg = cp.asarray(x), cp.asarray(y)
    for _ in range(3):
        a = cpu.train_step(x, y)
        b = gpu.train_step(xg, yg)
    loss_diff = np.max(np.abs(cp.asnumpy(b["layer_loss"]) - a["layer_loss"]) / np.abs(a["layer_loss"]))
    w_diff = max(float(np.max(np.abs(cp.asnumpy(lg.w.value) - lc.w.value)) / float(np.max(np.abs(lc.w.value))))
                 for lc, lg in zip(cpu.layers, gpu.layers))
    print(f"largest relative difference after 3 steps: losses {loss_diff:.2e}, weights {w_diff:.2e}")
    cp.cuda.Device().synchronize()
    t = time.perf_counter()
    for _ in range(20):
        gpu.train_step(xg, yg)
    cp.cuda.Device().synchronize()
    print(f"GPU train step, VGG8 width 0.25, batch 128: {(time.perf_counter() - t) / 20 * 1e3:.1f} ms")
    return 0 if loss_diff < 1e-3 and w_diff < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
