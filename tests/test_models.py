import numpy as np
import pytest

import asge_np
from asge_np.errors import UserError
from asge_np.layers import asge_local_loss
from asge_np.models import BETWEEN_LAYERS, VGG_LAYOUTS
from asge_np.ops import avgpool2x2_forward, conv2d_forward, layer_norm_forward, rms_norm_forward, rmspool2x2_forward
from asge_np.optim import adamw_init, adamw_update


def quadrant_task(n, seed, size=16):
    """4 classes: a bright square in one quadrant of a noisy image; the class is the quadrant."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    x = rng.normal(0, 0.3, (n, 1, size, size)).astype(np.float32)
    half = size // 2
    for i, k in enumerate(labels):
        r0, c0 = (k // 2) * half, (k % 2) * half
        x[i, 0, r0 + 2:r0 + half - 2, c0 + 2:c0 + half - 2] += 1.0
    return x, labels


def test_layouts_and_widths():
    m8 = asge_np.build_model("vgg8", 3, 10, width=0.25)
    assert [l.channels for l in m8.layers] == [32, 64, 64, 128, 128, 128, 128]
    assert [l.grid for l in m8.layers] == [4, 2, 2, 1, 1, 1, 1]
    assert [l.pool for l in m8.layers] == [False, True, False, True, True, True, False]
    m11 = asge_np.build_model("vgg11", 1, 100, width=0.125)
    assert len(m11.layers) == 10 and m11.layers[-1].channels == 64
    assert [l.grid for l in m11.layers] == [4, 2, 2] + [1] * 7
    assert m11.layers[0].R.shape == (16 * 16, 100) and m11.layers[3].R.shape == (64, 100)
    assert len(m11.ensemble_heads) == 9


@pytest.mark.parametrize("between", BETWEEN_LAYERS)
def test_train_step_is_layer_local_and_uses_pre_update_activations(between):
    """Re-do one training step from the public pieces, layer by layer, and compare."""
    model = asge_np.build_model("vgg8", 1, 4, width=0.125, seed=3, dtype=np.float64, dropout=0.0, lr=1e-2,
                                between=between)
    x, y = quadrant_task(8, seed=0)
    x = x.astype(np.float64)
    before = [(l.w.value.copy(), l.b.value.copy()) for l in model.layers]
    out = model.train_step(x, y)

    h, _ = rms_norm_forward(x)
    for layer, (w, b), loss in zip(model.layers, before, out["layer_loss"]):
        expected_loss, dw, db = asge_local_loss(h, w, b, layer.R, layer.r, y, layer.grid)
        assert np.isclose(loss, expected_loss, rtol=1e-10)
        for old, grad, new in ((w, dw, layer.w.value), (b, db, layer.b.value)):
            expected = old.copy()
            adamw_update(expected, grad, adamw_init(expected), lr=1e-2, weight_decay=1e-3)
            assert np.allclose(new, expected, rtol=1e-10, atol=1e-12)
        z, _ = conv2d_forward(h, w, b, stride=1, pad=1)  # the *old* weights feed the next layer
        a = np.maximum(z, 0)
        if between == "avgpool-rms":
            if layer.pool:
                a, _ = avgpool2x2_forward(a)
            h, _ = rms_norm_forward(a)
        else:  # the paper's description: RMS pooling, LayerNorm over the channels (axis 1 here)
            if layer.pool:
                a, _ = rmspool2x2_forward(a)
            h, _ = layer_norm_forward(a, axis=1)


@pytest.mark.parametrize("between", BETWEEN_LAYERS)
def test_small_network_learns_a_synthetic_task(between):
    model = asge_np.build_model("vgg8", 1, 4, width=0.125, seed=0, lr=5e-3, between=between)
    x, y = quadrant_task(768, seed=1)
    first, last = None, None
    for epoch in range(6):
        for start in range(0, 768, 64):
            out = model.train_step(x[start:start + 64], y[start:start + 64])
            first = out if first is None else first
            last = out
    assert np.all(last["layer_loss"] < 0.5 * first["layer_loss"])
    assert last["ensemble_loss"] < 0.5 * first["ensemble_loss"] and last["head_loss"] < 0.5 * first["head_loss"]
    x_test, y_test = quadrant_task(256, seed=2)
    predictions = model.predict_all(x_test)
    for strategy in ("head", "ensemble"):
        assert (predictions[strategy] == y_test).mean() > 0.9, strategy  # chance is 0.25
    assert all((p == y_test).mean() > 0.9 for p in predictions["layers"])
    assert np.array_equal(model.predict(x_test, "goodness", layer=0), predictions["layers"][0])
    assert np.array_equal(model.predict(x_test, "ensemble"), predictions["ensemble"])


def test_same_seed_same_run_and_state_dict_round_trip():
    x, y = quadrant_task(32, seed=4)
    a = asge_np.build_model("vgg8", 1, 4, width=0.125, seed=7)
    b = asge_np.build_model("vgg8", 1, 4, width=0.125, seed=7)
    for _ in range(2):
        out_a, out_b = a.train_step(x, y), b.train_step(x, y)
    assert np.array_equal(out_a["layer_loss"], out_b["layer_loss"])
    c = asge_np.build_model("vgg8", 1, 4, width=0.125, seed=99)
    c.load_state_dict(a.state_dict())
    c.rng.bit_generator.state = a.rng.bit_generator.state
    assert np.array_equal(a.train_step(x, y)["layer_loss"], c.train_step(x, y)["layer_loss"])
    other = asge_np.build_model("vgg8", 1, 4, width=0.25)
    with pytest.raises(UserError, match="shape"):
        other.load_state_dict(a.state_dict())


def test_parameter_counts():
    m = asge_np.build_model("vgg8", 1, 10, width=0.125)
    counts = m.parameter_counts()
    conv = 16 * 9 + 16 + 32 * 16 * 9 + 32 + 32 * 32 * 9 + 32 + 64 * 32 * 9 + 64 + 3 * (64 * 64 * 9 + 64)
    assert counts["goodness"] == conv
    assert counts["head"] == conv + 64 * 10 + 10
    assert counts["ensemble"] == conv + (32 + 32 + 64 * 4) * 10 + 6 * 10


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "resnet"}, "unknown model 'resnet'; choose one of vgg11, vgg8"),
        ({"width": 0}, "width"),
        ({"width": float("nan")}, "width"),
        ({"num_classes": 1}, "num_classes"),
        ({"in_channels": 0}, "in_channels"),
        ({"between": "maxpool"}, "unknown between-layer transform 'maxpool'; choose one of avgpool-rms"),
        ({"goodness": "max"}, "unknown goodness reduction 'max'"),
        ({"alpha": -1.0}, "alpha"),
    ],
)
def test_bad_options_give_one_line_errors(kwargs, message):
    args = {"name": "vgg8", "in_channels": 1, "num_classes": 10, **kwargs}
    with pytest.raises(UserError, match=message) as info:
        asge_np.build_model(**args)
    assert "\n" not in str(info.value)


def test_bad_batches_and_strategies():
    m = asge_np.build_model("vgg8", 1, 4, width=0.125)
    with pytest.raises(UserError, match=r"\(B, 1, H, W\)"):
        m.train_step(np.zeros((2, 3, 16, 16), np.float32), np.zeros(2, int))
    with pytest.raises(UserError, match="labels"):
        m.train_step(np.zeros((2, 1, 16, 16), np.float32), np.zeros(3, int))
    with pytest.raises(UserError, match="strategy"):
        m.predict(np.zeros((2, 1, 16, 16), np.float32), strategy="vote")


def test_vgg_layouts_match_method_page():
    assert [c for c, _ in VGG_LAYOUTS["vgg8"]] == [128, 256, 256, 512, 512, 512, 512]
    assert sum(p for _, p in VGG_LAYOUTS["vgg8"]) == 4 and sum(p for _, p in VGG_LAYOUTS["vgg11"]) == 4


def test_chunks_and_threads_give_the_same_step():
    """Cutting the batch into chunks (run on two threads) changes no number beyond round-off."""
    x, y = quadrant_task(24, seed=5)
    whole = asge_np.build_model("vgg8", 1, 4, width=0.125, seed=1, dtype=np.float64, chunk_bytes=None, threads=1)
    chunked = asge_np.build_model("vgg8", 1, 4, width=0.125, seed=1, dtype=np.float64, chunk_bytes=20000, threads=2)
    assert chunked._chunk_size(np.zeros((24, 16, 16, 16)), chunked.layers[1]) < 24
    for _ in range(2):
        a, b = whole.train_step(x, y), chunked.train_step(x, y)
    for key in a:
        assert np.allclose(a[key], b[key], rtol=1e-10, atol=1e-12), key
    for la, lb in zip(whole.layers, chunked.layers):
        assert np.allclose(la.w.value, lb.w.value, rtol=1e-10, atol=1e-12)
    pa, pb = whole.predict_all(x), chunked.predict_all(x)
    assert all(np.array_equal(pa[k], pb[k]) for k in pa)


def test_thread_count_never_changes_a_number():
    """The same seed gives bit-identical float32 steps on 1, 2 or 3 threads: the chunks, and so
    the order dW is summed in, do not depend on how many cores a machine has."""
    x, y = quadrant_task(40, seed=6)
    runs = []
    for threads in (1, 2, 3):
        model = asge_np.build_model("vgg8", 1, 4, width=0.125, seed=2, chunk_bytes=30000, threads=threads)
        assert model._chunk_size(np.zeros((40, 16, 16, 16), np.float32), model.layers[1]) < 40 // 3
        for _ in range(2):
            out = model.train_step(x, y)
        runs.append((out, model.state_dict()))
    (out_a, state_a), rest = runs[0], runs[1:]
    for out_b, state_b in rest:
        assert all(np.array_equal(out_a[k], out_b[k]) for k in out_a)
        assert all(np.array_equal(state_a[k], state_b[k]) for k in state_a)
