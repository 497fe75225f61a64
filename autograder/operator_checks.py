"""What the instructor asked for, checked before any grading; and the exit codes of the command line.

Each check raises OperatorError with one line that says what is wrong and what to do, so a typo in a
path or an assignment costs a second, not a batch graded against nothing.
"""
from __future__ import annotations

from pathlib import Path

from .config import ConfigError, CourseConfig
from .paths import CourseLayout

# Exit codes of `tensorgrade` (README, `tensorgrade --help`).
GRADED = 0  # everything asked for was done; every submission graded (a student's unreadable file scores 0)
GRADER_PROBLEMS = 1  # graded, but some submissions met a problem on the grader's side: see the summary and logs
COULD_NOT_RUN = 2  # an operator mistake or a setting at fault: nothing was graded
REFUSED = 3  # the sandbox cannot isolate student code fully here and ALLOW_WEAK_ISOLATION is off

EXIT_CODES = {GRADED: "all graded", GRADER_PROBLEMS: "graded, some submissions with grader-side problems",
              COULD_NOT_RUN: "could not run: an operator mistake or a setting at fault (nothing graded)",
              REFUSED: "refused: the sandbox cannot isolate fully and ALLOW_WEAK_ISOLATION is off"}


class OperatorError(ConfigError):
    """The command cannot run as asked (a missing file, an unknown name); the message says what to do."""


def check_notebook(path: Path) -> None:
    """The file to grade exists and is a file."""
    path = Path(path)
    if not path.exists():
        raise OperatorError(f"no such notebook: {path} (give the path of a submitted .ipynb file)")
    if not path.is_file():
        raise OperatorError(f"{path} is not a file (give the path of a submitted .ipynb file)")


def check_course(course_root: Path, config: CourseConfig, assignment: str, students: list[str] | None = None) -> None:
    """The course directory exists, has submissions of `assignment` (of each student named) and a gradebook
    that knows the assignment (nbgrader generate_assignment has run)."""
    from nbgrader.api import Gradebook, MissingEntry

    config.assignment(assignment)
    layout = CourseLayout(course_root)
    if not layout.root.is_dir():
        raise OperatorError(f"no such course directory: {layout.root} (give --course the folder that holds "
                            "nbgrader_config.py and submitted/)")
    submitted = layout.students(assignment)
    if not submitted:
        raise OperatorError(f"no submissions of {assignment} in {layout.root / 'submitted'}: nbgrader expects "
                            f"submitted/<student>/{assignment}/{config.assignment(assignment).notebook} "
                            "(run `nbgrader collect` or check --course)")
    unknown = sorted(set(students or []) - set(submitted))
    if unknown:
        raise OperatorError(f"no submission of {assignment} by {', '.join(unknown)} in {layout.root / 'submitted'} "
                            f"(students with one: {', '.join(submitted[:10])}{' ...' if len(submitted) > 10 else ''})")
    missing = (f"assignment {assignment} is not in the gradebook of course {config.course_id} "
               f"({layout.gradebook}): run `nbgrader generate_assignment {assignment}` in {layout.root} first")
    if not layout.gradebook.is_file():
        raise OperatorError(missing)
    with Gradebook(f"sqlite:///{layout.gradebook}", config.course_id) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise OperatorError(missing) from None
