"""Downloads against a loopback HTTP server, the search order, and one-line user errors."""

import os

import numpy as np
import pytest

from asge_np.data import datasets, load_dataset, sources
from asge_np.data.sources import FileSpec, _idx_spec
from asge_np.errors import UserError

from data_files import dead_url, gzip_bytes, http_server, idx_bytes, isolated, md5  # noqa: F401


@pytest.fixture
def fake_mnist(monkeypatch):
    """Small IDX files standing in for MNIST: {name: gz bytes}, with their md5s patched in."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (12, 28, 28)), "train_labels": np.arange(12) % 10,
        "test_images": rng.integers(0, 256, (5, 28, 28)), "test_labels": np.arange(5),
    }
    files, specs = {}, {}
    for part, arr in arrays.items():
        raw = idx_bytes(arr)
        stem = datasets.MNIST_FILES[part].alt_names[0]
        gz = gzip_bytes(raw)
        specs[part] = _idx_spec(stem, md5(gz), md5(raw), len(raw))
        files[stem + ".gz"] = gz
    monkeypatch.setattr(datasets, "MNIST_FILES", specs)
    return files, arrays


def _serve(server, prefix, files, corrupt=False):
    for name, body in files.items():
        server.files[f"/{prefix}/{name}"] = body[:-1] + bytes([body[-1] ^ 1]) if corrupt else body
    return f"{server.url}/{prefix}/"


def _leftovers(root):
    return sorted(p for p in (root / "xdg").rglob("*") if p.is_file() and p.name != "verified.json")


def test_download_from_second_mirror_when_first_is_dead(isolated, http_server, fake_mnist, monkeypatch):
    files, arrays = fake_mnist
    good = _serve(http_server, "good", files)
    monkeypatch.setitem(sources.MIRRORS, "mnist", [dead_url(), f"{http_server.url}/missing/", good])
    d = load_dataset("mnist", progress=False)
    np.testing.assert_array_equal(d.train_images[:, 0], arrays["train_images"])
    np.testing.assert_array_equal(d.test_labels, arrays["test_labels"])
    assert any(r.startswith("/missing/") for r in http_server.requests)  # the 404 was tried
    cached = isolated / "xdg" / "asge_np" / "mnist"
    assert sorted(p.name for p in cached.iterdir()) == sorted(files)
    # the next load is offline: nothing more is requested
    n = len(http_server.requests)
    load_dataset("mnist", download=False)
    assert len(http_server.requests) == n


def test_asge_mirrors_env_overrides(isolated, http_server, fake_mnist, monkeypatch):
    files, _ = fake_mnist
    monkeypatch.setenv("ASGE_MIRRORS", _serve(http_server, "env", files))
    assert load_dataset("mnist", progress=False).train_labels.shape == (12,)


def test_corrupt_download_is_refused_and_removed(isolated, http_server, fake_mnist, monkeypatch):
    files, _ = fake_mnist
    monkeypatch.setitem(sources.MIRRORS, "mnist", [_serve(http_server, "bad", files, corrupt=True)])
    with pytest.raises(UserError) as e:
        load_dataset("mnist", progress=False)
    msg = str(e.value)
    assert "checksum mismatch" in msg and "expected md5" in msg and "\n" not in msg
    assert _leftovers(isolated) == []


def test_corrupt_first_mirror_good_second(isolated, http_server, fake_mnist, monkeypatch):
    files, _ = fake_mnist
    bad = _serve(http_server, "bad", files, corrupt=True)
    monkeypatch.setitem(sources.MIRRORS, "mnist", [bad, _serve(http_server, "good", files)])
    assert load_dataset("mnist", progress=False).test_labels.shape == (5,)


def test_truncated_download_leaves_nothing(isolated, http_server, fake_mnist, monkeypatch):
    files, _ = fake_mnist
    monkeypatch.setitem(sources.MIRRORS, "mnist", [_serve(http_server, "trunc", files)])
    with pytest.raises(UserError) as e:
        load_dataset("mnist", progress=False)
    assert "truncated download" in str(e.value) and "\n" not in str(e.value)
    assert _leftovers(isolated) == []


def test_download_file_progress_bar_and_atomic_rename(isolated, http_server, monkeypatch):
    body = os.urandom(300_000)
    spec = FileSpec("blob.bin", md5(body))
    http_server.files["/m/blob.bin"] = body
    monkeypatch.setenv("ASGE_MIRRORS", f"{http_server.url}/m/")
    path = sources.download_file(spec, "mnist", str(isolated / "dl"), progress=True)
    assert open(path, "rb").read() == body
    assert os.listdir(isolated / "dl") == ["blob.bin"]  # no .part file left


def test_no_files_no_network_error(isolated, monkeypatch):
    monkeypatch.setitem(sources.MIRRORS, "fashionmnist", [dead_url()])
    with pytest.raises(UserError) as e:
        load_dataset("fashionmnist", progress=False)
    msg = str(e.value)
    assert "\n" not in msg
    for hint in ("--data-dir", "ASGE_DATA", "dataset-fashion-mnist", "connected machine"):
        assert hint in msg


def test_download_disabled_error(isolated):
    with pytest.raises(UserError) as e:
        load_dataset("mnist", download=False)
    assert "--data-dir" in str(e.value) and "dataset-fashion-mnist" not in str(e.value)


def test_unknown_dataset_lists_known_names():
    with pytest.raises(UserError) as e:
        load_dataset("imagenet")
    msg = str(e.value)
    assert "\n" not in msg and "imagenet" in msg
    for name in ("mnist", "fashionmnist", "cifar10", "cifar100"):
        assert name in msg


def test_search_order(isolated, monkeypatch):
    """data_dir, then ASGE_DATA, then the cache, then system folders."""
    monkeypatch.setenv("ASGE_DATA", os.pathsep.join(["/env/a", "/env/b"]))
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    dirs = sources.search_dirs("/explicit", ["/usr/share/datasets/x"])
    assert dirs == ["/explicit", "/env/a", "/env/b", "/xdg/asge_np", "/usr/share/datasets/x"]


def test_first_copy_in_search_order_wins(isolated, fake_mnist, monkeypatch):
    """A good copy in data_dir is used even when the cache holds another one."""
    files, arrays = fake_mnist
    explicit = isolated / "explicit" / "mnist"
    explicit.mkdir(parents=True)
    for name, body in files.items():
        (explicit / name).write_bytes(body)
    spec = datasets.MNIST_FILES["train_labels"]
    found = sources.find_file(spec, sources.search_dirs(isolated / "explicit"), ("mnist",))
    assert found == str(explicit / spec.name)
    d = load_dataset("mnist", data_dir=isolated / "explicit", download=False)
    np.testing.assert_array_equal(d.train_labels, arrays["train_labels"])


def test_read_only_data_dir_is_never_written(isolated, fake_mnist):
    files, _ = fake_mnist
    ro = isolated / "ro"
    ro.mkdir()
    for name, body in files.items():
        (ro / name).write_bytes(body)
    os.chmod(ro, 0o555)
    try:
        load_dataset("mnist", data_dir=ro, download=False)
        assert sorted(os.listdir(ro)) == sorted(files)
    finally:
        os.chmod(ro, 0o755)


def test_uncompressed_truncated_file_error(isolated, fake_mnist):
    files, _ = fake_mnist
    import gzip

    d = isolated / "plain"
    d.mkdir()
    for name, body in files.items():
        (d / name[:-3]).write_bytes(gzip.decompress(body))
    p = d / "t10k-labels-idx1-ubyte"
    p.write_bytes(p.read_bytes()[:-2])
    with pytest.raises(UserError) as e:
        load_dataset("mnist", data_dir=d, download=False)
    assert "truncated" in str(e.value) and str(p) in str(e.value)


def test_wrong_idx_magic_error():
    from asge_np.data.idx import parse_idx

    labels = idx_bytes(np.arange(5))
    with pytest.raises(UserError) as e:
        parse_idx(labels, ndim=3, source="train-images")  # a label file where images belong
    assert "wrong IDX magic" in str(e.value) and "train-images" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(UserError, match="wrong IDX magic"):
        parse_idx(b"\x1f\x8b\x08\x00" + labels[4:], ndim=1)


def test_truncated_idx_error():
    from asge_np.data.idx import parse_idx

    data = idx_bytes(np.zeros((3, 4, 4)))
    assert parse_idx(data, 3).shape == (3, 4, 4)
    with pytest.raises(UserError) as e:
        parse_idx(data[:-5], 3, source="t10k-images")
    assert "truncated file t10k-images" in str(e.value) and "43 of 48" in str(e.value)
