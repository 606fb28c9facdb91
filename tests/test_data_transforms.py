"""Preprocessing, augmentation, batching and the synthetic set, against per-image references."""

import colorsys

import numpy as np
import pytest

from asge_np.data import (ColorJitter, HorizontalFlip, RandomCrop, RandomGrayscale,
                          augmentation_for, iterate_batches, make_synthetic, num_batches,
                          pad_images, resize_images, split_indices, to_float, train_val_split)
from asge_np.data.augment import grayscale, hsv_to_rgb, rgb_to_hsv


# --- resize ------------------------------------------------------------------------------------


def naive_bilinear(img, out_h, out_w):
    """Bilinear, half-pixel centres, align_corners=False, edge-clamped: one pixel at a time."""
    in_h, in_w = img.shape
    out = np.zeros((out_h, out_w))
    for oy in range(out_h):
        sy = max((oy + 0.5) * in_h / out_h - 0.5, 0.0)
        y0 = min(int(np.floor(sy)), in_h - 1)
        y1, fy = min(y0 + 1, in_h - 1), sy - y0
        for ox in range(out_w):
            sx = max((ox + 0.5) * in_w / out_w - 0.5, 0.0)
            x0 = min(int(np.floor(sx)), in_w - 1)
            x1, fx = min(x0 + 1, in_w - 1), sx - x0
            top = img[y0, x0] * (1 - fx) + img[y0, x1] * fx
            bottom = img[y1, x0] * (1 - fx) + img[y1, x1] * fx
            out[oy, ox] = top * (1 - fy) + bottom * fy
    return out


def test_float_resize_matches_naive_bilinear():
    x = np.random.default_rng(0).random((3, 2, 28, 28)).astype(np.float32)
    got = resize_images(x, 32, mode="float")
    assert got.shape == (3, 2, 32, 32) and got.dtype == np.float32
    for b in range(3):
        for c in range(2):
            np.testing.assert_allclose(got[b, c], naive_bilinear(x[b, c].astype(np.float64), 32, 32),
                                       atol=1e-5)


def test_pil_resize_is_float_resize_rounded_per_pass():
    x = np.random.default_rng(1).integers(0, 256, (4, 1, 28, 28), dtype=np.uint8)
    pil = resize_images(x, 32)
    assert pil.dtype == np.uint8 and pil.shape == (4, 1, 32, 32)
    ref = resize_images(x, 32, mode="float")
    assert np.abs(pil.astype(np.float32) - ref).max() <= 1.0  # two roundings, each <= 0.5


@pytest.mark.parametrize("shape", [(28, 28), (28, 17), (20, 64)])
def test_pil_resize_matches_pillow(shape):
    """The paper resizes PIL images: we must be bit-identical to Pillow's bilinear resize."""
    Image = pytest.importorskip("PIL.Image")
    x = np.random.default_rng(2).integers(0, 256, (8, 1) + shape, dtype=np.uint8)
    ref = np.stack([np.asarray(Image.fromarray(im[0]).resize((32, 32), Image.BILINEAR)) for im in x])
    np.testing.assert_array_equal(resize_images(x, 32)[:, 0], ref)


def test_pad_and_to_float():
    x = np.random.default_rng(3).integers(0, 256, (2, 1, 28, 28), dtype=np.uint8)
    p = pad_images(x, 32)
    assert p.shape == (2, 1, 32, 32) and p.dtype == np.uint8
    np.testing.assert_array_equal(p[:, :, 2:30, 2:30], x)
    assert p.sum() == x.sum()
    f = to_float(p)
    assert f.dtype == np.float32 and f.max() <= 1.0
    np.testing.assert_allclose(f * 255, p, atol=1e-4)


# --- split -------------------------------------------------------------------------------------


def test_split_sizes_and_determinism():
    tr, va = split_indices(60000, 10000, seed=42)
    assert len(tr) == 50000 and len(va) == 10000
    assert np.intersect1d(tr, va).size == 0 and np.union1d(tr, va).size == 60000
    tr2, va2 = split_indices(60000, 10000, seed=42)
    np.testing.assert_array_equal(va, va2)
    _, va3 = split_indices(60000, 10000, seed=43)
    assert not np.array_equal(va, va3)


