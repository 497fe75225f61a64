"""Diagnosis rate: grade every mutant (each assignment's trusted/mutants.py) once and say, per mutant, whether
its feedback names the right known mistake (trusted/diagnoses.py), a wrong one, or none.

    make diagnosis-rate                       # every mutant
    .venv/bin/python benchmarks/diagnosis_rate.py --only tl_ loss_   # mutants whose id starts so

Exits 1 when any mutant is diagnosed with a wrong mistake. tests/test_mutants.py asserts the same.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

from autograder.batch import grade_many
from autograder.config import load_config
from tests.catalog import EXPECTED, MUTANTS, named, outcome
from tests.helpers import with_functions, write


def main(argv: list[str] | None = None) -> int:
    """Grade the mutants and print right / wrong / none per mutant and in total."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--only", nargs="*", default=[], help="grade only mutants whose id starts with one of these")
    options = args.parse_args(argv)
    mutants = [m for m in MUTANTS if not options.only or m.id.startswith(tuple(options.only))]
    config = dataclasses.replace(load_config(), cell_time_limit_s=5, check_time_limit_s=30,
                                 submission_time_limit_s=120)
    with tempfile.TemporaryDirectory(prefix="diagnosis-") as folder:
        jobs = [(write(with_functions(m.assignment, {m.function: m.source}), Path(folder) / f"{m.id}.ipynb"),
                 m.assignment) for m in mutants]
        reports = grade_many(jobs, config, workers=2)
    counts = {"right": 0, "wrong": 0, "none": 0}
    for mutant, report in zip(mutants, reports):
        result = outcome(mutant.id, report)
        counts[result] += 1
        print(f"{result:<6} {mutant.id:<36} named {sorted(named(report)) or '-'}; "
              f"expected {sorted(EXPECTED.get(mutant.id, set())) or '-'}")
    total = len(mutants)
    print(f"\ndiagnosis over {total} mutants: {counts['right']} right ({counts['right'] / total:.0%}), "
          f"{counts['wrong']} wrong, {counts['none']} none")
    return 1 if counts["wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
