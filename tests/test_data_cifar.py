"""CIFAR archives in the official format, written small by the tests; hostile files refused."""

import os
import pickle
import tarfile

import numpy as np
import pytest

from asge_np.data import cifar, datasets, load_dataset, sources
from asge_np.data.sources import FileSpec
from asge_np.errors import UserError

from data_files import cifar_batch, http_server, isolated, md5, py2_pickle, write_tar  # noqa: F401

CIFAR10_NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer",
                 b"dog", b"frog", b"horse", b"ship", b"truck"]


def _cifar10_members(rng, per_batch=4):
    """Official member names and formats, tiny batches; returns (members, train, test)."""
    members, train_x, train_y = {}, [], []
    for i in range(1, 6):
        x = rng.integers(0, 256, (per_batch, 3, 32, 32), dtype=np.uint8)
        y = rng.integers(0, 10, per_batch)
        members[f"cifar-10-batches-py/data_batch_{i}"] = cifar_batch(x, y)
        train_x.append(x)
        train_y.append(y)
    tx = rng.integers(0, 256, (3, 3, 32, 32), dtype=np.uint8)
    ty = np.array([9, 0, 4])
    members["cifar-10-batches-py/test_batch"] = cifar_batch(tx, ty, name=b"testing batch 1 of 1")
    members["cifar-10-batches-py/batches.meta"] = py2_pickle(
        {b"label_names": CIFAR10_NAMES, b"num_cases_per_batch": per_batch, b"num_vis": 3072})
    return members, (np.concatenate(train_x), np.concatenate(train_y)), (tx, ty)


def _patch_archive(monkeypatch, attr, path):
    monkeypatch.setattr(datasets, attr, FileSpec(os.path.basename(path), md5(open(path, "rb").read())))


def test_cifar10_archive(isolated, monkeypatch):
    members, (x, y), (tx, ty) = _cifar10_members(np.random.default_rng(0))
    root = isolated / "data" / "cifar10"
    root.mkdir(parents=True)
    path = write_tar(root / "cifar-10-python.tar.gz", members)
    _patch_archive(monkeypatch, "CIFAR10_ARCHIVE", path)
    d = load_dataset("CIFAR-10", data_dir=isolated / "data", download=False)
    assert d.train_images.shape == (20, 3, 32, 32) and d.train_images.dtype == np.uint8
    np.testing.assert_array_equal(d.train_images, x)
    np.testing.assert_array_equal(d.train_labels, y)
    np.testing.assert_array_equal(d.test_images, tx)
    assert d.test_labels.dtype == np.int64 and d.test_labels.tolist() == ty.tolist()
    assert d.class_names == [n.decode() for n in CIFAR10_NAMES]


def test_cifar10_channel_layout(isolated, monkeypatch):
    """data rows are 1024 red, 1024 green, 1024 blue values, row-major 32x32."""
    rng = np.random.default_rng(1)
    members, _, _ = _cifar10_members(rng)
    row = np.zeros((1, 3072), dtype=np.uint8)
    row[0, 1024 + 32 * 5 + 7] = 200  # green channel, y=5, x=7
    members["cifar-10-batches-py/test_batch"] = cifar_batch(row.reshape(1, 3, 32, 32), [3])
    path = write_tar(isolated / "cifar-10-python.tar.gz", members)
    _patch_archive(monkeypatch, "CIFAR10_ARCHIVE", path)
    d = load_dataset("cifar10", data_dir=isolated, download=False)
    assert d.test_images[0, 1, 5, 7] == 200 and d.test_images.sum() == 200


def test_cifar100_archive(isolated, monkeypatch):
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (6, 3, 32, 32), dtype=np.uint8)
    fine = [0, 99, 50, 3, 7, 99]
    names = [b"name%d" % i for i in range(100)]
    members = {
        "cifar-100-python/train": cifar_batch(x, fine, label_key=b"fine_labels"),
        "cifar-100-python/test": cifar_batch(x[:2], fine[:2], label_key=b"fine_labels"),
        "cifar-100-python/meta": py2_pickle({b"fine_label_names": names,
                                             b"coarse_label_names": [b"c%d" % i for i in range(20)]}),
    }
    path = write_tar(isolated / "cifar-100-python.tar.gz", members)
    _patch_archive(monkeypatch, "CIFAR100_ARCHIVE", path)
    d = load_dataset("cifar100", data_dir=isolated, download=False)
    assert d.train_labels.tolist() == fine and len(d.class_names) == 100 and d.class_names[99] == "name99"
    np.testing.assert_array_equal(d.train_images, x)


