"""Execute every teaching notebook top to bottom; they must run without error, within their time
budget, and (where they plot) produce embedded PNG images.  Seconds per notebook are printed."""

import glob
import os
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOK_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks")
NOTEBOOKS = sorted(glob.glob(os.path.join(NOTEBOOK_DIR, "[0-9][0-9]_*.ipynb")))
EXPECTED = ["01_data_and_backends", "02_convolution", "03_spatial_goodness", "04_layer_local_loss",
            "05_stacking", "06_prediction", "07_channel_explosion", "08_gpu"]
CELL_TIMEOUT_S = 300
#: The issue's budget is two minutes on two CPU cores; CI machines vary, so allow some slack.
NOTEBOOK_BUDGET_S = float(os.environ.get("ASGE_NOTEBOOK_BUDGET_S", 180))

_seconds = {}


def test_every_notebook_is_there():
    assert [os.path.basename(p)[:-6] for p in NOTEBOOKS] == EXPECTED


def _images(nb):
    return sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.get("outputs", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p)[:-6] for p in NOTEBOOKS])
def test_committed_notebook_is_executed_with_plots(path):
    # readers on GitHub see the committed outputs: every code cell ran, and the plots are in it
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "committed without executing every cell"
    assert not any(out.get("output_type") == "error" for c in code for out in c.get("outputs", []))
    assert _images(nb) >= 1, "no embedded plot"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p)[:-6] for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # execute from scratch, not from the committed outputs
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": NOTEBOOK_DIR}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, on the first error
    seconds = time.perf_counter() - start
    name = os.path.basename(path)
    _seconds[name] = seconds
    print(f"\n{name}: {seconds:.1f} s")
    errors = [out for c in nb.cells if c.cell_type == "code" for out in c.outputs if out.output_type == "error"]
    assert not errors
    assert _images(nb) >= 1, f"{name} produced no image/png output"
    assert seconds < NOTEBOOK_BUDGET_S, f"{name} took {seconds:.0f} s (budget {NOTEBOOK_BUDGET_S:.0f} s)"


def teardown_module(module):
    if _seconds:
        print("\nseconds per notebook: " + ", ".join(f"{k} {v:.1f}" for k, v in _seconds.items())
              + f"; total {sum(_seconds.values()):.1f}")
