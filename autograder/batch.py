"""Grade many notebooks at once in this process's threads: sandboxes run in parallel, judging is serialized.

The kit's tests use it; the batch command grades through the Dask engine (autograder.cluster) instead.
"""
from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

from . import grading
from .config import ConfigError, CourseConfig
from .results import GradeReport, Status
from .suite import INTERNAL_ERROR
from .ungraded import zero_report

_log = logging.getLogger(__name__)
Job = tuple[Path, str] | tuple[Path, str, str]  # (notebook, assignment[, student])


def grade_many(jobs: Iterable[Job], config: CourseConfig, workers: int | None = None,
               course_root: Path | None = None) -> list[GradeReport]:
    """Grade (notebook, assignment[, student]) jobs with `workers` sandboxes at a time; reports in job order."""
    jobs = list(jobs)
    workers = workers or config.parallel_submissions or len(os.sched_getaffinity(0))

    def one(job: Job) -> GradeReport:
        notebook, assignment, *student = job
        try:
            return grading.grade_notebook(notebook, assignment, config, course_root,
                                          student=student[0] if student else "")
        except ConfigError:
            raise  # the operator's mistake: no submission can be graded
        except Exception:  # noqa: BLE001 - one submission's failure must not stop the batch
            _log.exception("grading %s (%s) failed", notebook, assignment)
            return zero_report(assignment, config, INTERNAL_ERROR, Status.GRADER_ERROR)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, jobs))
