"""CPU/GPU parity on a fixed batch: same seed, same batch, a few float32 steps on each backend.

Prints the largest relative difference of the per-layer losses and of the weights; exits 1 if
they differ by more than float32 round-off can explain.  Then times GPU train steps, and what
the host-drawn dropout masks cost at full width.
"""

import sys
import time

import numpy as np

import asge_np
from asge_np import backend
from asge_np.ops import dropout_mask


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
    full_width_dropout_cost(cp, xg, yg)
    return 0 if loss_diff < 1e-3 and w_diff < 1e-3 else 1


def full_width_dropout_cost(cp, x, y, steps=10):
    """Dropout masks are drawn on the host (so CPU and GPU runs draw the same ones) and copied
    to the device: about 39 M mask entries per full-width step.  Print what that costs: the
    step with and without dropout, and the host draws alone."""
    for p in (0.1, 0.0):
        model = asge_np.build_model("vgg8", 1, 10, width=1.0, seed=1, gpu=True, dropout=p)
        model.train_step(x, y)  # warm-up: kernels compiled, memory pool filled
        cp.cuda.Device().synchronize()
        t = time.perf_counter()
        for _ in range(steps):
            model.train_step(x, y)
        cp.cuda.Device().synchronize()
        print(f"GPU train step, VGG8 full width, batch 128, dropout {p}: {(time.perf_counter() - t) / steps * 1e3:.1f} ms")
    print(f"  of which host mask draws alone: {host_mask_ms(model, x.shape[0]):.1f} ms")


def host_mask_ms(model, batch, repeats=3):
    """Time of drawing one step's dropout masks on the host, for ``model``'s layer outputs."""
    shapes, size = [], 32
    for layer in model.layers:
        size = size // 2 if layer.pool else size
        shapes.append((batch, size, size, layer.channels))
    rng = np.random.default_rng(0)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for shape in shapes:
            dropout_mask(shape, 0.1, rng)
        best = min(best, time.perf_counter() - t)
    return best * 1e3


if __name__ == "__main__":
    sys.exit(main())