def test_train_val_split_defaults():
    from asge_np.data import Dataset

    def fake(name, n, size):
        x = np.zeros((n, 1, size, size), np.uint8)
        x[:, 0, 0, 0], x[:, 0, 0, 1] = np.arange(n) % 256, np.arange(n) // 256  # index tag
        return Dataset(name, x, np.arange(n) % 10, x[:1], np.zeros(1, np.int64), list("0123456789"))

    (xt, yt), (xv, yv) = train_val_split(fake("cifar10", 50000, 2), seed=0)
    assert len(yt) == 45000 and len(yv) == 5000
    (xt, yt), (xv, yv) = train_val_split(fake("mnist", 60000, 2), seed=0)
    assert len(yt) == 50000 and len(yv) == 10000
    index = lambda x: x[:, 0, 0, 0].astype(int) + 256 * x[:, 0, 0, 1].astype(int)  # noqa: E731
    np.testing.assert_array_equal(index(xv) % 10, yv)  # images stay with their labels
    assert np.union1d(index(xt), index(xv)).size == 60000


# --- augmentation ------------------------------------------------------------------------------


def _images(n=6, c=3, h=5, w=5, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(np.float32)


def test_horizontal_flip():
    x = _images()
    aug = HorizontalFlip(0.5)
    params = aug.sample(len(x), np.random.default_rng(0))
    out = aug.apply(x, params)
    for i in range(len(x)):
        np.testing.assert_array_equal(out[i], x[i, :, :, ::-1] if params["flip"][i] else x[i])
    assert 0 < params["flip"].sum() < len(x) or len(x) < 3
    rate = HorizontalFlip(0.5).sample(20000, np.random.default_rng(1))["flip"].mean()
    assert abs(rate - 0.5) < 0.02


def test_random_crop_matches_pad_and_slice():
    x = _images(n=8, h=32, w=32)
    aug = RandomCrop(32, padding=4)
    params = aug.sample(len(x), np.random.default_rng(2), 32, 32)
    out = aug.apply(x, params)
    assert out.shape == x.shape
    for i in range(len(x)):
        padded = np.pad(x[i], ((0, 0), (4, 4), (4, 4)))
        t, l = params["top"][i], params["left"][i]
        np.testing.assert_array_equal(out[i], padded[:, t:t + 32, l:l + 32])
    draws = aug.sample(5000, np.random.default_rng(3), 32, 32)
    assert draws["top"].min() == 0 and draws["top"].max() == 8 and draws["left"].max() == 8


def _gray(img):
    return 0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2]


def _jitter_one(img, op, f):
    """Per-image reference of torchvision's definitions (hue through colorsys)."""
    img = img.astype(np.float64)
    if op == "brightness":
        return np.clip(img * f, 0, 1)
    if op == "contrast":
        return np.clip(f * img + (1 - f) * _gray(img).mean(), 0, 1)
    if op == "saturation":
        return np.clip(f * img + (1 - f) * _gray(img)[None], 0, 1)
    out = np.empty_like(img)
    for yy in range(img.shape[1]):
        for xx in range(img.shape[2]):
            h, s, v = colorsys.rgb_to_hsv(*img[:, yy, xx])
            out[:, yy, xx] = colorsys.hsv_to_rgb((h + f) % 1.0, s, v)
    return out


def test_color_jitter_matches_per_image_reference():
    x = _images(n=12)
    aug = ColorJitter(0.4, 0.4, 0.4, 0.1)
    params = aug.sample(len(x), np.random.default_rng(4))
    out = aug.apply(x, params)
    assert len({tuple(o) for o in params["order"]}) > 1  # orders really differ between images
    for i in range(len(x)):
        ref = x[i]
        for k in params["order"][i]:
            op = ColorJitter.OPS[k]
            ref = _jitter_one(ref, op, params[op][i])
        np.testing.assert_allclose(out[i], ref, atol=2e-5)


def test_color_jitter_ranges():
    p = ColorJitter(0.4, 0.4, 0.4, 0.1).sample(20000, np.random.default_rng(5))
    for op in ("brightness", "contrast", "saturation"):
        assert 0.6 <= p[op].min() < 0.61 and 1.39 < p[op].max() <= 1.4
    assert -0.1 <= p["hue"].min() < -0.099 and 0.099 < p["hue"].max() <= 0.1
    assert np.all(np.sort(p["order"], axis=1) == np.arange(4))


def test_hsv_round_trip_and_colorsys():
    x = _images(n=4, h=6, w=6, seed=7)
    x[0, :, 0, 0] = 0.5  # a grey pixel
    hsv = rgb_to_hsv(x)
    for yy, xx in [(0, 0), (1, 3), (5, 5)]:
        np.testing.assert_allclose(hsv[0, :, yy, xx], colorsys.rgb_to_hsv(*x[0, :, yy, xx]), atol=1e-6)
    np.testing.assert_allclose(hsv_to_rgb(hsv), x, atol=1e-6)


