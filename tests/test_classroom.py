"""Classroom assignments through the command line: the student release fails every task, the
solutions pass every task, and a wrong or cheating answer loses its points."""

import os
import re
import subprocess
import sys

import pytest

from asge_np.classroom import (BEGIN_HIDDEN, BEGIN_SOLUTION, END_SOLUTION, load_tasks,
                               parse_cells, student_version)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUIRED = ["conv_forward", "conv_dw", "goodness_forward", "goodness_backward", "layer_gradient", "adamw"]


def classroom(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "asge_np.classroom", *args],
                          capture_output=True, text=True, env=env, timeout=600)


def scores(output):
    """{task: (earned, possible)} and the total, parsed from the grade report."""
    table = {}
    for line in output.splitlines():
        m = re.match(r"^(\S+)\s+(\d+) / (\d+)", line)
        if m:
            table[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    total = table.pop("total")
    return table, total


def test_every_required_task_exists_with_markers():
    tasks = load_tasks()
    names = [t.name for t in tasks]
    for required in REQUIRED:
        assert any(name.endswith(required) for name in names), f"no task for {required}"
    for task in tasks:
        kinds = [c.kind for c in task.cells]
        assert "solution" in kinds and "tests" in kinds and task.points > 0
        sources = "\n".join(c.source for c in task.cells)
        assert BEGIN_SOLUTION in sources and END_SOLUTION in sources and BEGIN_HIDDEN in sources


def test_release_removes_solutions_and_hidden_tests():
    for task in load_tasks():
        released = "\n".join(c.source for c in student_version(task.cells))
        assert "BEGIN SOLUTION" not in released and "HIDDEN TESTS" not in released
        assert "raise NotImplementedError()" in released
        assert len(parse_cells(released)) >= 1


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Write and grade a release and the solutions once for the tests below."""
    base = tmp_path_factory.mktemp("classroom")
    out = {}
    for kind in ("release", "solutions"):
        dest = str(base / kind)
        written = classroom(kind, dest)
        assert written.returncode == 0, written.stderr
        result = classroom("grade", dest)
        print(f"\n$ python -m asge_np.classroom grade {kind}\n{result.stdout}")
        assert result.returncode == 0, result.stderr
        out[kind] = (dest, scores(result.stdout))
    return out


def test_release_fails_every_task(graded):
    _, (table, (total, possible)) = graded["release"]
    assert len(table) == len(load_tasks())
    assert all(earned == 0 for earned, _ in table.values()), table
    assert total == 0 and possible > 0


def test_solutions_pass_every_task(graded):
    _, (table, (total, possible)) = graded["solutions"]
    assert len(table) == len(load_tasks())
    assert all(earned == points > 0 for earned, points in table.values()), table
    assert total == possible == sum(t.points for t in load_tasks())


def _edit(path, old, new):
    with open(path) as f:
        text = f.read()
    assert old in text, f"{old!r} not in {path}"
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def test_wrong_and_cheating_answers_lose_points(graded, tmp_path):
    dest = tmp_path / "edited"
    assert classroom("solutions", str(dest)).returncode == 0
    # a dw off by a factor of two; a layer gradient delegated to the package; student code that
    # tampers with the visible test would not help, since the package's test cells are used
    _edit(dest / "task2_conv_dw.py", "return dw, db", "return 2 * dw, db")
    _edit(dest / "task5_layer_gradient.py", "### BEGIN SOLUTION",
          "### BEGIN SOLUTION\n    from asge_np.layers import asge_local_loss\n"
          "    return asge_local_loss(x, w, b, R, r, labels, grid)")
    _edit(dest / "task6_adamw.py", "assert rel_error", "pass  # assert rel_error")
    os.remove(dest / "task3_goodness_forward.py")
    result = classroom("grade", str(dest))
    table, _ = scores(result.stdout)
    assert table["task2_conv_dw"][0] == 0
    assert table["task5_layer_gradient"][0] == 0
    assert table["task3_goodness_forward"][0] == 0 and "missing file" in result.stdout
    assert table["task1_conv_forward"] == (2, 2)
    assert table["task6_adamw"][0] == table["task6_adamw"][1]


@pytest.mark.parametrize("args, message", [
    (["grade", "{tmp}/missing"], "does not exist"),
    (["grade", "{tmp}"], "not a classroom release"),
    (["release", "{tmp}/file.txt"], "not a folder"),
])
def test_bad_input_is_one_line_without_traceback(tmp_path, args, message):
    (tmp_path / "file.txt").write_text("x")
    result = classroom(*[a.format(tmp=tmp_path) for a in args])
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr


def test_release_will_not_overwrite_student_work(tmp_path):
    dest = str(tmp_path / "rel")
    assert classroom("release", dest).returncode == 0
    again = classroom("release", dest)
    assert again.returncode != 0 and "not empty" in again.stderr
    assert classroom("release", dest, "--force").returncode == 0


def test_nbgrader_source_notebooks(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    assert classroom("nbgrader", str(tmp_path)).returncode == 0
    folder = tmp_path / "source" / "asge_np"
    notebooks = sorted(folder.glob("*.ipynb"))
    assert len(notebooks) == len(load_tasks())
    for path in notebooks:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
        meta = [c.metadata["nbgrader"] for c in nb.cells]
        assert any(m["solution"] for m in meta) and any(m["grade"] and m["points"] > 0 for m in meta)
        assert len({m["grade_id"] for m in meta}) == len(meta)


def test_committed_nbgrader_notebooks_match_the_task_sources():
    # notebooks/assignments/source/asge_np is generated by `python -m asge_np.classroom nbgrader
    # notebooks/assignments --force`; it must not drift from the task files
    nbformat = pytest.importorskip("nbformat")
    from asge_np.classroom import task_notebook

    folder = os.path.join(REPO, "notebooks", "assignments", "source", "asge_np")
    for task in load_tasks():
        committed = nbformat.read(os.path.join(folder, task.name + ".ipynb"), as_version=4)
        fresh = task_notebook(task)
        assert [c.source for c in committed.cells] == [c.source for c in fresh.cells], (
            f"{task.name}.ipynb is stale: run python -m asge_np.classroom nbgrader notebooks/assignments --force")
        assert [c.metadata["nbgrader"] for c in committed.cells] == [c.metadata["nbgrader"] for c in fresh.cells]
