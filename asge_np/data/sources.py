"""Where dataset files come from: search directories, verify md5s, download from mirrors.

A file is looked for, in order, in

1. the explicit ``data_dir`` (the CLI's ``--data-dir``),
2. the directories in the ``ASGE_DATA`` environment variable (``os.pathsep``-separated),
3. the cache directory (``$XDG_CACHE_HOME/asge_np`` or ``~/.cache/asge_np``),
4. system directories (the Debian package ``dataset-fashion-mnist`` installs the official
   FashionMNIST files in ``/usr/share/datasets/fashion-mnist``),

each directly and in a subfolder named after the dataset (``<dir>/mnist/...``).  When no copy
exists anywhere it is downloaded into the cache directory from the mirrors in :data:`MIRRORS`
(or ``ASGE_MIRRORS``), tried in order.

Every file is checked against its official md5 before it is used.  A check is remembered in
``<cache>/verified.json`` keyed on path, size and mtime, so the next load skips the hashing;
the data directories themselves are never written to (they may be read-only).
"""

import gzip
import hashlib
import json
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field

from ..errors import UserError

_CHUNK = 1 << 20

#: Base URLs per dataset, tried in order; tests and offline mirrors replace these
#: (``ASGE_MIRRORS`` overrides them for every dataset at once).
MIRRORS = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    "fashionmnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    "cifar10": ["https://www.cs.toronto.edu/~kriz/"],
    "cifar100": ["https://www.cs.toronto.edu/~kriz/"],
}

#: Directories a distribution may install datasets into, per dataset.
SYSTEM_DIRS = {
    "mnist": ["/usr/share/datasets/mnist"],
    "fashionmnist": ["/usr/share/datasets/fashion-mnist"],
    "cifar10": ["/usr/share/datasets/cifar10"],
    "cifar100": ["/usr/share/datasets/cifar100"],
}

#: Socket timeout for downloads, in seconds (``ASGE_DOWNLOAD_TIMEOUT`` overrides it).
DOWNLOAD_TIMEOUT = 30.0


@dataclass(frozen=True)
class FileSpec:
    """One official file: its name, md5, and for gzip files the md5/size of the content.

    ``alt_names`` are other spellings found in the wild (an unzipped copy, LeCun's
    ``train-images.idx3-ubyte``); those are plain files checked against ``raw_md5``.
    """

    name: str
    md5: str
    raw_md5: str = None
    raw_size: int = None
    alt_names: tuple = field(default=())


def _idx_spec(stem, md5, raw_md5, raw_size):
    dotted = stem.replace("-idx", ".idx")  # the spelling of some unzipped copies
    return FileSpec(stem + ".gz", md5, raw_md5, raw_size, alt_names=(stem, dotted))


