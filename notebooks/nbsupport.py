"""Small helpers shared by the notebooks: make ``asge_np`` importable from a checkout, find the
data the way the package does, cut small subsets, and run a few training epochs.

Nothing here is part of the method; every piece of ASGE comes from the ``asge_np`` package.
"""

import os
import sys
import time

# One BLAS thread unless the reader asks for more.  The notebooks' matrices are small, and on a
# shared 2-core machine a multi-threaded OpenBLAS competing with other processes can spin-wait
# its way to 100x slower matrix products (seen here: a (9 x 51200) @ (51200 x 32) product taking
# 0.7 s instead of 5 ms).  Must run before NumPy is imported, so import nbsupport first.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
if "numpy" in sys.modules:  # imported too late for the variables: limit the loaded pool instead
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(int(os.environ["OPENBLAS_NUM_THREADS"]))
    except ImportError:
        pass

NOTEBOOK_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(NOTEBOOK_DIR)
if REPO not in sys.path:  # a checkout without ``pip install -e .`` still works
    sys.path.insert(0, REPO)

import numpy as np  # noqa: E402

from asge_np.data import fit_images, iterate_batches, load_dataset, make_synthetic, to_float  # noqa: E402
from asge_np.errors import UserError  # noqa: E402


def data_dir():
    """Where the notebooks look first: the package's own search order does the rest.

    ``asge_np.data.load_dataset`` searches ``data_dir``, then ``$ASGE_DATA``, then its cache,
    then ``/usr/share/datasets/<name>`` (Debian's ``dataset-fashion-mnist``).  The notebooks add
    one place in front: ``../shared/data`` next to the repository, where a shared checkout keeps
    the IDX files.  With ``ASGE_DATA`` set, that wins and this returns None.
    """
    if os.environ.get("ASGE_DATA"):
        return None
    shared = os.path.abspath(os.path.join(REPO, "..", "shared", "data"))
    return shared if os.path.isdir(shared) else None


class Subset:
    """A small, preprocessed slice of a dataset: float32 (n, C, 32, 32) in [0, 1], int labels."""

    def __init__(self, name, x_train, y_train, x_test, y_test, class_names, source):
        self.name, self.source, self.class_names = name, source, list(class_names)
        self.x_train, self.y_train, self.x_test, self.y_test = x_train, y_train, x_test, y_test

    @property
    def num_classes(self):
        return len(self.class_names)

    def __repr__(self):
        return (f"{self.name}: train {self.x_train.shape}, test {self.x_test.shape}, "
                f"{self.num_classes} classes, from {self.source}")


def load_dataset_or_none(name):
    """The full uint8 dataset, or None (with a note) when its files are not on this machine.

    Never downloads: a notebook must run offline and in bounded time.
    """
    try:
        return load_dataset(name, data_dir=data_dir(), download=False, progress=False)
    except UserError as e:
        print(f"note: {name} is not available here ({str(e)[:120]}...)")
        return None


def load_subset(name, n_train, n_test, seed=0, size=32):
    """A seeded random subset of ``name`` resized to ``size``×``size`` (Pillow-exact bilinear, as
    the paper) and scaled to [0, 1].  Falls back to the synthetic dataset when the files are
    missing, and says so."""
    rng = np.random.default_rng(seed)
    full = load_dataset_or_none(name)
    if full is None:
        full = make_synthetic(n=n_train + n_test, image_size=size, seed=seed,
                              test_fraction=n_test / (n_train + n_test))
        name, source = "synthetic", "asge_np.data.make_synthetic (real files missing)"
    else:
        source = "IDX files"
    train = rng.choice(len(full.train_labels), min(n_train, len(full.train_labels)), replace=False)
    test = rng.choice(len(full.test_labels), min(n_test, len(full.test_labels)), replace=False)

    def prepare(images):
        return to_float(fit_images(images, size)) if images.shape[-1] != size else to_float(images)

    return Subset(name, prepare(full.train_images[train]), full.train_labels[train],
                  prepare(full.test_images[test]), full.test_labels[test], full.class_names, source)


def evaluate(model, x, y):
    """Accuracy of every predictor on (x, y): per-layer goodness (L,), head, ensemble."""
    from asge_np.backend import to_host

    out = model.predict_all(x)
    y = np.asarray(y)
    return {"layers": (to_host(out["layers"]) == y).mean(axis=1),
            "head": float((to_host(out["head"]) == y).mean()),
            "ensemble": float((to_host(out["ensemble"]) == y).mean())}


def train(model, data, epochs, batch_size=50, base_lr=2e-3, seed=0, xp=np, verbose=True):
    """Train for ``epochs`` with the cosine schedule; test every predictor after each epoch.

    Returns a list of dicts (one per epoch): train layer accuracy (mean over batches), test
    accuracies, seconds.
    """
    from asge_np.backend import to_host
    from asge_np.optim import cosine_lr

    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(epochs):
        model.lr = cosine_lr(epoch, epochs, base_lr)
        start, train_acc, batches = time.perf_counter(), 0.0, 0
        for x, y in iterate_batches(data.x_train, data.y_train, batch_size, rng=rng, xp=xp):
            stats = model.train_step(x, y)
            train_acc = train_acc + stats["layer_acc"]  # stays on the device until the end
            batches += 1
        train_acc = to_host(train_acc) / batches
        seconds = time.perf_counter() - start
        test = evaluate(model, xp.asarray(data.x_test), data.y_test)
        history.append({"epoch": epoch + 1, "train_layers": train_acc, "test": test, "seconds": seconds})
        if verbose:
            layers = " ".join(f"{a:.2f}" for a in test["layers"])
            print(f"epoch {epoch + 1}: {seconds:5.1f}s  lr {model.lr:.1e}  test per layer [{layers}]  "
                  f"head {test['head']:.3f}  ensemble {test['ensemble']:.3f}")
    return history
