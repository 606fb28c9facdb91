"""Command line of the classroom assignments: ``python -m asge_np.classroom COMMAND DEST``."""

import argparse
import sys

from ..errors import UserError
from . import (format_report, grade, load_tasks, write_nbgrader_source, write_release,
               write_solutions)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m asge_np.classroom",
        description="ASGE classroom assignments: write the student release or the solutions, "
                    "grade a folder, or export nbgrader source notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("release", "write the student release (solutions removed) into DEST"),
                       ("solutions", "write the full reference solutions into DEST"),
                       ("nbgrader", "write nbgrader source notebooks into DEST/source/asge_np")):
        p = sub.add_parser(name, help=text)
        p.add_argument("dest", metavar="DEST")
        p.add_argument("--force", action="store_true", help="overwrite the files of a non-empty DEST")
    p = sub.add_parser("grade", help="grade the task files in DEST and print a score per task")
    p.add_argument("dest", metavar="DEST")
    p.add_argument("--timeout", type=float, default=120, help="seconds allowed per task (120)")
    sub.add_parser("list", help="list the tasks and their points")
    args = parser.parse_args(argv)

    try:
        if args.command == "list":
            for task in load_tasks():
                print(f"{task.name:<26} {task.points} pts  {task.title}")
        elif args.command in ("release", "solutions"):
            writer = write_release if args.command == "release" else write_solutions
            tasks = writer(args.dest, force=args.force)
            print(f"wrote {args.command} of {len(tasks)} tasks to {args.dest}: "
                  + ", ".join(t.filename for t in tasks))
        elif args.command == "nbgrader":
            folder = write_nbgrader_source(args.dest, force=args.force)
            print(f"wrote nbgrader source notebooks to {folder}")
        else:
            print(format_report(grade(args.dest, timeout=args.timeout)))
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # unwritable folder, full disk: a user problem, not a bug
        print(f"error: {e.strerror or e}: {e.filename or args.dest}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
