"""VGG8 and VGG11 built from ASGE layers; one training step; three ways to predict.

A training step, for a mini-batch (x, y)::

    h = rms_norm(x)
    for each layer:                      (each layer learns from its own loss only)
        a, y_l = layer.forward(h)        logits from goodness, post-ReLU map
        loss → dw, db → AdamW update     (local gradients; nothing goes back to h)
        h = rms_norm(dropout(pool(y_l))) the pre-update y_l feeds the next layer
    heads: one cross-entropy on the summed logits of the linear heads of layers 2..L,
           and one on the single linear head of the last layer

Feature maps inside the network are channels-last, (B, H, W, C): see :mod:`asge_np.ops.conv`.
"""

import contextlib
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

try:  # limits BLAS to one thread while our own threads each run a chunk
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover - without it, chunks run one after another
    ThreadpoolController = None

from . import backend
from .errors import ShapeError, UserError
from .goodness import REDUCTIONS, grid_size, make_projection
from .layers import asge_layer_backward, asge_layer_forward, kaiming_normal
from .ops import (
    accuracy,
    avgpool2x2_forward,
    dropout_forward,
    dropout_mask,
    layer_norm_forward,
    linear_backward,
    linear_forward,
    rms_norm_forward,
    rmspool2x2_forward,
    softmax_cross_entropy,
)
from .optim import adamw_init, adamw_update

#: (channels, pool after the layer) at width 1.0.  The last layer is the widest: C_last = 512.
VGG_LAYOUTS = {
    "vgg8": ((128, False), (256, True), (256, False), (512, True), (512, True), (512, True), (512, False)),
    "vgg11": (
        (128, False), (256, True), (256, False), (512, True), (512, False),
        (512, True), (512, False), (512, True), (512, False), (512, False),
    ),
}

STRATEGIES = ("goodness", "head", "ensemble")

#: A layer's chunk count is rounded up to a multiple of this, whatever the thread count: how a
#: batch is cut decides the order dW is summed in, so it must not depend on how many cores run
#: the chunks, or the same seed would give other numbers on another machine.
CHUNK_MULTIPLE = 2

#: What a layer's output goes through before the next layer (no gradient either way).
#: ``avgpool-rms``: the public code, 2x2 average pooling and per-sample RMS normalisation;
#: ``rmspool-layernorm``: the paper's description, 2x2 RMS pooling and a LayerNorm over channels.
BETWEEN_LAYERS = ("avgpool-rms", "rmspool-layernorm")


def _available_cores():
    """CPU cores this process may run on (its affinity mask, where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class Parameter:
    """A trained array and its AdamW state (first/second moments and step count)."""

    def __init__(self, value):
        self.value = value
        self.state = adamw_init(value)


class ASGELayer:
    """Conv weight and bias (trained), fixed projection R, r, goodness grid P, pooling flag."""

    def __init__(self, w, b, R, r, grid, pool):
        self.w, self.b = Parameter(w), Parameter(b)
        self.R, self.r = R, r
        self.grid, self.pool = grid, pool

    @property
    def channels(self):
        return self.w.value.shape[0]


class LinearHead:
    """A softmax classifier on a layer's pooled features: logits = f @ w + b."""

    def __init__(self, w, b):
        self.w, self.b = Parameter(w), Parameter(b)