def cache_dir():
    """The per-user cache directory (not created here)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "asge_np")


def search_dirs(data_dir=None, system_dirs=()):
    """Candidate base directories in search order (existing or not), without duplicates."""
    dirs = []
    if data_dir:
        dirs.append(os.fspath(data_dir))
    dirs += [d for d in os.environ.get("ASGE_DATA", "").split(os.pathsep) if d]
    dirs.append(cache_dir())
    dirs += list(system_dirs)
    seen, out = set(), []
    for d in dirs:
        d = os.path.abspath(os.path.expanduser(d))
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def find_file(spec, dirs, subdirs):
    """First existing path of ``spec`` (any spelling) in ``dirs`` or their ``subdirs``, or None."""
    for base in dirs:
        for sub in ("",) + tuple(subdirs):
            folder = os.path.join(base, sub) if sub else base
            for name in (spec.name,) + tuple(spec.alt_names):
                path = os.path.join(folder, name)
                if os.path.isfile(path):
                    return path
    return None


# --- hashing ---------------------------------------------------------------------------------


def md5_file(path):
    """Hex md5 of a file, read in chunks."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def gunzip_md5(path):
    """Hex md5 and size of a gzip file's decompressed content; UserError if it is damaged."""
    h = hashlib.md5()
    size = 0
    try:
        with gzip.open(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                h.update(chunk)
                size += len(chunk)
    except EOFError:
        raise UserError(
            f"truncated file {path}: the gzip stream ends early; delete it and download it again"
        ) from None
    except (OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise UserError(f"corrupt gzip file {path} ({e}); delete it and download it again") from None
    return h.hexdigest(), size


def _is_gzip(path):
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _mismatch(path, expected, got):
    return UserError(
        f"checksum mismatch for {path}: expected md5 {expected}, got {got}; "
        "delete the file and download it again"
    )


def check_file(path, spec):
    """Verify ``path`` against ``spec``; raise UserError (mismatch/truncation) if it is wrong.

    A gzip file passes when its own md5 matches, or when its decompressed content does (Debian
    re-gzips FashionMNIST with different headers).  A plain file passes on the content md5.
    Returns the md5 that matched.
    """
    if _is_gzip(path):
        got = md5_file(path)
        if got == spec.md5 or spec.raw_md5 is None:
            if got != spec.md5:
                raise _mismatch(path, spec.md5, got)
            return got
        raw, size = gunzip_md5(path)
        if raw == spec.raw_md5:
            return raw
        if spec.raw_size is not None and size < spec.raw_size:
            raise UserError(
                f"truncated file {path}: {size} of {spec.raw_size} bytes after decompression; "
                "delete it and download it again"
            )
        raise _mismatch(path, f"{spec.md5} (or {spec.raw_md5} decompressed)", got)
    expected = spec.raw_md5 or spec.md5
    size = os.path.getsize(path)
    want_size = spec.raw_size if spec.raw_md5 else None
    if want_size is not None and size < want_size:
        raise UserError(
            f"truncated file {path}: {size} of {want_size} bytes; delete it and download it again"
        )
    got = md5_file(path)
    if got != expected:
        raise _mismatch(path, expected, got)
    return got


# --- remembering verified files ----------------------------------------------------------------


def _memo_path():
    return os.path.join(cache_dir(), "verified.json")


def _memo_key(path):
    st = os.stat(path)
    return os.path.realpath(path), [st.st_size, st.st_mtime_ns]


def _read_memo():
    try:
        with open(_memo_path()) as f:
            memo = json.load(f)
        return memo if isinstance(memo, dict) else {}
    except (OSError, ValueError):
        return {}


def _remember(path, accepted_md5):
    """Record a verified file; best effort (a read-only cache only costs a re-check)."""
    key, stamp = _memo_key(path)
    memo = _read_memo()
    memo[key] = {"stamp": stamp, "md5": accepted_md5}
    try:
        os.makedirs(cache_dir(), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir(), prefix=".verified-", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(memo, f)
        os.replace(tmp, _memo_path())  # atomic: concurrent loaders never see half a file
    except OSError:
        pass


def verify_file(path, spec):
    """:func:`check_file`, skipped when this exact file (path, size, mtime) passed before."""
    key, stamp = _memo_key(path)
    entry = _read_memo().get(key)
    if entry and entry.get("stamp") == stamp and entry.get("md5") in (spec.md5, spec.raw_md5):
        return
    _remember(path, check_file(path, spec))


# --- downloading -----------------------------------------------------------------------------


class _DownloadFailed(Exception):
    """One mirror failed; ``checksum`` marks a file that arrived but was wrong."""

    def __init__(self, message, checksum=False):
        super().__init__(message)
        self.checksum = checksum


def mirrors_for(dataset):
    """Base URLs for ``dataset``: ``ASGE_MIRRORS`` (comma-separated) if set, else :data:`MIRRORS`."""
    env = os.environ.get("ASGE_MIRRORS", "")
    if env.strip():
        return [u.strip() for u in env.split(",") if u.strip()]
    return list(MIRRORS.get(dataset, []))


def _timeout():
    try:
        return float(os.environ.get("ASGE_DOWNLOAD_TIMEOUT", DOWNLOAD_TIMEOUT))
    except ValueError:
        return DOWNLOAD_TIMEOUT


def _progress_bar(total, desc, enabled):
    try:
        from tqdm import tqdm
    except ImportError:  # the bar is a nicety; downloads work without it
        return None
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, disable=not enabled, leave=False)


def _one_line(x):
    return " ".join(str(x).split())


def _fetch(url, tmp_file, progress):
    """Stream ``url`` into the open ``tmp_file``; returns (md5, bytes); raises _DownloadFailed."""
    h = hashlib.md5()
    got = 0
    try:
        with urllib.request.urlopen(url, timeout=_timeout()) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            bar = _progress_bar(total, os.path.basename(url), progress)
            try:
                while True:
                    chunk = resp.read(_CHUNK)
                    if not chunk:
                        break
                    tmp_file.write(chunk)
                    h.update(chunk)
                    got += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
    except urllib.error.HTTPError as e:
        raise _DownloadFailed(f"{url}: HTTP {e.code}") from None
    except urllib.error.URLError as e:
        raise _DownloadFailed(f"{url}: {_one_line(e.reason)}") from None
    except Exception as e:  # IncompleteRead, reset connections, timeouts: all mean "try the next"
        raise _DownloadFailed(f"{url}: {type(e).__name__}: {_one_line(e)}") from None
    if total is not None and got != total:
        raise _DownloadFailed(f"{url}: truncated download ({got} of {total} bytes)")
    return h.hexdigest(), got


def download_file(spec, dataset, dest_dir, progress=True):
    """Download ``spec`` into ``dest_dir`` from the dataset's mirrors; return the final path.

    Each attempt goes into a temporary file in ``dest_dir`` that is md5-checked and only then
    renamed to its real name, so a failed or partial download never leaves a file that looks
    valid.  Raises UserError naming what went wrong when every mirror fails.
    """
    try:
        os.makedirs(dest_dir, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create the download directory {dest_dir}: {e.strerror}") from None
    final = os.path.join(dest_dir, spec.name)
    failures = []
    for base in mirrors_for(dataset):
        url = base if base.endswith("/") else base + "/"
        url += spec.name
        fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix="." + spec.name + ".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                md5, _ = _fetch(url, f, progress)
            if md5 != spec.md5:
                raise _DownloadFailed(
                    f"checksum mismatch for {url}: expected md5 {spec.md5}, got {md5}", checksum=True
                )
            os.replace(tmp, final)
            _remember(final, md5)
            return final
        except _DownloadFailed as e:
            failures.append(e)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    bad = [f for f in failures if f.checksum]
    if bad:
        raise UserError(f"{bad[0]}; the mirror serves a damaged file, try again later or another mirror")
    tried = "; ".join(str(f) for f in failures) or "no mirrors configured"
    raise _NoNetwork(tried)


class _NoNetwork(Exception):
    """Every mirror was unreachable (as opposed to serving a damaged file)."""


def how_to_get(dataset, dest_dir):
    """One-line advice on getting ``dataset``'s files onto a machine without a network."""
    ways = ["pass --data-dir DIR (or set ASGE_DATA) to a folder holding the official files"]
    if dataset == "fashionmnist":
        ways.append("install the Debian package dataset-fashion-mnist")
    ways.append(f"or download them on a connected machine and copy them to {dest_dir}")
    return ", ".join(ways)


def locate_file(spec, dataset, data_dir=None, subdirs=()):
    """Verified path of ``spec`` in the search directories, or None when there is no copy."""
    dirs = search_dirs(data_dir, SYSTEM_DIRS.get(dataset, ()))
    path = find_file(spec, dirs, subdirs)
    if path is not None:
        verify_file(path, spec)
    return path


def obtain_file(spec, dataset, data_dir=None, subdirs=(), download=True, progress=True):
    """Path of a verified copy of ``spec``: found in the search directories, else downloaded.

    ``subdirs`` are the dataset's folder names tried inside each directory.  Raises UserError
    for a damaged file, or when the file is nowhere and cannot be downloaded.
    """
    path = locate_file(spec, dataset, data_dir, subdirs)
    if path is not None:
        return path
    dest = os.path.join(cache_dir(), subdirs[0] if subdirs else dataset)
    if not download:
        raise UserError(f"{spec.name} for {dataset} not found (downloads are off): {how_to_get(dataset, dest)}")
    try:
        return download_file(spec, dataset, dest, progress=progress)
    except _NoNetwork as e:
        raise UserError(
            f"{spec.name} for {dataset} is not on this machine and could not be downloaded ({e}): "
            f"{how_to_get(dataset, dest)}"
        ) from None
