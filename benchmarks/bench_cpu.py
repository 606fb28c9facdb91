"""CPU benchmark: matmul speed, conv speed per VGG8 layer, train-step throughput, peak memory.

    python benchmarks/bench_cpu.py [--quick]

Prints figures; asserts nothing (targets are read off the table, see README).  Run it on a quiet
machine: other processes on the same cores lower every figure.
"""

import argparse
import os
import platform
import time
import tracemalloc

import numpy as np

import asge_np
from asge_np.layers import asge_layer_backward, asge_layer_forward
from asge_np.ops import conv2d_backward, conv2d_forward, softmax_cross_entropy


def best_time(fn, repeats):
    fn()  # warm-up: first-touch allocations, BLAS thread start
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def matmul_gflops(n=2048, repeats=5):
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    out = np.empty((n, n), np.float32)
    return 2 * n ** 3 / best_time(lambda: np.matmul(a, b, out=out), repeats) / 1e9


def layer_inputs(model, batch, seed=0):
    """The channels-last input each layer of ``model`` sees for one random batch."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, model.in_channels, 32, 32), dtype=np.float32)
    y = rng.integers(0, model.num_classes, batch)
    h, y = model._prepare(x, y)
    inputs = []
    with model._blas_limit():
        for layer in model.layers:
            inputs.append(h)
            h, _ = model._run_layer(layer, h, y)
    return inputs, y


def conv_flops(h, layer):
    B, H, W, C = h.shape
    k = layer.w.value.shape[2]
    return 2 * B * H * W * C * k * k * layer.channels  # one product; forward and dW cost the same


def bench_layers(model, batch, repeats):
    inputs, y = layer_inputs(model, batch)
    rows = []
    for index, (layer, h) in enumerate(zip(model.layers, inputs)):
        step = model._chunk_size(h, layer)
        starts = list(range(0, h.shape[0], step))

        def conv_only():  # im2col + forward product + dW product, chunked and threaded as in training
            def work(s):
                out, cache = conv2d_forward(h[s:s + step], layer.w.value, layer.b.value, 1, 1, channels_last=True)
                return conv2d_backward(out, cache, need_dx=False)[1]
            with model._blas_limit():
                model._map_chunks(work, starts)

        def whole_layer():  # conv, ReLU, goodness, loss, local gradient, pool, dropout, norm
            with model._blas_limit():
                model._run_layer(layer, h, y)

        flops = 2 * conv_flops(h, layer)
        t_conv, t_layer = best_time(conv_only, repeats), best_time(whole_layer, repeats)
        rows.append((index + 1, h.shape, layer.channels, flops, t_conv, t_layer))
    return rows


def train_step_time(width, batch, repeats, name="vgg8"):
    model = asge_np.build_model(name, 1, 10, width=width, seed=0)
    rng = np.random.default_rng(0)
    x = rng.random((batch, 1, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    t = best_time(lambda: model.train_step(x, y), repeats)
    inputs, _ = layer_inputs(model, batch)
    flops = sum(2 * conv_flops(h, l) for h, l in zip(inputs, model.layers))
    return t, flops


def peak_memory(name, width, batch):
    """Peak bytes NumPy allocates during one train step (tracemalloc), and what backprop through
    the same network would hold: every layer's input, pre- and post-activation and pooled map."""
    model = asge_np.build_model(name, 1, 10, width=width, seed=0)
    rng = np.random.default_rng(0)
    x = rng.random((batch, 1, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    model.train_step(x, y)
    tracemalloc.start()
    tracemalloc.reset_peak()
    model.train_step(x, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    backprop, size, c_in = 0, 32, 1
    for layer in model.layers:
        c = layer.channels
        backprop += batch * size * size * (c_in + 2 * c) * 4  # input, z, relu(z)
        if layer.pool:
            size //= 2
            backprop += batch * size * size * c * 4
        c_in = c
    return peak, backprop


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.add_argument("--batch", type=int, default=128)
    args = p.parse_args()
    repeats = 2 if args.quick else 5
    cores = os.cpu_count()
    print(f"machine: {platform.machine()}, {cores} cores, numpy {np.__version__}, asge_np {asge_np.__version__}")
    mm = matmul_gflops()
    print(f"float32 matmul (2048^3): {mm:.1f} GFLOP/s\n")

    model = asge_np.build_model("vgg8", 1, 10, width=0.25, seed=0)
    print(f"VGG8 width 0.25, batch {args.batch}, 32x32 (chunks of <= {model.chunk_bytes >> 20} MiB im2col, "
          f"{model.threads} threads)")
    print("layer  input (B,H,W,C)       C_out  fwd+dW GFLOP  conv ms  conv GFLOP/s  % matmul  layer ms  layer GFLOP/s")
    for index, shape, c, flops, t_conv, t_layer in bench_layers(model, args.batch, repeats):
        print(f"{index:5d}  {str(shape):20s} {c:6d} {flops / 1e9:12.2f} {t_conv * 1e3:8.1f} {flops / t_conv / 1e9:13.1f} "
              f"{100 * flops / t_conv / 1e9 / mm:8.0f}% {t_layer * 1e3:9.1f} {flops / t_layer / 1e9:14.1f}")

    print("\nwhole train step (VGG8, every layer + heads + AdamW)")
    print("width   step ms   images/s   GFLOP/s (fwd+dW)  % matmul")
    for width in (0.125, 0.25, 0.5):
        t, flops = train_step_time(width, args.batch, repeats)
        print(f"{width:5.3f} {t * 1e3:9.1f} {args.batch / t:10.1f} {flops / t / 1e9:18.1f} {100 * flops / t / 1e9 / mm:8.0f}%")

    print("\npeak memory of one train step, width 0.25, batch", args.batch)
    peaks = {}
    for name in ("vgg8", "vgg11"):
        peak, backprop = peak_memory(name, 0.25, args.batch)
        peaks[name] = peak
        print(f"{name:6s} layer-local: {peak / 2**20:7.1f} MiB   backprop would keep activations of {backprop / 2**20:7.1f} MiB")
    print(f"vgg11 / vgg8 peak: {peaks['vgg11'] / peaks['vgg8']:.3f}")


if __name__ == "__main__":
    main()
