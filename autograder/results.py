"""The grade record of a submission (GradeReport, its CheckResults and Totals): the one source of every view.

The feedback page, results.json, the gradebook, grades.csv, checks.csv, the class report, the batch summary and
the submission log all render a GradeReport (the log stores it as to_dict and reads it back with from_dict), in
the words defined here: each check's Status, and the totals as auto-graded points earned of the auto-graded
maximum, the written answers' points awaiting a TA, and provisional or final.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum


class Status(str, Enum):
    """How a check ended: every view (feedback, formgrader, results.json, CSVs, report) shows this word."""

    PASSED = "passed"
    FAILED = "failed"  # failed on its own: its message says why
    NOT_CREDITED = "not credited"  # may be right itself, but earns points only with a check that failed (`needs`)
    ABSENT = "absent"  # the function it checks is missing or not implemented
    GRADER_ERROR = "grader error"  # the grader could not finish it (reported to the instructor)


@dataclass(frozen=True)
class CheckResult:
    """One graded check: its points earned and possible, its status, and the student-facing message."""

    name: str
    grade_id: str
    score: float
    max_score: float
    output: str
    mistake: str = ""  # the id of the known mistake its message names (autograder.diagnosis), if any
    status: Status | None = None  # None: PASSED on full marks, else FAILED
    needs: str = ""  # for NOT_CREDITED: the check it needs, which did not pass
    measured: dict[str, float] = field(default_factory=dict)  # numbers it measured (the accuracy reached)

    def __post_init__(self) -> None:
        status = Status(self.status) if self.status is not None else (
            Status.PASSED if self.score >= self.max_score else Status.FAILED)
        object.__setattr__(self, "status", status)

    @property
    def passed(self) -> bool:
        """Full marks on this check (the one definition of passed)."""
        return self.status is Status.PASSED

    @property
    def failed_on_its_own(self) -> bool:
        """Lost its points for a fault of its own (not for a check it needs, nor for the grader's error)."""
        return self.status in (Status.FAILED, Status.ABSENT)

    @property
    def label(self) -> str:
        """The check's status in words, as every view gives it ('not credited: needs loss_fn_value')."""
        return f"{self.status.value}: needs {self.needs}" if self.needs else self.status.value

    @property
    def head(self) -> str:
        """'[FAILED] loss_fn_value (0/4)': status and points, as every plain-text view opens the check."""
        return f"[{self.status.value.upper()}] {self.name} ({self.score:g}/{self.max_score:g})"

    def line(self) -> str:
        """The check in one line, as the terminal and the log give it: the head, then the reason."""
        return self.head if self.passed else f"{self.head}: {self.output}"


def not_credited(needs: str) -> str:
    """The message of a check that earns its points only with `needs`, which did not pass: one line pointing there
    (every view shows it after the status, 'not credited')."""
    return f"needs {needs}, which did not pass: see {needs}'s message"


@dataclass(frozen=True)
class Totals:
    """A grade in the kit's one vocabulary: auto-graded points earned of the auto-graded maximum, the written
    answers' points still awaiting a TA (and those a TA graded), provisional or final."""

    auto_score: float
    auto_max: float
    awaiting_ta: float = 0.0  # points of written answers no TA has graded yet
    written_score: float = 0.0  # points of the written answers graded (by a TA; 0 for one left as released)
    written_max: float = 0.0  # points possible of those

    @property
    def status(self) -> str:
        """'provisional' while a written answer awaits a TA, else 'final'."""
        return "provisional" if self.awaiting_ta else "final"

    def text(self) -> str:
        """'62/80 auto-graded; 20 points of written answers await a TA (provisional)', as every view says it."""
        words = f"{self.auto_score:g}/{self.auto_max:g} auto-graded"
        if self.written_max:
            words += f", written answers {self.written_score:g}/{self.written_max:g} graded"
        if self.awaiting_ta:
            words += f"; {self.awaiting_ta:g} points of written answers await a TA"
        return f"{words} ({self.status})"


@dataclass
class GradeReport:
    """The grade of one notebook: every auto-graded check and every manual cell."""

    assignment: str
    checks: list[CheckResult]
    manual: dict[str, float]  # points possible of each written answer (a TA grades them)
    notes: list[str] = field(default_factory=list)
    execution_time: float = 0.0
    isolation: str = ""  # the sandbox's description of the isolation in force ("" when nothing ran)
    weak_isolation: bool = False  # graded with less than full isolation (ALLOW_WEAK_ISOLATION)
    peak_child_mb: float = 0.0  # the sandbox child's peak, from its memory cgroup (0: no memory cgroup)
    peak_worker_mb: float = 0.0  # the grading process's peak resident memory so far (getrusage)
    cell_notes: dict[int, str] = field(default_factory=dict)  # notes (also in `notes`) on one student cell, by number
    # Why the notebook could not be graded at all (unreadable file): said once, not under every check.
    unreadable: str = ""
    # For the instructor only, never shown to the student: internal errors (with tracebacks), the
    # sandbox's failures, each phase's seconds and the child's log tail (autograder.submission_log).
    grader_problems: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    log_tail: str = ""
    # What was graded, for the log, the regrade decision and the nbgrader step's match (autograder.course).
    student: str = ""
    notebook: str = ""  # the submitted file
    sha256: str = ""  # of its bytes: a resubmission differs
    program_key: str = ""  # autograder.submission.recorded_key of the notebook as nbgrader records it
    graded_at: str = ""
    # The totals gradebook.db holds once this record is recorded (nbgrader gives a written answer left as released
    # 0 at once, so it awaits no TA); None before recording: every written answer awaits a TA.
    recorded: Totals | None = None

    @property
    def score(self) -> float:
        """Points earned on the auto-graded checks."""
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> float:
        """Auto-graded points possible (the written answers' points are the TA's: see totals)."""
        return sum(c.max_score for c in self.checks)

    @property
    def totals(self) -> Totals:
        """The record's totals as autograding leaves them (a TA's grades come later, in gradebook.db)."""
        return self.recorded or Totals(self.score, self.max_score, sum(self.manual.values()))

    @property
    def isolation_note(self) -> str:
        """A note stating the isolation in force where it was weak (ALLOW_WEAK_ISOLATION), else ""."""
        return f"This notebook was graded with {self.isolation}" if self.weak_isolation else ""

    def to_dict(self) -> dict:
        """The report as plain data (how it travels from a Dask worker to the client)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "GradeReport":
        """The report to_dict made (JSON's string keys of cell_notes back to cell numbers)."""
        return cls(**{**data, "checks": [CheckResult(**c) for c in data["checks"]],
                      "cell_notes": {int(k): v for k, v in data.get("cell_notes", {}).items()},
                      "recorded": Totals(**data["recorded"]) if data.get("recorded") else None})

    @classmethod
    def all_zero(cls, assignment: str, points: dict[str, tuple[str, float]], manual: dict[str, float],
                 output: str, status: Status, **fields) -> "GradeReport":
        """The one zero-record builder: every check (name -> (grade id, points)) at 0 with one message and
        status, for a submission the grader could not judge (unreadable, killed its workers, failed to judge)."""
        checks = [CheckResult(name, gid, 0.0, pts, output, status=status) for name, (gid, pts) in points.items()]
        return cls(assignment, checks, dict(manual), **fields)

    @property
    def submission_notes(self) -> list[str]:
        """What the student reads once for the whole submission: why it was unreadable, notes, weak isolation."""
        return ([self.unreadable] if self.unreadable else []) + self.notes + (
            [self.isolation_note] if self.isolation_note else [])

    def by_grade_id(self) -> dict[str, list[CheckResult]]:
        """Checks grouped by the nbgrader cell that reports them."""
        groups: dict[str, list[CheckResult]] = {}
        for check in self.checks:
            groups.setdefault(check.grade_id, []).append(check)
        return groups

    def to_gradescope(self) -> dict:
        """Gradescope's results.json (its documented autograder results format): the auto-graded checks only.

        Manual (free-response) cells are graded by hand, on Gradescope as manual questions, so they are not
        tests here; `score` is the auto-graded points.
        """
        tests = [{"name": c.name, "number": str(i), "score": c.score, "max_score": c.max_score,
                  "status": "passed" if c.passed else "failed", "output": c.output,
                  "tags": [c.grade_id, c.status.value] + ([f"needs {c.needs}"] if c.needs else []),
                  "visibility": "visible"} for i, c in enumerate(self.checks, start=1)]
        result = {"score": self.score, "execution_time": round(self.execution_time, 3), "tests": tests,
                  "output": "\n".join([f"Total: {self.totals.text()}."] + self.submission_notes)}
        return result
