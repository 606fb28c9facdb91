"""Checkpoints: one .npz holding every array of the model and its optimisers, plus a JSON
record of everything else (epoch, batch, RNG states, metrics so far, the configuration).

Written atomically (temporary file in the same folder, fsync, rename), so a crash or ``kill -9``
at any moment leaves either the old checkpoint or the new one, never half of one.  Read with
``allow_pickle=False``: a checkpoint holds only numeric arrays and one unicode string.
"""

import json
import os
import tempfile
import zipfile

import numpy as np

from .errors import UserError

META_KEY = "__meta__"


def save_checkpoint(path, arrays, meta):
    """Write ``arrays`` (name → NumPy array) and ``meta`` (JSON-serialisable dict) to ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    payload = dict(arrays)
    payload[META_KEY] = np.array(json.dumps(meta))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_checkpoint(path):
    """Read a checkpoint: returns ``(arrays, meta)``.  Refuses anything that is not one."""
    if not os.path.isfile(path):
        raise UserError(f"no checkpoint at {path}: pass a run directory or a checkpoint*.npz file")
    if not zipfile.is_zipfile(path):
        raise UserError(f"{path} is not an asge_np checkpoint (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            if META_KEY not in data.files:
                raise UserError(f"{path} is not an asge_np checkpoint (no {META_KEY} record)")
            meta = json.loads(str(data[META_KEY]))
            arrays = {k: data[k] for k in data.files if k != META_KEY}
    except UserError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, json.JSONDecodeError) as e:
        raise UserError(f"cannot read checkpoint {path}: {e.__class__.__name__}: {e}".splitlines()[0])
    return arrays, meta


def write_text_atomic(path, text):
    """Replace a small text file (config, metrics, summary) in one step."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
