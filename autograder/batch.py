"""Grade many notebooks at once: sandboxes run in parallel, judging is serialized."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

from . import grading
from .config import CourseConfig
from .results import GradeReport

def grade_many(jobs: Iterable[tuple[Path, str]], config: CourseConfig, workers: int | None = None,
               course_root: Path | None = None,
               on_done: Callable[[int, GradeReport], None] | None = None) -> list[GradeReport]:
    """Grade (notebook, assignment) pairs with `workers` sandboxes at a time; reports in job order."""
    jobs = list(jobs)
    workers = workers or config.parallel_submissions

    def one(index: int) -> GradeReport:
        notebook, assignment = jobs[index]
        report = grading.grade_notebook(notebook, assignment, config, course_root)
        if on_done:
            on_done(index, report)
        return report

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(len(jobs))))
