"""The grader's log of each graded submission, under the course directory: logs/<assignment>/<student>.json.

It is the submission's grade record itself (GradeReport.to_dict, read back by read_log as a GradeReport): what
ran (the notebook and its SHA-256, when, with which isolation), each phase's seconds, every check's result,
the child's log tail and the traceback of any error on the grader's side: what the student's feedback promises
is "reported to the instructor". A readable `.log` sits beside it. The SHA-256 decides regrades (a resubmitted
notebook differs); nbgrader's step records this file into gradebook.db, and the per-check export, the class
report and the batch summary are built from these files: every view reads the same record.
"""
from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path

from .paths import CourseLayout
from .results import GradeReport


def fingerprint(path: Path) -> str:
    """SHA-256 of a file's bytes ("" when it cannot be read)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def now() -> str:
    """The time a record is made, in UTC (ISO 8601, seconds)."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def write_record(path: Path, report: GradeReport) -> Path:
    """Write the record as JSON (atomically) and as readable text beside it; returns the JSON's path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(report.to_dict(), indent=1) + "\n")
    tmp.replace(path)
    path.with_suffix(".log").write_text(as_text(report))
    return path


def write_log(layout: CourseLayout, report: GradeReport) -> Path:
    """Write the submission's record where the course keeps it (layout.submission_log)."""
    return write_record(layout.submission_log(report.student, report.assignment), report)


def as_text(report: GradeReport) -> str:
    """The record for a person: what ran, the phases' times, problems with tracebacks, the child's log tail."""
    lines = [f"{report.student} / {report.assignment}: {report.totals.text()} in {report.execution_time:.1f} s, "
             f"graded {report.graded_at}",
             f"notebook:  {report.notebook} (sha256 {report.sha256[:16]})",
             f"isolation: {report.isolation or 'not run (unreadable notebook)'}"]
    if report.unreadable:
        lines.append(f"unreadable: {report.unreadable}")
    lines.append("phases (seconds):")
    lines += [f"  {name:<60} {secs:8.2f}" for name, secs in report.phases.items()]
    lines += [f"note: {n}" for n in report.notes]
    lines.append(f"grader-side problems: {len(report.grader_problems) or 'none'}")
    lines += [f"--- {p}" for p in report.grader_problems]
    lines.append("checks:")
    lines += [f"  {c.line()}" for c in report.checks]
    lines += ["child's log tail:", report.log_tail or "  (empty)"]
    return "\n".join(lines) + "\n"


def read_record(path: Path) -> GradeReport | None:
    """The record a file holds, or None (missing, or not a record)."""
    try:
        return GradeReport.from_dict(json.loads(Path(path).read_text()))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def read_log(layout: CourseLayout, student: str, assignment: str) -> GradeReport | None:
    """The last record of a submission, or None."""
    return read_record(layout.submission_log(student, assignment))


def read_logs(layout: CourseLayout, assignment: str) -> list[GradeReport]:
    """Every logged submission of an assignment, by student."""
    folder = layout.submission_log("x", assignment).parent
    records = [read_record(path) for path in sorted(folder.glob("*.json"))] if folder.is_dir() else []
    return [r for r in records if r is not None]
