"""Check results and grade reports, and their Gradescope-style JSON form."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

# How the sandbox's description of a weak isolation begins (autograder.sandbox.limits.Isolation.describe).
WEAK_ISOLATION = "weak isolation"


@dataclass(frozen=True)
class CheckResult:
    """One graded check: its points earned and possible, and the student-facing message."""

    name: str
    grade_id: str
    score: float
    max_score: float
    output: str
    mistake: str = ""  # the id of the known mistake its message names (autograder.diagnosis), if any

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

    def by_grade_id(self) -> dict[str, list[CheckResult]]:
        """Checks grouped by the nbgrader cell that reports them."""
        groups: dict[str, list[CheckResult]] = {}
        for check in self.checks:
            groups.setdefault(check.grade_id, []).append(check)
        return groups

    def to_gradescope(self) -> dict:
        """Gradescope's results.json: score, max_score, execution_time, tests."""
        tests = [{"name": c.name, "score": c.score, "max_score": c.max_score, "output": c.output,
                  "visibility": "visible"} for c in self.checks]
        tests += [{"name": name, "score": 0, "max_score": pts, "output": "Graded by hand in formgrader.",
                   "visibility": "visible", "status": "needs_manual_grade"} for name, pts in self.manual.items()]
        result = {"score": self.score, "max_score": self.max_score,
                  "execution_time": round(self.execution_time, 3), "tests": tests}
        notes = self.notes + ([self.isolation_note] if self.isolation_note else [])
        if notes:
            result["output"] = "\n".join(notes)
        return result


def check_message(check: CheckResult) -> str:
    """One line of feedback for a check."""
    mark = "PASS" if check.passed else "FAIL"
    return f"[{mark}] {check.name} ({check.score:g}/{check.max_score:g})" + (
        "" if check.passed else f": {check.output}")
