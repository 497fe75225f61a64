"""`make demo`: the whole job on built-in data, in a fresh course directory under build/.

release -> a handful of generated submissions (the reference, known-wrong implementations,
a notebook that never finishes, a file that is not JSON) -> autograde (on a local Dask cluster,
one worker process per core) -> feedback -> export (grades.csv, the per-check checks.csv) -> class
reports -> Gradescope zips -> a summary table that ends with where each of them is.
"""
from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

import nbformat

from . import assignments, nbgrader_cells
from .authoring.build import solution_notebook
from .cli import SUMMARY_HEAD
from .config import CourseConfig
from .course import autograde_course, export_grades, generate_feedback
from .engine import engine, workers_started
from .exports import export_checks
from .gradescope import build_autograder_zip
from .nbgrader_setup import nbgrader_api
from .operator_checks import GRADED, GRADER_PROBLEMS
from .paths import PROJECT_ROOT, CourseLayout
from .report import build_report
from .sandbox.limits import Isolation, isolation

NEVER_FINISHES = "while True:\n    pass\n"
# What each missing part of full isolation is called in the demo's paragraph (autograder.sandbox.limits.MISSING).
PARTS = {"namespaces": "namespaces", "memory": "a memory cgroup", "pids": "a pids cgroup", "cpu": "a cpu cgroup"}


def weak_isolation_paragraph(status: Isolation) -> str:
    """What the demo says where this machine's sandbox is weaker than full isolation: that it grades anyway (its
    own submissions only), that real grading refuses, and the three ways to full isolation."""
    missing = [PARTS[part] for part in status.missing]
    lost = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1]
    return ("Isolation: the sandbox here lacks " + lost + " (weak isolation). The demo grades only the kit's own "
            "submissions, so it goes ahead, and every result says so; `tensorgrade autograde` and `grade` refuse "
            "real submissions like this (exit 3) unless ALLOW_WEAK_ISOLATION = True. For full isolation run as "
            "root, in the container, or on a cgroup v2 host with systemd as yourself (the grader asks systemd for "
            "a delegated cgroup): README, \"Full isolation\".")


def _submissions(config: CourseConfig, assignment: str) -> dict[str, str | None]:
    """Student id -> notebook text (None: a file that is not JSON)."""
    reference = solution_notebook(config, assignment)
    result: dict[str, str | None] = {"reference": nbformat.writes(reference)}
    for student, (function, source) in assignments.module(assignment, "known_wrong").KNOWN_WRONG.items():
        nb = solution_notebook(config, assignment)
        nbgrader_cells.find(nb.cells, function).source = source
        result[student] = nbformat.writes(nb)
    stuck = solution_notebook(config, assignment)
    stuck.cells.insert(2, nbformat.v4.new_code_cell(NEVER_FINISHES))
    result["never_finishes"] = nbformat.writes(stuck)
    result["not_json"] = None
    return result


def make_course(root: Path, config: CourseConfig) -> None:
    """A fresh nbgrader course directory: source/, nbgrader_config.py, release/, submissions."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(PROJECT_ROOT / "source", root / "source")
    shutil.copyfile(PROJECT_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    api = nbgrader_api(root, config)
    for name, spec in config.assignments.items():
        result = api.generate_assignment(name, force=True, create=True)
        if not result.get("success"):
            raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{result.get('error')}")
        for student, text in _submissions(config, name).items():
            target = root / "submitted" / student / name / spec.notebook
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text if text is not None else '{"cells": [ this is not JSON')


def run_demo(config: CourseConfig, root: Path = PROJECT_ROOT / "build" / "demo-course") -> int:
    """Release, submit, autograde, feedback, export; print a summary. Returns an exit code."""
    started = time.monotonic()
    status = isolation()
    weak = "" if status.full else weak_isolation_paragraph(status)
    if weak:
        print(f"{weak}\n")
        config = dataclasses.replace(config, allow_weak_isolation=True)
    print(f"course directory: {root}")
    make_course(root, config)
    layout = CourseLayout(root)
    rows, pageless = [], []
    with engine(config) as client:
        print(f"grading on a local Dask cluster of {workers_started(client)} worker processes")
        for name in config.assignments:
            for outcome in autograde_course(name, root, config, client=client):
                rows.append((name, outcome))
            pageless += [(name, student) for student in generate_feedback(name, root, config)]
    csv = export_grades(root, config.course_id, layout.grades_csv())
    checks = export_checks(root, config)
    print(f"\n{'assignment':<18} {SUMMARY_HEAD}\n(the same totals as grades.csv's auto_score, auto_max_score, "
          "awaiting_ta_points and grading_status, and the feedback pages)")
    for name, o in rows:
        print(f"{name:<18} {o.summary()}")
    troubled = [(name, o) for name, o in rows if o.grader_problems]
    for name, o in troubled:
        print(f"grader-side problem: {name} {o.student}: {o.grader_problems[0].splitlines()[0]} (log: {o.log})")
    for name, student in pageless:
        print(f"grader-side problem: {name} {student}: nbgrader generate_feedback wrote no feedback page (its error "
              "is in the warning above)")
    pages, zips = [], []
    for name in config.assignments:
        page, found = build_report(root, name, config)
        print(f"\nclass report of {name}:\n  " + "\n  ".join(found.summary()))
        pages.append(page)
        zips.append(build_autograder_zip(config, name, layout.gradescope_zip(name)))
    feedback = sorted((root / "feedback").rglob("*.html"))
    print(f"\ngradebook:  {layout.gradebook}\ngrades:     {csv}\nper check:  {checks}\nfeedback:   {len(feedback)} "
          f"HTML files under {root / 'feedback'}\nlogs:       {root / 'logs'}\nreports:    "
          + "\n            ".join(map(str, pages)) + "\ngradescope: " + "\n            ".join(map(str, zips))
          + f"\ntotal:      {time.monotonic() - started:.0f} s" + (f"\n\n{weak}" if weak else ""))
    return GRADER_PROBLEMS if troubled or pageless else GRADED
