"""The grader's log of each graded submission, under the course directory: logs/<assignment>/<student>.json.

It holds what ran (the notebook and its SHA-256, when, with which isolation), each phase's seconds, every
check's result, the child's log tail and the traceback of any error on the grader's side: what the
student's feedback promises is "reported to the instructor". A readable `.log` sits beside it. The
SHA-256 decides regrades (a resubmitted notebook differs), and the per-check export and the class
report are built from these files.
"""
from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from .paths import CourseLayout
from .results import GradeReport


def fingerprint(path: Path) -> str:
    """SHA-256 of a file's bytes ("" when it cannot be read)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def record_of(student: str, notebook: Path, report: GradeReport, problem: str = "",
              grader_problems: list[str] | None = None) -> dict:
    """The log entry of one graded submission (JSON-ready)."""
    return {
        "student": student,
        "assignment": report.assignment,
        "notebook": str(notebook),
        "sha256": fingerprint(notebook),
        "graded_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "isolation": report.isolation or "not run (unreadable notebook)",
        "score": report.score,
        "max_score": sum(c.max_score for c in report.checks),
        "execution_time": round(report.execution_time, 3),
        "phases": {k: round(v, 3) for k, v in report.phases.items()},
        "unreadable": report.unreadable,
        "problem": problem,
        "notes": report.notes,
        "grader_problems": list(grader_problems if grader_problems is not None else report.grader_problems),
        "checks": [asdict(c) for c in report.checks],
        "log_tail": report.log_tail,
    }


def write_log(layout: CourseLayout, record: dict) -> Path:
    """Write the record as JSON and as readable text beside it; returns the JSON's path."""
    path = layout.submission_log(record["student"], record["assignment"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    tmp.replace(path)
    path.with_suffix(".log").write_text(as_text(record))
    return path


def as_text(record: dict) -> str:
    """The record for a person: what ran, the phases' times, problems with tracebacks, the child's log tail."""
    lines = [f"{record['student']} / {record['assignment']}: {record['score']:g}/{record['max_score']:g} "
             f"in {record['execution_time']:.1f} s, graded {record['graded_at']}",
             f"notebook:  {record['notebook']} (sha256 {record['sha256'][:16]})",
             f"isolation: {record['isolation']}"]
    if record["unreadable"]:
        lines.append(f"unreadable: {record['unreadable']}")
    if record["problem"]:
        lines.append(f"problem: {record['problem']}")
    lines.append("phases (seconds):")
    lines += [f"  {name:<60} {secs:8.2f}" for name, secs in record["phases"].items()]
    lines += [f"note: {n}" for n in record["notes"]]
    lines.append(f"grader-side problems: {len(record['grader_problems']) or 'none'}")
    lines += [f"--- {p}" for p in record["grader_problems"]]
    lines.append("checks:")
    lines += [f"  {'PASS' if c['score'] >= c['max_score'] else 'FAIL'} {c['name']} {c['score']:g}/{c['max_score']:g}"
              + ("" if c["score"] >= c["max_score"] else f": {c['output']}") for c in record["checks"]]
    lines += ["child's log tail:", record["log_tail"] or "  (empty)"]
    return "\n".join(lines) + "\n"


def read_log(layout: CourseLayout, student: str, assignment: str) -> dict | None:
    """The last log record of a submission, or None."""
    path = layout.submission_log(student, assignment)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def read_logs(layout: CourseLayout, assignment: str) -> list[dict]:
    """Every logged submission of an assignment, by student."""
    folder = layout.submission_log("x", assignment).parent
    records = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            records.append(json.loads(path.read_text()))
        except ValueError:
            continue
    return records
