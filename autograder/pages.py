"""Feedback pages written by a process of their own, beside the recorder thread (autograder.course.Recorder).

The recorder thread records each grade into gradebook.db through nbgrader's autograde, then hands the student's page
to this process, where nbgrader's generate_feedback writes it from the recorded grade. Recording and pages then use
two cores where one thread did both on one: this matters in a batch's tail, once the workers are done and the records
still queued are recorded alone. The process starts with `spawn` (nothing of the command's threads is copied), imports
nbgrader and nbconvert but no torch (about 100 MB), and runs at the recorder's lower CPU priority. Where it cannot
write a page (it died, or could not start), the recorder writes that page itself.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from .config import CourseConfig, load_config
from .nbgrader_setup import nbgrader_api

_api = None  # the page process's nbgrader API object (_start)


class PageWriter:
    """One process that writes feedback pages, one at a time, in the order asked."""

    def __init__(self, course_root: Path, config: CourseConfig, niceness: int) -> None:
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
                                         initargs=(str(course_root), str(config.path), niceness))
        self._pool.submit(time.process_time)  # start it now: its imports overlap the batch's start, not a page

    def write(self, assignment: str, student: str) -> Future[tuple[float, str]]:
        """The student's page, written once the pages asked before it are: (CPU seconds, nbgrader's error or "").
        Where the process has died, a future that says so."""
        try:
            return self._pool.submit(_write_page, assignment, student)
        except BrokenProcessPool as err:
            failed: Future[tuple[float, str]] = Future()
            failed.set_exception(err)
            return failed

    def close(self) -> None:
        """Wait for every page asked, then end the process."""
        self._pool.shutdown(wait=True)


def _start(course_root: str, config_path: str, niceness: int) -> None:
    global _api
    os.setpriority(os.PRIO_PROCESS, 0, niceness)
    _api = nbgrader_api(Path(course_root), load_config(config_path))


def write_page(api, assignment: str, student: str) -> str:
    """nbgrader's generate_feedback for one recorded student through `api`: "" once the page is written, else
    nbgrader's error (the grade stays; the caller warns)."""
    result = api.generate_feedback(assignment, student)
    return "" if result.get("success") else (result.get("error") or result.get("log") or "failed")


def _write_page(assignment: str, student: str) -> tuple[float, str]:
    started = time.process_time()
    error = write_page(_api, assignment, student)
    return time.process_time() - started, error