def test_random_grayscale():
    x = _images(n=10)
    aug = RandomGrayscale(0.5)
    params = aug.sample(len(x), np.random.default_rng(6))
    out = aug.apply(x, params)
    for i in range(len(x)):
        want = np.broadcast_to(_gray(x[i]), x[i].shape) if params["grey"][i] else x[i]
        np.testing.assert_allclose(out[i], want, atol=1e-6)
    # hand-computed luma of pure red, green, blue
    rgb = np.eye(3, dtype=np.float32).reshape(3, 3, 1, 1)
    np.testing.assert_allclose(grayscale(rgb).ravel(), [0.299, 0.587, 0.114], atol=1e-7)


def test_single_channel_jitter_changes_only_brightness_and_contrast():
    x = _images(n=3, c=1)
    np.testing.assert_array_equal(ColorJitter(0, 0, 0.4, 0.1).apply(
        x, ColorJitter(0, 0, 0.4, 0.1).sample(3, np.random.default_rng(0))), x)


def test_augmentation_presets():
    assert augmentation_for("mnist") is None
    assert [type(a) for a in augmentation_for("fashionmnist").augs] == [HorizontalFlip]
    assert [type(a) for a in augmentation_for("cifar100").augs] == [
        RandomCrop, HorizontalFlip, ColorJitter, RandomGrayscale]
    x = _images(n=16, h=32, w=32)
    a = augmentation_for("cifar10")(x, np.random.default_rng(0))
    b = augmentation_for("cifar10")(x, np.random.default_rng(0))
    np.testing.assert_array_equal(a, b)  # seeded: reproducible
    assert a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1


# --- batching ----------------------------------------------------------------------------------


def test_batches_cover_every_sample_once():
    n = 103
    images = np.zeros((n, 1, 28, 28), np.uint8)
    images[:, 0, 0, 0] = np.arange(n)  # tag each image with its index
    labels = np.arange(n) % 10
    seen = []
    batches = list(iterate_batches(images, labels, 16, rng=np.random.default_rng(0), fit="pad"))
    assert len(batches) == num_batches(n, 16) == 7
    for x, y in batches:
        assert x.dtype == np.float32 and x.shape[1:] == (1, 32, 32) and y.dtype == np.int64
        idx = np.rint(x[:, 0, 2, 2] * 255).astype(int)  # pad puts pixel (0,0) at (2,2)
        np.testing.assert_array_equal(y, labels[idx])
        seen += idx.tolist()
    assert sorted(seen) == list(range(n))
    assert seen != list(range(n))  # shuffled
    first = [int(np.rint(v * 255)) for v in batches[0][0][:, 0, 2, 2]]
    again = next(iterate_batches(images, labels, 16, rng=np.random.default_rng(0), fit="pad"))[0]
    assert first == [int(np.rint(v * 255)) for v in again[:, 0, 2, 2]]


def test_batches_drop_last_and_resize():
    images = np.random.default_rng(0).integers(0, 256, (10, 1, 28, 28), dtype=np.uint8)
    out = list(iterate_batches(images, np.arange(10), 4, drop_last=True))
    assert [len(y) for _, y in out] == [4, 4]
    np.testing.assert_allclose(out[0][0] * 255, resize_images(images[:4], 32).astype(np.float32), atol=1e-4)


def test_batches_with_fake_device_module():
    """Batches are built with the target module's own functions (what CuPy would get)."""
    calls = []

    class XP:
        float32 = np.float32

        def asarray(self, a):
            calls.append(type(a))
            return np.asarray(a)

    x, _ = next(iterate_batches(np.zeros((4, 1, 32, 32), np.uint8), np.arange(4), 4, xp=XP()))
    assert calls and x.shape == (4, 1, 32, 32)


# --- synthetic ---------------------------------------------------------------------------------


def test_synthetic_is_deterministic_and_learnable():
    d = make_synthetic(n=600, num_classes=5, channels=3, seed=3)
    assert d.train_images.shape == (480, 3, 32, 32) and d.train_images.dtype == np.uint8
    assert d.test_images.shape == (120, 3, 32, 32) and d.num_classes == 5
    np.testing.assert_array_equal(d.train_images, make_synthetic(n=600, num_classes=5, channels=3, seed=3).train_images)
    # a nearest-class-mean classifier must do far better than chance (0.2)
    xtr = d.train_images.reshape(len(d.train_images), -1) / 255.0
    xte = d.test_images.reshape(len(d.test_images), -1) / 255.0
    means = np.stack([xtr[d.train_labels == k].mean(0) for k in range(5)])
    pred = ((xte[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
    assert (pred == d.test_labels).mean() > 0.8
