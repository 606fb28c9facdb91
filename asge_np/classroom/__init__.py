"""Classroom assignments: derive and implement the pieces of ASGE, graded automatically.

The task sources live in ``asge_np/classroom/tasks/task*.py``.  Each is plain Python in the
"percent" cell format: a line ``# %% [kind] options`` starts a cell, where kind is

* ``markdown`` — the explanation and derivation (comment lines),
* ``setup`` — imports the student gets as they are,
* ``solution`` — the student's code; the reference answer sits between nbgrader's markers
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``,
* ``tests`` (``points=K``) — the autograder cell; visible checks, then hidden checks between
  ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``.

The markers are nbgrader's own, so :func:`write_nbgrader_source` turns the tasks into an
nbgrader ``source/`` folder directly.  Classes without nbgrader use the command line::

    python -m asge_np.classroom release DEST     # student files: solutions -> NotImplementedError,
                                                 # hidden tests removed
    python -m asge_np.classroom solutions DEST   # the full reference solutions
    python -m asge_np.classroom grade DEST       # score per task and a total
    python -m asge_np.classroom nbgrader DEST    # nbgrader source notebooks

Grading never trusts the student's files for anything but their solution cells: it runs the
student's ``setup``/``solution`` cells, then the *package's* test cells (hidden tests included),
whose references are the package's implementations and numerical gradients.  Each task runs in
its own Python process with a time limit, so a crash or an endless loop costs only that task.
"""

import io
import json
import os
import re
import subprocess
import sys
import tokenize
from dataclasses import dataclass

from ..errors import UserError

TASK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tasks")
MANIFEST = "classroom.json"
TASK_TIMEOUT_S = 120

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")

_CELL_HEADER = re.compile(r"^# %%(?:\s*\[(\w+)\])?(.*)$")


@dataclass
class Cell:
    kind: str     # markdown, setup, solution, tests, or code (no kind given)
    options: str  # the rest of the header line, e.g. "points=2"
    source: str

    @property
    def points(self):
        match = re.search(r"points\s*=\s*(\d+)", self.options)
        return int(match.group(1)) if match else 0

    def header(self):
        return f"# %% [{self.kind}]{self.options}" if self.kind != "code" else "# %%"


def parse_cells(text):
    """Split percent-format source into cells; text before the first header is a code cell."""
    cells, kind, options, lines = [], "code", "", []
    for line in text.splitlines():
        match = _CELL_HEADER.match(line)
        if match:
            if "".join(lines).strip():
                cells.append(Cell(kind, options, "\n".join(lines).strip("\n")))
            kind, options, lines = match.group(1) or "code", match.group(2), []
        else:
            lines.append(line)
    if "".join(lines).strip():
        cells.append(Cell(kind, options, "\n".join(lines).strip("\n")))
    return cells


def join_cells(cells):
    return "\n\n\n".join(f"{c.header()}\n{c.source}" for c in cells) + "\n"


