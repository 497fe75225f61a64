"""Records of submissions nothing was run for: every check 0, with one message and status.

A file that is not a readable notebook (unreadable_report, in the words of unreadable_reason), a submission
whose grading killed its workers, a grade that could not be recorded: each gets GradeReport.all_zero over the
assignment's configured checks. Torch-free, like the rest of what a batch's client and nbgrader's steps import:
only a process that grades imports the grader (autograder.grading).
"""
from __future__ import annotations

from .config import CourseConfig
from .results import GradeReport, Status
from .submission import SubmissionError

NOT_RUN = "not run: the notebook could not be read (see the note at the top)"


def zero_report(assignment: str, config: CourseConfig, output: str, status: Status, **fields) -> GradeReport:
    """A record that gives every check of `assignment` 0 points with one message and status (GradeReport.all_zero)."""
    spec = config.assignment(assignment)
    points = {name: (spec.grade_id_of[name], pts) for name, pts in spec.check_points.items()}
    return GradeReport.all_zero(assignment, points, spec.manual, output, status, **fields)


def unreadable_report(assignment: str, config: CourseConfig, reason: str, seconds: float = 0.0) -> GradeReport:
    """The record of a file that is not a readable notebook: every check 0 and not run, `reason` said once."""
    return zero_report(assignment, config, NOT_RUN, Status.FAILED, unreadable=reason, execution_time=seconds,
                       phases={"read": seconds})


def unreadable_reason(err: SubmissionError) -> str:
    """What the student reads of a notebook that could not be read."""
    reason = str(err) if str(err).endswith((".", "?", "!")) else f"{err}."
    return f"Your notebook could not be graded: {reason}"
