"""The real MNIST and FashionMNIST files: shapes, dtypes, class counts, checksum handling."""

import shutil

import numpy as np
import pytest

from asge_np.data import load_dataset
from asge_np.data.datasets import FASHION_FILES, MNIST_FILES
from asge_np.errors import UserError

try:
    from data_files import gzip_bytes, isolated, real_data_dir  # noqa: F401 (fixture)
except ImportError:  # tests/ became a package
    from tests.data_files import gzip_bytes, isolated, real_data_dir  # noqa: F401

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_real_files(isolated):
    d = load_dataset("mnist", data_dir=real_data_dir("mnist"), download=False)
    assert d.train_images.shape == (60000, 1, 28, 28) and d.train_images.dtype == np.uint8
    assert d.test_images.shape == (10000, 1, 28, 28) and d.test_images.dtype == np.uint8
    assert d.train_labels.dtype == np.int64 and d.test_labels.dtype == np.int64
    assert np.bincount(d.train_labels).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(d.test_labels).tolist() == MNIST_TEST_COUNTS
    assert d.class_names == [str(i) for i in range(10)]
    # the well-known MNIST normalisation constants: pixel mean 0.1307, std 0.3081
    x = d.train_images / 255.0
    assert abs(x.mean() - 0.1307) < 1e-4 and abs(x.std() - 0.3081) < 1e-4


def test_fashionmnist_real_files(isolated):
    d = load_dataset("fashion-mnist", data_dir=real_data_dir("fashion-mnist"), download=False)
    assert d.name == "fashionmnist"
    assert d.train_images.shape == (60000, 1, 28, 28) and d.train_images.dtype == np.uint8
    assert d.test_images.shape == (10000, 1, 28, 28)
    assert np.bincount(d.train_labels).tolist() == [6000] * 10
    assert np.bincount(d.test_labels).tolist() == [1000] * 10
    assert d.class_names[0] == "T-shirt/top" and d.class_names[9] == "Ankle boot"


def test_found_through_env_var_and_subfolder(isolated, monkeypatch):
    """ASGE_DATA pointing at the parent folder finds <dir>/mnist/*.gz."""
    monkeypatch.setenv("ASGE_DATA", str(real_data_dir("mnist").parent))
    d = load_dataset("MNIST", download=False)
    assert len(d.train_labels) == 60000


def _copy_labels(src_dir, dst_dir, files):
    """Copy the two small label files, so tests can tamper with the image-free part cheaply."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    for part in ("train_labels", "test_labels"):
        shutil.copy(src_dir / files[part].name, dst_dir / files[part].name)


def test_rewritten_gzip_header_is_accepted(isolated):
    """Debian re-gzips FashionMNIST: a different .gz md5, the same content, must pass."""
    import gzip

    from asge_np.data.sources import check_file, md5_file

    src = real_data_dir("fashion-mnist")
    spec = FASHION_FILES["train_labels"]
    raw = gzip.decompress((src / spec.name).read_bytes())
    path = isolated / spec.name
    path.write_bytes(gzip_bytes(raw, mtime=1234567890, name="train-labels-idx1-ubyte"))
    assert md5_file(path) != spec.md5  # really a different file
    assert check_file(path, spec) == spec.raw_md5
    # an uncompressed copy is accepted too
    plain = isolated / "plain" / "train-labels-idx1-ubyte"
    plain.parent.mkdir()
    plain.write_bytes(raw)
    assert check_file(plain, spec) == spec.raw_md5


def test_corrupted_file_is_refused(isolated):
    import gzip

    from asge_np.data.sources import check_file

    src = real_data_dir("mnist")
    spec = MNIST_FILES["train_labels"]
    raw = bytearray(gzip.decompress((src / spec.name).read_bytes()))
    raw[1000] ^= 0xFF  # one flipped label byte
    path = isolated / spec.name
    path.write_bytes(gzip_bytes(bytes(raw)))
    with pytest.raises(UserError) as e:
        check_file(path, spec)
    msg = str(e.value)
    assert "checksum mismatch" in msg and str(path) in msg and spec.raw_md5 in msg and "\n" not in msg


def test_corrupted_file_in_data_dir_stops_load(isolated):
    """A damaged file found in the search path is an error, never silently used or skipped."""
    src = real_data_dir("mnist")
    d = isolated / "data"
    _copy_labels(src, d, MNIST_FILES)
    for part in ("train_images", "test_images"):
        shutil.copy(src / MNIST_FILES[part].name, d / MNIST_FILES[part].name)
    p = d / MNIST_FILES["test_labels"].name
    p.write_bytes(p.read_bytes()[:-100])  # truncated .gz
    with pytest.raises(UserError, match="truncated"):
        load_dataset("mnist", data_dir=d, download=False)


def test_verified_file_is_remembered(isolated, monkeypatch):
    """The second load skips hashing (memo keyed on path, size, mtime); a changed file does not."""
    from asge_np.data import sources

    src = real_data_dir("mnist")
    spec = MNIST_FILES["train_labels"]
    path = isolated / spec.name
    shutil.copy(src / spec.name, path)
    sources.verify_file(path, spec)
    calls = []
    real = sources.check_file
    monkeypatch.setattr(sources, "check_file", lambda *a: calls.append(a) or real(*a))
    sources.verify_file(path, spec)
    assert calls == []
    path.write_bytes(path.read_bytes()[:-10])  # changes size and mtime
    with pytest.raises(UserError):
        sources.verify_file(path, spec)
    assert len(calls) == 1


def test_debian_package_folder_is_found_and_accepted(tmp_path, monkeypatch):
    """The Debian package's re-gzipped files, found through the system folders, no data_dir."""
    import os

    from asge_np.data import sources

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("ASGE_DATA", raising=False)
    monkeypatch.setattr(sources, "MIRRORS", {k: [] for k in sources.MIRRORS})
    folder = "/usr/share/datasets/fashion-mnist"
    if not os.path.isdir(folder):
        message = f"{folder} is missing: apt-get install dataset-fashion-mnist"
        if os.environ.get("ASGE_REQUIRE_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    assert any("/usr/share/datasets/fashion-mnist" in str(v) for v in sources.SYSTEM_DIRS.values())
    d = load_dataset("fashionmnist", download=False)
    assert np.bincount(d.test_labels).tolist() == [1000] * 10
    assert d.train_images.shape == (60000, 1, 28, 28)