class ASGENetwork:
    """A stack of ASGE layers with linear heads.  Build it with :func:`build_model`."""

    def __init__(self, layout, in_channels, num_classes, xp=np, seed=0, width=1.0,
                 dtype=np.float32, dropout=0.1, lr=2e-4, weight_decay=1e-3,
                 betas=(0.9, 0.999), eps=1e-8, goodness="mean", alpha=1.0, between="avgpool-rms",
                 name="custom", chunk_bytes="auto", threads="auto"):
        if not 0.0 <= dropout < 1.0:
            raise UserError(f"dropout must be in [0, 1), got {dropout}")
        if between not in BETWEEN_LAYERS:
            raise UserError(f"unknown between-layer transform {between!r}; choose one of {', '.join(BETWEEN_LAYERS)}")
        if goodness not in REDUCTIONS:
            raise UserError(f"unknown goodness reduction {goodness!r}; choose one of {', '.join(REDUCTIONS)}")
        if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha >= 0):
            raise UserError(f"alpha must be a finite number >= 0, got {alpha}")
        self.xp, self.dtype = xp, np.dtype(dtype)
        self.name, self.width = name, width
        self.in_channels, self.num_classes = in_channels, num_classes
        self.dropout, self.goodness, self.between = dropout, goodness, between
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.seed = seed
        on_numpy = xp is np
        #: Largest im2col buffer per chunk of samples (None: the whole batch at once).  On the
        #: CPU a few MiB keep a chunk's working set in cache; a GPU wants the whole batch.
        self.chunk_bytes = (4 << 20 if on_numpy else None) if chunk_bytes == "auto" else chunk_bytes
        if threads == "auto":
            threads = _available_cores() if on_numpy and ThreadpoolController else 1
        self.threads = int(threads)
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        self._blas = ThreadpoolController() if self._pool is not None else None
        init_seq, dropout_seq = np.random.SeedSequence(seed).spawn(2)
        init_rng = np.random.default_rng(init_seq)
        #: Host generator for dropout masks; a checkpoint saves its state (``rng.bit_generator.state``).
        self.rng = np.random.default_rng(dropout_seq)

        base_last = layout[-1][0]
        channels = [max(1, int(round(c * width))) for c, _ in layout]
        to_dev = lambda a: backend.to_device(a, xp)  # noqa: E731
        self.layers = []
        c_in = in_channels
        for (base_c, pool), c in zip(layout, channels):
            grid = grid_size(base_c, base_last, alpha)  # P from the base widths: width keeps P
            w = kaiming_normal((c, c_in, 3, 3), c_in * 9, init_rng, self.dtype)
            b = np.zeros(c, self.dtype)
            R, r = make_projection(c * grid * grid, num_classes, init_rng, self.dtype)
            self.layers.append(ASGELayer(to_dev(w), to_dev(b), to_dev(R), to_dev(r), grid, pool))
            c_in = c

        def head(dim):
            w = kaiming_normal((dim, num_classes), dim, init_rng, self.dtype)
            return LinearHead(to_dev(w), to_dev(np.zeros(num_classes, self.dtype)))

        #: One head per layer 2..L; their logits are summed (the public code's predictor).
        self.ensemble_heads = [head(layer.channels) for layer in self.layers[1:]]
        #: A single head on the last layer.
        self.last_head = head(self.layers[-1].channels)

    # ----------------------------------------------------------------------------- forward
    def _prepare(self, x, y=None):
        xp = self.xp
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ShapeError(
                f"expected images of shape (B, {self.in_channels}, H, W), got {tuple(x.shape)}"
            )
        x = backend.to_device(x, xp).astype(self.dtype, copy=False)
        h, _ = rms_norm_forward(xp.ascontiguousarray(x.transpose(0, 2, 3, 1)))
        if y is not None:
            if y.shape != (x.shape[0],):
                raise ShapeError(f"expected {x.shape[0]} labels of shape ({x.shape[0]},), got {tuple(y.shape)}")
            y = backend.to_device(y, xp)
        return h, y

    def _chunk_size(self, h, layer):
        """Samples per chunk, so that one chunk's working set stays within ``chunk_bytes``.

        Every step of a layer — conv, goodness, loss, local gradient, pooling, dropout, RMS
        norm — treats samples independently, so a batch can be cut into chunks whose working
        set stays in the CPU cache; only dW and dβ are summed over chunks.  The working set
        is the im2col buffer plus the output map (for a 1-channel input layer the output is
        the larger).  Chunks are made equal and their number a multiple of ``CHUNK_MULTIPLE``
        (not of the thread count, so that every machine sums dW in the same order).
        """
        B = h.shape[0]
        if self.chunk_bytes is None:
            return B
        _, H, W, C = h.shape
        k = layer.w.value.shape[2]
        per_sample = H * W * (k * k * C + layer.channels) * self.dtype.itemsize
        chunks = math.ceil(B / max(1, min(B, self.chunk_bytes // per_sample)))
        chunks = min(B, math.ceil(chunks / CHUNK_MULTIPLE) * CHUNK_MULTIPLE)
        return math.ceil(B / chunks)

    def _next_input(self, y, layer, keep=None):
        """What the next layer sees: rms_norm(dropout(pool(y))), computed without gradient
        (with ``between="rmspool-layernorm"``: layer_norm(dropout(rms_pool(y)))).

        keep: the dropout keep-mask for these samples, or None (evaluation, or no dropout).
        """
        paper_variant = self.between == "rmspool-layernorm"
        if layer.pool:
            pool = rmspool2x2_forward if paper_variant else avgpool2x2_forward
            y, _ = pool(y, channels_last=True)
        if keep is not None:
            y, _ = dropout_forward(y, self.dropout, keep)
        h, _ = layer_norm_forward(y, axis=-1) if paper_variant else rms_norm_forward(y)
        return h

    def _output_shape(self, h, layer):
        B, H, W, _ = h.shape
        return (B, H // 2, W // 2, layer.channels) if layer.pool else (B, H, W, layer.channels)

    def _run_layer(self, layer, h, y=None):
        """One layer over a batch, chunk by chunk.  With labels ``y`` it also computes the local
        gradients (nothing is updated here); without, it only evaluates.

        h: (B, H, W, C_in) channels-last input.  Returns ``h_next`` (the next layer's input) and
        either ``(loss, accuracy, dw, db)`` when training or the logits (B, N) when evaluating.
        """
        xp, B = self.xp, h.shape[0]
        train = y is not None
        h_next = xp.empty(self._output_shape(h, layer), dtype=self.dtype)
        keep = None
        if train and self.dropout > 0:  # drawn for the whole batch at once, in a fixed order
            keep = backend.to_device(dropout_mask(h_next.shape, self.dropout, self.rng), xp)
        step = self._chunk_size(h, layer)

        def work(start):
            stop = min(B, start + step)
            logits, y_map, cache = asge_layer_forward(
                h[start:stop], layer.w.value, layer.b.value, layer.R, layer.r, layer.grid,
                reduction=self.goodness,
            )
            h_next[start:stop] = self._next_input(y_map, layer, None if keep is None else keep[start:stop])
            if not train:
                return logits
            labels = y[start:stop]
            loss, dlogits = softmax_cross_entropy(logits, labels)
            dlogits *= (stop - start) / B  # the batch loss is the mean over all B samples
            dw, db = asge_layer_backward(dlogits, cache)
            correct = (xp.argmax(logits, axis=1) == labels).sum()
            return loss * (stop - start), correct, dw, db

        results = self._map_chunks(work, range(0, B, step))
        if not train:
            return h_next, xp.concatenate(results)
        loss, correct, dw, db = results[0]
        for more in results[1:]:  # summed in chunk order: the same numbers however threads run
            loss, correct, dw, db = loss + more[0], correct + more[1], dw + more[2], db + more[3]
        return h_next, (loss / B, correct / B, dw, db)

    def _map_chunks(self, work, starts):
        starts = list(starts)
        if self._pool is None or len(starts) == 1:
            return [work(s) for s in starts]
        return list(self._pool.map(work, starts))

    def _blas_limit(self):
        """While our threads run chunks side by side, each BLAS call uses one core."""
        if self._blas is None:
            return contextlib.nullcontext()
        return self._blas.limit(limits=1, user_api="blas")

    def _update(self, param, grad):
        adamw_update(param.value, grad, param.state, self.lr, self.betas, self.eps, self.weight_decay)

    def train_step(self, x, y):
        """Train every layer and the heads on one mini-batch.

        x: (B, C, H, W) float images, y: (B,) integer labels (NumPy, or CuPy on the GPU).
        Returns a dict of arrays on the model's device (no host synchronisation):
        ``layer_loss`` (L,), ``layer_acc`` (L,), ``ensemble_loss``, ``ensemble_acc``,
        ``head_loss``, ``head_acc`` (0-d).
        """
        xp = self.xp
        h, y = self._prepare(x, y)
        losses, accs, features = [], [], []
        with self._blas_limit():
            for index, layer in enumerate(self.layers):
                # the gradients come from this batch's forward pass with the current weights;
                # h, the input of the next layer, also comes from that pre-update pass
                h, (loss, acc, dw, db) = self._run_layer(layer, h, y)
                self._update(layer.w, dw)
                self._update(layer.b, db)
                losses.append(loss)
                accs.append(acc)
                if index >= 1:
                    features.append(h.mean(axis=(1, 2)))  # global average pool: (B, C)

            ens_loss, ens_acc = self._train_heads(self.ensemble_heads, features, y)
            head_loss, head_acc = self._train_heads([self.last_head], features[-1:], y)
        return {
            "layer_loss": xp.stack(losses), "layer_acc": xp.stack(accs),
            "ensemble_loss": ens_loss, "ensemble_acc": ens_acc,
            "head_loss": head_loss, "head_acc": head_acc,
        }

    def _train_heads(self, heads, features, y):
        """One cross-entropy on the summed logits of ``heads``; each head gets its own grads."""
        logits, caches = 0, []
        for head, f in zip(heads, features):
            out, cache = linear_forward(f, head.w.value, head.b.value)
            logits = logits + out
            caches.append(cache)
        loss, dlogits = softmax_cross_entropy(logits, y)
        for head, cache in zip(heads, caches):
            _, dw, db = linear_backward(dlogits, cache)  # d(sum)/d(each term) = 1
            self._update(head.w, dw)
            self._update(head.b, db)
        return loss, accuracy(logits, y)

    # -------------------------------------------------------------------------- prediction
    def logits_all(self, x):
        """Evaluation pass (no dropout, no update) for one batch.

        Returns ``layer_logits`` (list of L arrays (B, N)), ``head`` (B, N), ``ensemble`` (B, N).
        """
        h, _ = self._prepare(x)
        layer_logits, features = [], []
        with self._blas_limit():
            for index, layer in enumerate(self.layers):
                h, logits = self._run_layer(layer, h)
                layer_logits.append(logits)
                if index >= 1:
                    features.append(h.mean(axis=(1, 2)))
        ensemble = sum(linear_forward(f, hd.w.value, hd.b.value)[0] for hd, f in zip(self.ensemble_heads, features))
        head = linear_forward(features[-1], self.last_head.w.value, self.last_head.b.value)[0]
        return {"layer_logits": layer_logits, "head": head, "ensemble": ensemble}

    def predict_all(self, x, batch_size=256):
        """Class ids from every predictor in one pass, in chunks of ``batch_size``.

        Returns a dict of arrays on the model's device: ``layers`` (L, B) (per-layer goodness),
        ``head`` (B,), ``ensemble`` (B,).
        """
        xp = self.xp
        parts = {"layers": [], "head": [], "ensemble": []}
        for start in range(0, x.shape[0], batch_size):
            out = self.logits_all(x[start:start + batch_size])
            parts["layers"].append(xp.stack([xp.argmax(a, axis=1) for a in out["layer_logits"]]))
            parts["head"].append(xp.argmax(out["head"], axis=1))
            parts["ensemble"].append(xp.argmax(out["ensemble"], axis=1))
        return {
            "layers": xp.concatenate(parts["layers"], axis=1),
            "head": xp.concatenate(parts["head"]),
            "ensemble": xp.concatenate(parts["ensemble"]),
        }

    def predict(self, x, strategy="goodness", layer=-1, batch_size=256):
        """Class ids (B,) on the model's device.

        strategy: ``'goodness'`` — argmax of one layer's fixed-projection logits (``layer``,
        last by default; no trained parameters beyond the convs); ``'head'`` — the single linear
        head on the last layer; ``'ensemble'`` — the summed linear heads of layers 2..L.
        """
        if strategy not in STRATEGIES:
            raise UserError(f"unknown prediction strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
        if strategy == "goodness" and not -len(self.layers) <= layer < len(self.layers):
            raise UserError(f"layer {layer} does not exist: the network has {len(self.layers)} layers")
        out = self.predict_all(x, batch_size)
        return out["layers"][layer] if strategy == "goodness" else out[strategy]

    # ------------------------------------------------------------------------------- state
    def _named_parameters(self):
        for i, layer in enumerate(self.layers):
            yield f"layers.{i}.w", layer.w
            yield f"layers.{i}.b", layer.b
        for i, head in enumerate(self.ensemble_heads):
            yield f"ensemble_heads.{i}.w", head.w
            yield f"ensemble_heads.{i}.b", head.b
        yield "last_head.w", self.last_head.w
        yield "last_head.b", self.last_head.b

    def state_dict(self):
        """Every array of the model and its optimiser, as host NumPy arrays keyed by name."""
        state = {}
        for name, p in self._named_parameters():
            state[name] = backend.to_host(p.value)
            state[name + ".adam_m"] = backend.to_host(p.state["m"])
            state[name + ".adam_v"] = backend.to_host(p.state["v"])
            state[name + ".adam_t"] = np.asarray(p.state["t"], dtype=np.int64)
        for i, layer in enumerate(self.layers):
            state[f"layers.{i}.R"] = backend.to_host(layer.R)
            state[f"layers.{i}.r"] = backend.to_host(layer.r)
        return state

    def load_state_dict(self, state):
        """Load arrays written by :meth:`state_dict`; shapes must match this model exactly."""
        def take(name, like):
            if name not in state:
                raise UserError(f"checkpoint has no array {name!r}: it was written by a different model")
            value = np.asarray(state[name])
            if value.shape != tuple(like.shape):
                raise UserError(
                    f"checkpoint array {name!r} has shape {value.shape}, this model needs {tuple(like.shape)}"
                )
            return backend.to_device(value.astype(like.dtype), self.xp)

        for name, p in self._named_parameters():
            p.value = take(name, p.value)
            p.state["m"] = take(name + ".adam_m", p.state["m"])
            p.state["v"] = take(name + ".adam_v", p.state["v"])
            p.state["t"] = int(state[name + ".adam_t"]) if name + ".adam_t" in state else 0
        for i, layer in enumerate(self.layers):
            layer.R = take(f"layers.{i}.R", layer.R)
            layer.r = take(f"layers.{i}.r", layer.r)

    def parameter_counts(self):
        """Trained parameters behind each predictor (the fixed projections are not trained)."""
        conv = sum(int(np.prod(l.w.value.shape)) + l.channels for l in self.layers)
        heads = sum(int(np.prod(h.w.value.shape)) + self.num_classes for h in self.ensemble_heads)
        last = int(np.prod(self.last_head.w.value.shape)) + self.num_classes
        return {"conv": conv, "goodness": conv, "head": conv + last, "ensemble": conv + heads}


def build_model(name, in_channels, num_classes, width=1.0, seed=0, gpu=False, **options):
    """Build ``'vgg8'`` or ``'vgg11'`` with every width scaled by ``width`` (each layer's P kept).

    Options (defaults are the public recipe): dtype, dropout (0.1), lr (2e-4), weight_decay
    (1e-3), betas, eps, goodness ('mean' or 'sum'), alpha (1.0; P = (C_last / C)^alpha), between
    ('avgpool-rms', or 'rmspool-layernorm' for the paper's description; see BETWEEN_LAYERS).
    """
    key = str(name).lower()
    if key not in VGG_LAYOUTS:
        raise UserError(f"unknown model {name!r}; choose one of {', '.join(sorted(VGG_LAYOUTS))}")
    for label, value in (("in_channels", in_channels), ("num_classes", num_classes)):
        if int(value) != value or value < 1:
            raise UserError(f"{label} must be a positive integer, got {value}")
    if num_classes < 2:
        raise UserError(f"num_classes must be at least 2, got {num_classes}")
    if not (isinstance(width, (int, float)) and math.isfinite(width) and width > 0):
        raise UserError(f"width must be a positive number, got {width}")
    xp = backend.array_module(gpu)
    return ASGENetwork(VGG_LAYOUTS[key], int(in_channels), int(num_classes), xp=xp, seed=seed,
                       width=float(width), name=key, **options)
