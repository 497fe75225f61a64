"""The one module that knows where things live: the project, caches, the course layout, results.

The sandbox child imports it too: it imports nothing of the kit.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = PROJECT_ROOT / "source"
RELEASE_DIR = PROJECT_ROOT / "release"
SOLUTIONS_DIR = PROJECT_ROOT / "solutions"
DEFAULT_CONFIG = PROJECT_ROOT / "course_config.py"


def cache_dir() -> Path:
    """The kit's cache ($TENSORGRADE_CACHE, else .cache/ in the project)."""
    return Path(os.environ.get("TENSORGRADE_CACHE") or PROJECT_ROOT / ".cache")


def data_cache() -> Path:
    """Where datasets are prepared for torchvision."""
    return cache_dir() / "data"


def source_notebook(assignment: str, notebook: str) -> Path:
    """The instructor's source notebook of an assignment."""
    return SOURCE_DIR / assignment / notebook


def release_notebook(assignment: str, notebook: str) -> Path:
    """The student's release notebook of an assignment."""
    return RELEASE_DIR / assignment / notebook


def grading_secret() -> Path:
    """Where the course's grading secret lives unless course_config.py names a file."""
    return cache_dir() / "grading-secret"


class CourseLayout:
    """nbgrader's course directory layout: submitted/, autograded/, feedback/, gradebook.db."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).resolve()

    @property
    def exchange(self) -> Path:
        """nbgrader's exchange folder for release, fetch and submit (formgrader warns while it is missing)."""
        return self.root / "exchange"

    @property
    def gradebook(self) -> Path:
        """nbgrader's SQLite gradebook."""
        return self.root / "gradebook.db"

    def submitted(self, student: str, assignment: str) -> Path:
        """A student's submitted assignment folder."""
        return self.root / "submitted" / student / assignment

    def autograded(self, student: str, assignment: str) -> Path:
        """Where nbgrader autograde writes a student's graded notebooks."""
        return self.root / "autograded" / student / assignment

    def feedback(self, student: str, assignment: str) -> Path:
        """Where nbgrader generate_feedback writes a student's feedback HTML."""
        return self.root / "feedback" / student / assignment

    def students(self, assignment: str) -> list[str]:
        """Students with a submission of `assignment`, sorted."""
        base = self.root / "submitted"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir())

    def submission_log(self, student: str, assignment: str) -> Path:
        """The grader's log of a student's last grading (autograder.submission_log): `.json`, and `.log` beside it."""
        return self.root / "logs" / assignment / f"{student}.json"

    def batch_log(self, assignment: str) -> Path:
        """The timeline of the last batch of `assignment` (autograder.course.BatchTimes), beside its logs' folder."""
        return self.root / "logs" / f"{assignment}.batch.json"

    def checks_csv(self) -> Path:
        """The long-format per-check export, beside nbgrader's grades.csv."""
        return self.root / "checks.csv"

    def grades_csv(self) -> Path:
        """nbgrader's export of the gradebook's totals."""
        return self.root / "grades.csv"

    def report(self, assignment: str) -> Path:
        """The class report of an assignment (index.html; its figures beside it)."""
        return self.root / "reports" / assignment / "index.html"

    def gradescope_zip(self, assignment: str) -> Path:
        """The Gradescope autograder zip of an assignment."""
        return self.root / "gradescope" / f"{assignment}-autograder.zip"