def test_cifar10_unpacked_folder(isolated, monkeypatch):
    """An extracted cifar-10-batches-py/ (what torchvision leaves) is found and md5-checked."""
    members, (x, _), _ = _cifar10_members(np.random.default_rng(3))
    folder = isolated / "cifar-10-batches-py"
    folder.mkdir()
    sums = {}
    for name, data in members.items():
        (isolated / name).write_bytes(data)
        sums[os.path.basename(name)] = md5(data)
    monkeypatch.setattr(datasets, "CIFAR10_MEMBERS", sums)
    d = load_dataset("cifar10", data_dir=isolated, download=False)
    np.testing.assert_array_equal(d.train_images, x)
    sums["test_batch"] = "0" * 32
    with pytest.raises(UserError, match="checksum mismatch"):
        load_dataset("cifar10", data_dir=isolated, download=False)


def test_cifar_archive_download(isolated, monkeypatch, http_server):
    members, (x, _), _ = _cifar10_members(np.random.default_rng(4))
    path = write_tar(isolated / "src.tar.gz", members)
    http_server.files["/kriz/cifar-10-python.tar.gz"] = open(path, "rb").read()
    monkeypatch.setattr(datasets, "CIFAR10_ARCHIVE", FileSpec("cifar-10-python.tar.gz", md5(open(path, "rb").read())))
    monkeypatch.setitem(sources.MIRRORS, "cifar10", [f"{http_server.url}/kriz/"])
    d = load_dataset("cifar10", progress=False)
    np.testing.assert_array_equal(d.train_images, x)


class _Evil:
    """Unpickling this runs os.system -- a restricted unpickler must refuse it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    payload = py2_pickle({b"data": _Evil(marker), b"labels": [1]})
    with pytest.raises(UserError) as e:
        cifar.parse_batch(payload, "labels", source="data_batch_1")
    assert "refusing data_batch_1" in str(e.value) and "system" in str(e.value)
    assert "\n" not in str(e.value)
    assert not marker.exists()
    # the same payload through the normal unpickler *would* run: the test is meaningful
    pickle.loads(payload)
    assert marker.exists()


@pytest.mark.parametrize("module,name", [("builtins", "eval"), ("numpy", "load"),
                                         ("numpy.lib.npyio", "load"), ("subprocess", "Popen")])
def test_unpickler_refuses_other_globals(module, name):
    payload = b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"q\x00."
    with pytest.raises(UserError, match="not allowed"):
        cifar.safe_unpickle(payload)


def test_malicious_batch_inside_archive(isolated, monkeypatch, tmp_path):
    marker = tmp_path / "pwned"
    members, _, _ = _cifar10_members(np.random.default_rng(5))
    members["cifar-10-batches-py/data_batch_3"] = py2_pickle({b"data": _Evil(marker)})
    path = write_tar(isolated / "cifar-10-python.tar.gz", members)
    _patch_archive(monkeypatch, "CIFAR10_ARCHIVE", path)
    with pytest.raises(UserError, match="refusing data_batch_3"):
        load_dataset("cifar10", data_dir=isolated, download=False)
    assert not marker.exists()


def _tar_with(tmp_path, info, data=b"x"):
    members, _, _ = _cifar10_members(np.random.default_rng(6))
    return write_tar(tmp_path / "evil.tar.gz", members, extra=[(info, data)])


@pytest.mark.parametrize("name", ["../escape", "cifar-10-batches-py/../../escape", "/etc/evil"])
def test_tar_member_outside_target_is_refused(tmp_path, name):
    info = tarfile.TarInfo(name)
    info.size = 1
    path = _tar_with(tmp_path, info)
    with pytest.raises(UserError, match="outside the target folder"):
        cifar.read_tar_members(path, {"batches.meta"})


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_tar_links_are_refused(tmp_path, kind):
    info = tarfile.TarInfo("cifar-10-batches-py/link")
    info.type = kind
    info.linkname = "/etc/passwd"
    path = _tar_with(tmp_path, info, None)
    with pytest.raises(UserError, match="link or special file"):
        cifar.read_tar_members(path, {"batches.meta"})


def test_truncated_batch_is_a_user_error():
    data = cifar_batch(np.zeros((2, 3, 32, 32), np.uint8), [1, 2])
    with pytest.raises(UserError, match="damaged or truncated"):
        cifar.parse_batch(data[: len(data) // 2], "labels")


def test_batch_with_wrong_contents_is_refused():
    data = py2_pickle({b"data": np.zeros((2, 10), np.uint8), b"labels": [1, 2]})
    with pytest.raises(UserError, match="not a uint8"):
        cifar.parse_batch(data, "labels")
