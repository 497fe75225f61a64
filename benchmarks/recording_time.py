"""How long the batch's client spends recording each submission, on its critical path and beside it.

Grades a course of N part1_regression notebooks (offline: no dataset) with `autograde_course` on a local Dask
cluster, and times, per submission, the client's work between receiving a worker's record and waiting for the
next one (the critical path: the workers wait for nothing else, but the client's cores are theirs too), the
recorder's time in nbgrader's autograde where it runs beside the grading (autograder.course.Recorder), and the
tail: from the last record received to the batch's end.

    python benchmarks/recording_time.py --n 8 --workers 2
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from autograder import course
from autograder.config import load_config
from tests.helpers import solution, with_functions
from tests.test_grading import SUM_NOT_MEAN, _course


def main() -> None:
    """Grade the course once and print the times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8, help="notebooks (half correct, half summing the loss)")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    args = parser.parse_args()
    wrong = {"loss_fn": SUM_NOT_MEAN}
    root = _course(Path(tempfile.mkdtemp(prefix="recording-")), {
        f"s{i}": solution("part1_regression") if i % 2 else with_functions("part1_regression", wrong)
        for i in range(args.n)})
    client_s: list[float] = []
    recorder_s: list[float] = []
    received = [0.0]
    stream = course.grade_stream

    def timed_stream(*a, **kw):
        for item in stream(*a, **kw):
            received[0] = time.monotonic()
            yield item
            client_s.append(time.monotonic() - received[0])

    course.grade_stream = timed_stream
    recorder = getattr(course, "Recorder", None)
    if recorder is not None:  # recording beside the grading: time it apart
        record = recorder._record

        def timed_record(self, report):
            started = time.monotonic()
            try:
                return record(self, report)
            finally:
                recorder_s.append(time.monotonic() - started)

        recorder._record = timed_record
    started = time.monotonic()
    outcomes = course.autograde_course("part1_regression", root, load_config(), progress=False,
                                       workers=args.workers)
    ended = time.monotonic()
    assert len(outcomes) == args.n
    print(f"{args.n} notebooks, {args.workers} workers: batch {ended - started:.1f} s; tail after the last record "
          f"received {ended - received[0]:.2f} s")
    print(f"client's critical path per submission: mean {statistics.fmean(client_s):.3f} s, max {max(client_s):.3f} s")
    if recorder_s:
        print(f"recorder beside the grading per submission: mean {statistics.fmean(recorder_s):.3f} s, "
              f"max {max(recorder_s):.3f} s")


if __name__ == "__main__":
    main()
