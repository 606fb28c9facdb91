"""The four datasets of the paper: their official files, checksums, class names and loaders."""

import os
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from . import cifar, idx
from .sources import FileSpec, _idx_spec, locate_file, obtain_file


@dataclass
class Dataset:
    """A labelled image dataset held as host arrays.

    ``train_images`` / ``test_images``: (N, C, H, W) uint8; ``train_labels`` / ``test_labels``:
    (N,) int64 in ``[0, len(class_names))``.
    """

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: list

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def channels(self):
        return int(self.train_images.shape[1])


# --- official files (md5s: torchvision's list; decompressed md5s and sizes of the IDX content) ---

MNIST_FILES = {
    "train_images": _idx_spec("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                              "6bbc9ace898e44ae57da46a324031adb", 47040016),
    "train_labels": _idx_spec("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432",
                              "a25bea736e30d166cdddb491f175f624", 60008),
    "test_images": _idx_spec("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3",
                             "2646ac647ad5339dbf082846283269ea", 7840016),
    "test_labels": _idx_spec("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c",
                             "27ae3e4e09519cfbb04c329615203637", 10008),
}

FASHION_FILES = {
    "train_images": _idx_spec("train-images-idx3-ubyte", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                              "f4a8712d7a061bf5bd6d2ca38dc4d50a", 47040016),
    "train_labels": _idx_spec("train-labels-idx1-ubyte", "25c81989df183df01b3e8a0aad5dffbe",
                              "9018921c3c673c538a1fc5bad174d6f9", 60008),
    "test_images": _idx_spec("t10k-images-idx3-ubyte", "bef4ecab320f06d8554ea6380940ec79",
                             "8181f5470baa50b63fa0f6fddb340f0a", 7840016),
    "test_labels": _idx_spec("t10k-labels-idx1-ubyte", "bb300cfdad3c16e7a12a480ee83cd310",
                             "15d484375f8d13e6eb1aabb0c3f46965", 10008),
}

CIFAR10_ARCHIVE = FileSpec("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a")
CIFAR100_ARCHIVE = FileSpec("cifar-100-python.tar.gz", "eb9058c3a382ffc7106e4002c42a8d85")

#: Per-file md5s of the extracted archives (torchvision's list), for an already-unpacked copy.
CIFAR10_MEMBERS = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
CIFAR100_MEMBERS = {
    "train": "16019d7e3df5f24257cddd939b257f8d",
    "test": "f0ef6b0ae62326f3e7ffdfab6717acfc",
    "meta": "7973b15100ade9c7d40fb424638fde48",
}

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


@dataclass(frozen=True)
class _Info:
    """How to find and read one dataset."""

    key: str
    subdirs: tuple  # folder names tried inside every search directory (first: the cache's)
    val_size: int   # validation split of the public code (train = rest)


DATASETS = {
    "mnist": _Info("mnist", ("mnist", "MNIST", "MNIST/raw"), 10000),
    "fashionmnist": _Info("fashionmnist", ("fashion-mnist", "fashionmnist", "fashion_mnist",
                                           "FashionMNIST", "FashionMNIST/raw"), 10000),
    "cifar10": _Info("cifar10", ("cifar10", "cifar-10", "CIFAR10"), 5000),
    "cifar100": _Info("cifar100", ("cifar100", "cifar-100", "CIFAR100"), 5000),
}


def canonical_name(name):
    """``'Fashion-MNIST'`` -> ``'fashionmnist'``; UserError listing the known names otherwise."""
    key = "".join(ch for ch in str(name).lower() if ch.isalnum())
    if key == "fmnist":
        key = "fashionmnist"
    if key not in DATASETS:
        raise UserError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    return key


def _load_idx_dataset(key, files, class_names, data_dir, download, progress):
    subdirs = DATASETS[key].subdirs
    arrays = {}
    for part, spec in files.items():
        path = obtain_file(spec, key, data_dir, subdirs, download=download, progress=progress)
        arrays[part] = idx.load_idx(path, ndim=3 if part.endswith("images") else 1)
    for split in ("train", "test"):
        images, labels = arrays[split + "_images"], arrays[split + "_labels"]
        if len(images) != len(labels):
            raise UserError(f"{key}: {len(images)} {split} images but {len(labels)} labels; files are mixed up")
        arrays[split + "_images"] = images[:, None, :, :]  # (N, 1, 28, 28)
        arrays[split + "_labels"] = labels.astype(np.int64)
    return Dataset(key, class_names=list(class_names), **arrays)


def _cifar_layout(key):
    if key == "cifar10":
        return (CIFAR10_ARCHIVE, "cifar-10-batches-py", CIFAR10_MEMBERS,
                [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"], "batches.meta",
                "labels", "label_names")
    return (CIFAR100_ARCHIVE, "cifar-100-python", CIFAR100_MEMBERS, ["train"], ["test"], "meta",
            "fine_labels", "fine_label_names")


def _load_cifar(key, data_dir, download, progress):
    archive, folder, members, train, test, meta, label_key, names_key = _cifar_layout(key)
    subdirs = DATASETS[key].subdirs
    blobs = None
    path = locate_file(archive, key, data_dir, subdirs)
    if path is None:
        # an already-unpacked copy (what torchvision leaves next to the archive)
        unpacked = (folder,) + tuple(os.path.join(s, folder) for s in subdirs)
        paths = {m: locate_file(FileSpec(m, md5), key, data_dir, unpacked) for m, md5 in members.items()}
        if all(paths.values()):
            blobs = {}
            for m, p in paths.items():
                with open(p, "rb") as f:
                    blobs[m] = f.read()
    if blobs is None:
        if path is None:
            path = obtain_file(archive, key, data_dir, subdirs, download=download, progress=progress)
        blobs = cifar.read_tar_members(path, set(members))

    def stack(names):
        parts = [cifar.parse_batch(blobs[n], label_key, source=n) for n in names]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    train_images, train_labels = stack(train)
    test_images, test_labels = stack(test)
    names = cifar.parse_meta(blobs[meta], names_key, source=meta)
    for labels in (train_labels, test_labels):
        if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
            raise UserError(f"{key}: labels outside [0, {len(names)}); the files are not official")
    return Dataset(key, train_images, train_labels, test_images, test_labels, names)


def load_dataset(name, data_dir=None, download=True, progress=True):
    """Load ``name`` (mnist, fashionmnist, cifar10, cifar100) as a :class:`Dataset`.

    Images are uint8 (N, C, H, W): MNIST/FashionMNIST (60000 / 10000, 1, 28, 28), CIFAR
    (50000 / 10000, 3, 32, 32).  Files are looked for in ``data_dir``, ``ASGE_DATA``, the cache
    and system folders, else downloaded (``download=False`` forbids that); every file is
    md5-checked.  ``progress`` shows a download progress bar.  All problems raise UserError.
    """
    key = canonical_name(name)
    if key == "mnist":
        return _load_idx_dataset(key, MNIST_FILES, MNIST_CLASSES, data_dir, download, progress)
    if key == "fashionmnist":
        return _load_idx_dataset(key, FASHION_FILES, FASHION_CLASSES, data_dir, download, progress)
    return _load_cifar(key, data_dir, download, progress)
