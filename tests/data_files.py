"""Helpers for the data tests: isolated cache, real-data lookup, official-format test files,
and a loopback HTTP server.  Nothing here touches a non-loopback address."""

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """A private cache dir, no ASGE_DATA/ASGE_MIRRORS, and mirrors that cannot be reached."""
    from asge_np.data import sources

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("ASGE_DATA", raising=False)
    monkeypatch.delenv("ASGE_MIRRORS", raising=False)
    monkeypatch.setenv("ASGE_DOWNLOAD_TIMEOUT", "5")
    monkeypatch.setattr(sources, "MIRRORS", {k: [] for k in sources.MIRRORS})
    monkeypatch.setattr(sources, "SYSTEM_DIRS", {})
    return tmp_path


def md5(data):
    return hashlib.md5(data).hexdigest()


# --- real data ---------------------------------------------------------------------------------


def real_data_dir(dataset):
    """Folder holding the official files of ``dataset`` ("mnist" / "fashion-mnist"), or skip.

    Looks in $ASGE_TEST_DATA/<dataset>, ../shared/data/<dataset> from the repo root, and for
    FashionMNIST the Debian package's folder.  With ASGE_REQUIRE_DATA=1 a miss fails instead.
    """
    candidates = []
    if os.environ.get("ASGE_TEST_DATA"):
        candidates.append(Path(os.environ["ASGE_TEST_DATA"]) / dataset)
    candidates.append(REPO_ROOT.parent / "shared" / "data" / dataset)
    if dataset == "fashion-mnist":
        candidates.append(Path("/usr/share/datasets/fashion-mnist"))
    for c in candidates:
        if (c / "train-labels-idx1-ubyte.gz").is_file():
            return c
    message = f"no real {dataset} files in {', '.join(map(str, candidates))} (set ASGE_TEST_DATA)"
    if os.environ.get("ASGE_REQUIRE_DATA") == "1":
        pytest.fail(message + " and ASGE_REQUIRE_DATA=1")
    pytest.skip(message)


# --- IDX test files --------------------------------------------------------------------------


def idx_bytes(array):
    """Unsigned-byte IDX encoding of a uint8 array."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    return header + array.tobytes()


def gzip_bytes(data, mtime=0, name=None):
    """gzip ``data`` with a chosen header (mtime, embedded file name)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name or "", mode="wb", fileobj=buf, mtime=mtime) as f:
        f.write(data)
    return buf.getvalue()


# --- CIFAR test files in the official (Python 2 pickle) format -----------------------------------


class Py2Pickler(pickle._Pickler):
    """Writes byte strings as Python 2 ``str`` opcodes, as in the official CIFAR batches.

    (Python 3's protocol 2 would wrap bytes in a ``_codecs.encode`` call instead.)
    """

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def py2_pickle(obj):
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def cifar_batch(images, labels, label_key=b"labels", name=b"testing batch 1 of 1"):
    """An official-format batch: dict with data (N, 3072) uint8, labels, batch_label, filenames."""
    n = len(labels)
    return py2_pickle({
        b"batch_label": name,
        label_key: [int(v) for v in labels],
        b"data": np.ascontiguousarray(images.reshape(n, 3072), dtype=np.uint8),
        b"filenames": [b"img_%d.png" % i for i in range(n)],
    })


def write_tar(path, members, extra=()):
    """tar.gz at ``path`` with ``members`` {arcname: bytes}; ``extra`` adds raw TarInfo entries."""
    with tarfile.open(path, "w:gz") as tar:
        for arcname, data in members.items():
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


# --- a loopback HTTP server ---------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.files`` {path: bytes}; paths under /trunc/ promise more than they send."""

    def do_GET(self):
        body = self.server.files.get(self.path)
        self.server.requests.append(self.path)
        if body is None:
            self.send_error(404)
            return
        truncated = self.path.startswith("/trunc/")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if truncated else body)
        if truncated:
            self.close_connection = True

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def http_server():
    """A ThreadingHTTPServer on 127.0.0.1 (port 0); ``.files`` maps URL paths to bodies."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.files, server.requests = {}, []
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def dead_url():
    """A loopback URL whose port was just closed (connection refused)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/"