def _replace_regions(source, begin, end, replacement):
    """Replace every begin…end marker region (markers included); ``replacement(indent)`` gives
    the lines to put there, or [] to drop the region."""
    out, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == begin:
            if inside:
                raise UserError(f"nested {begin!r} marker")
            inside = True
            out.extend(replacement(line[: len(line) - len(line.lstrip())]))
        elif stripped == end:
            if not inside:
                raise UserError(f"{end!r} without {begin!r}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise UserError(f"{begin!r} without {end!r}")
    return "\n".join(out)


def student_version(cells):
    """The release: solution regions become ``raise NotImplementedError()``, hidden tests go."""
    out = []
    for cell in cells:
        source = cell.source
        if cell.kind == "solution":
            source = _replace_regions(source, BEGIN_SOLUTION, END_SOLUTION,
                                      lambda indent: [indent + s for s in STUB])
        elif cell.kind == "tests":
            source = _replace_regions(source, BEGIN_HIDDEN, END_HIDDEN, lambda indent: [])
        out.append(Cell(cell.kind, cell.options, source.rstrip()))
    return out


@dataclass
class Task:
    name: str     # file stem, e.g. task1_conv_forward
    title: str    # first markdown heading
    cells: list

    @property
    def points(self):
        return sum(c.points for c in self.cells if c.kind == "tests")

    @property
    def filename(self):
        return self.name + ".py"


def load_tasks():
    """The package's task sources, in order (task1, task2, ...)."""
    names = sorted((f for f in os.listdir(TASK_DIR) if re.match(r"task\d+_\w+\.py$", f)),
                   key=lambda f: int(re.match(r"task(\d+)", f).group(1)))
    tasks = []
    for filename in names:
        with open(os.path.join(TASK_DIR, filename), encoding="utf-8") as f:
            cells = parse_cells(f.read())
        heading = next((c.source for c in cells if c.kind == "markdown"), filename)
        title = heading.splitlines()[0].lstrip("# ").strip()
        tasks.append(Task(filename[:-3], title, cells))
    return tasks


# ------------------------------------------------------------------------------ writing out
def _prepare_dest(dest, force):
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise UserError(f"{dest} exists and is not a folder")
    if os.path.isdir(dest) and os.listdir(dest) and not force:
        raise UserError(f"{dest} is not empty; choose a new folder or pass --force to overwrite the task files")
    os.makedirs(dest, exist_ok=True)


def _write_files(dest, kind, make_cells, force=False):
    tasks = load_tasks()
    _prepare_dest(dest, force)
    for task in tasks:
        with open(os.path.join(dest, task.filename), "w", encoding="utf-8") as f:
            f.write(join_cells(make_cells(task.cells)))
    manifest = {"kind": kind, "tasks": [t.name for t in tasks],
                "points": {t.name: t.points for t in tasks}}
    with open(os.path.join(dest, MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    return tasks


def write_release(dest, force=False):
    """Write the student release into ``dest``; returns the tasks written."""
    return _write_files(dest, "release", student_version, force)


def write_solutions(dest, force=False):
    """Write the full task sources (reference solutions, hidden tests) into ``dest``."""
    return _write_files(dest, "solutions", lambda cells: cells, force)


def _percent_markdown(source):
    """Comment lines of a markdown cell -> Markdown text."""
    return "\n".join(re.sub(r"^# ?", "", line) for line in source.splitlines())


def task_notebook(task):
    """One task as an nbgrader source notebook (nbformat 4, nbgrader cell metadata)."""
    try:
        import nbformat
    except ImportError:
        raise UserError("writing notebooks needs nbformat: pip install nbformat") from None
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for index, cell in enumerate(task.cells):
        grade_id = f"{task.name}_{cell.kind}_{index}"
        meta = {"grade": False, "grade_id": grade_id, "locked": True, "schema_version": 3,
                "solution": False, "task": False}
        if cell.kind == "markdown":
            nb_cell = nbformat.v4.new_markdown_cell(_percent_markdown(cell.source))
        else:
            nb_cell = nbformat.v4.new_code_cell(cell.source)
            if cell.kind == "solution":
                meta.update(solution=True, locked=False)
            elif cell.kind == "tests":
                meta.update(grade=True, points=cell.points)
        nb_cell.metadata["nbgrader"] = meta
        nb.cells.append(nb_cell)
    return nb


def write_nbgrader_source(dest, assignment="asge_np", force=False):
    """nbgrader's layout: ``dest/source/<assignment>/<task>.ipynb``; returns the folder."""
    import nbformat  # task_notebook has already checked it is there

    folder = os.path.join(dest, "source", assignment)
    tasks = load_tasks()
    notebooks = [(t, task_notebook(t)) for t in tasks]
    _prepare_dest(folder, force)
    for task, nb in notebooks:
        nbformat.write(nb, os.path.join(folder, task.name + ".ipynb"))
    return folder


# ---------------------------------------------------------------------------------- grading
def code_names(source):
    """The identifiers a piece of code uses (comments and strings left out), as one string."""
    names = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NAME:
                names.append(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source
    return " ".join(names)


def grading_program(task, student_text):
    """The code one grading process runs: the student's setup and solution cells, then the
    package's test cells (hidden tests included).  Prints one JSON line per test cell."""
    student_cells = [c for c in parse_cells(student_text) if c.kind not in ("tests", "markdown")]
    student_code = "\n\n".join(c.source for c in student_cells)
    solution_source = "\n\n".join(c.source for c in student_cells if c.kind in ("solution", "code"))
    tests = [(c.source, c.points) for c in task.cells if c.kind == "tests"]
    return (
        "import json, sys, traceback\n"
        f"STUDENT_SOURCE = {code_names(solution_source)!r}\n"
        "namespace = {'__name__': '__student__', 'STUDENT_SOURCE': STUDENT_SOURCE}\n"
        "def report(points, earned, reason):\n"
        "    print('@@GRADE@@' + json.dumps({'points': points, 'earned': earned, 'reason': reason}), flush=True)\n"
        f"tests = {tests!r}\n"
        "try:\n"
        f"    exec(compile({student_code!r}, 'student code', 'exec'), namespace)\n"
        "except BaseException as e:\n"
        "    for _, points in tests:\n"
        "        report(points, 0, 'the student code does not run: ' + type(e).__name__ + ': ' + str(e))\n"
        "    sys.exit(0)\n"
        "for source, points in tests:\n"
        "    try:\n"
        "        exec(compile(source, 'tests', 'exec'), namespace)\n"
        "        report(points, points, '')\n"
        "    except BaseException as e:\n"
        "        report(points, 0, type(e).__name__ + (': ' + str(e) if str(e) else ''))\n"
    )


@dataclass
class TaskResult:
    task: Task
    earned: int
    reason: str


def grade_task(task, student_path, timeout=TASK_TIMEOUT_S):
    if not os.path.isfile(student_path):
        return TaskResult(task, 0, f"missing file {os.path.basename(student_path)}")
    with open(student_path, encoding="utf-8", errors="replace") as f:
        program = grading_program(task, f.read())
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    # the package this grader belongs to comes first on the path: its references are the truth
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    try:
        proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                              timeout=timeout, cwd=os.path.dirname(os.path.abspath(student_path)), env=env)
    except subprocess.TimeoutExpired:
        return TaskResult(task, 0, f"timed out after {timeout} s")
    reports = [json.loads(line[len("@@GRADE@@"):]) for line in proc.stdout.splitlines()
               if line.startswith("@@GRADE@@")]
    if not reports:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return TaskResult(task, 0, f"grading process failed: {last}")
    earned = sum(r["earned"] for r in reports)
    reason = "; ".join(r["reason"] for r in reports if r["reason"])
    return TaskResult(task, earned, reason)


def read_manifest(dest):
    if not os.path.isdir(dest):
        raise UserError(f"{dest} does not exist or is not a folder")
    path = os.path.join(dest, MANIFEST)
    if not os.path.isfile(path):
        raise UserError(f"{dest} is not a classroom release (no {MANIFEST}); "
                        f"make one with: python -m asge_np.classroom release {dest}")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("tasks"), list):
            raise ValueError("no task list")
    except ValueError as e:
        raise UserError(f"{path} is damaged ({e}); write the release again") from None
    return manifest


def grade(dest, timeout=TASK_TIMEOUT_S):
    """Grade every task of the package against the files in ``dest``; returns TaskResults."""
    read_manifest(dest)
    return [grade_task(task, os.path.join(dest, task.filename), timeout) for task in load_tasks()]


def format_report(results):
    width = max(len(r.task.name) for r in results)
    lines = [f"{'task':<{width}}  score"]
    for r in results:
        line = f"{r.task.name:<{width}}  {r.earned:>2} / {r.task.points}"
        if r.reason:
            line += f"   {r.reason[:160]}"
        lines.append(line)
    total = sum(r.earned for r in results)
    possible = sum(r.task.points for r in results)
    lines.append(f"{'total':<{width}}  {total:>2} / {possible}")
    return "\n".join(lines)
