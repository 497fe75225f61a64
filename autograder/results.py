"""Check results and grade reports, and their Gradescope results.json form."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum

# How the sandbox's description of a weak isolation begins (autograder.sandbox.limits.Isolation.describe).
WEAK_ISOLATION = "weak isolation"


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

    def __post_init__(self) -> None:
        status = Status(self.status) if self.status is not None else (
            Status.PASSED if self.score >= self.max_score else Status.FAILED)
        object.__setattr__(self, "status", status)

    @property
    def passed(self) -> bool:
        """Full marks on this check."""
        return self.score >= self.max_score


@dataclass
class GradeReport:
    """The grade of one notebook: every auto-graded check and every manual cell."""

    assignment: str
    checks: list[CheckResult]
    manual: dict[str, float]
    notes: list[str] = field(default_factory=list)
    execution_time: float = 0.0
    isolation: str = ""
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

    @property
    def score(self) -> float:
        """Points earned on the auto-graded checks."""
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> float:
        """Points possible, manual cells included."""
        return sum(c.max_score for c in self.checks) + sum(self.manual.values())

    @property
    def isolation_note(self) -> str:
        """A note stating the isolation in force where it was weak (ALLOW_WEAK_ISOLATION), else ""."""
        if not self.isolation.startswith(WEAK_ISOLATION):
            return ""
        return f"This notebook was graded with {self.isolation}"

    def to_dict(self) -> dict:
        """The report as plain data (how it travels from a Dask worker to the client)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "GradeReport":
        """The report to_dict made."""
        return cls(**{**data, "checks": [CheckResult(**c) for c in data["checks"]]})

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
                  "status": "passed" if c.passed else "failed", "output": c.output, "tags": [c.grade_id],
                  "visibility": "visible"} for i, c in enumerate(self.checks, start=1)]
        result = {"score": self.score, "execution_time": round(self.execution_time, 3), "tests": tests}
        if self.submission_notes:
            result["output"] = "\n".join(self.submission_notes)
        return result


def check_message(check: CheckResult) -> str:
    """One line of feedback for a check."""
    mark = "PASS" if check.passed else "FAIL"
    return f"[{mark}] {check.name} ({check.score:g}/{check.max_score:g})" + (
        "" if check.passed else f": {check.output}")
