"""Known-mistake diagnosis: name the likely mistake behind a failed check, from its evidence.

Each assignment has a catalog of mistakes (autograder/assignments/<assignment>/trusted/mistakes.py). A mistake says
which checks it explains and how to recognise it: by recomputing, with grader-written code on the
submission's own inputs, what the mistaken function returns (the reference with the mistake
applied), and comparing that with what the student's function returned, within the check's own
tolerance. The student's code is never run here. A mistake is named only when exactly one
catalogued mistake matches; when none or several match, the check's message stays as it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

import torch

from . import assignments
from .evidence import Evidence, ProbeEvidence
from .expect import CheckFailed
from .results import Status

# Reading evidence or replaying a mistake can fail for reasons that mean only "this mistake does not
# fit" (a key missing, a shape that does not broadcast): the mistake is then simply not named.

NOT_A_MATCH = (CheckFailed, KeyError, IndexError, ValueError, TypeError, RuntimeError, AttributeError,
               ArithmeticError)


@dataclass(frozen=True)
class Mistake:
    """A catalogued mistake: what it is called, the checks it explains, how to spot it, what to look at.

    matches(probe, inputs, quiet) -> bool receives the evidence of the checks' probe, the grader's inputs
    and the suites' `quiet` (runs reference code without its prints).
    """

    id: str
    checks: tuple[str, ...]
    title: str
    advice: str
    matches: Callable[[ProbeEvidence, dict, Callable], bool]


@dataclass(frozen=True)
class Diagnosis:
    """The mistake named for one failed check, and the sentence added to its message."""

    mistake: str
    text: str


def diagnose(catalog: dict[str, list[Mistake]], grade_id_of: dict[str, str], failed: Iterable[str],
             evidence: Evidence, inputs: dict, quiet: Callable) -> dict[str, Diagnosis]:
    """A diagnosis for every failed check whose evidence matches exactly one catalogued mistake.

    catalog: mistakes by grade_id (the probe that gathered the evidence); grade_id_of: check -> grade_id.
    """
    verdicts: dict[tuple[str, str], bool] = {}
    result: dict[str, Diagnosis] = {}
    for check in failed:
        grade_id = grade_id_of.get(check, "")
        candidates = [m for m in catalog.get(grade_id, []) if check in m.checks]
        if not candidates:
            continue
        try:
            probe = evidence.probe(grade_id)
        except CheckFailed:
            continue
        found = []
        for mistake in candidates:
            key = (grade_id, mistake.id)
            if key not in verdicts:
                verdicts[key] = _matches(mistake, probe, inputs, quiet)
            if verdicts[key]:
                found.append(mistake)
        if len({m.id for m in found}) == 1:
            mistake = found[0]
            # the advice stays as written: it may begin with code ("loss.backward() ..."), whose case matters
            result[check] = Diagnosis(mistake.id, f"Likely mistake: {mistake.title}. Look at: {mistake.advice}")
    return result


def _matches(mistake: Mistake, probe: ProbeEvidence, inputs: dict, quiet: Callable) -> bool:
    try:
        return bool(mistake.matches(probe, inputs, quiet))
    except NOT_A_MATCH:
        return False


# Helpers for the catalogs: compare evidence with what a mistake computes.

def close(actual: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float) -> bool:
    """Same shape, finite, and |actual - expected| <= atol + rtol * |expected| everywhere."""
    if tuple(actual.shape) != tuple(expected.shape):
        return False
    a, e = actual.detach().double(), expected.detach().double()
    return bool(torch.isfinite(a).all()) and bool(((a - e).abs() <= atol + rtol * e.abs()).all())


def tensor(probe: ProbeEvidence, key: str, numel: int | None = None) -> torch.Tensor:
    """The tensor the student's function returned under `key` (CheckFailed when it returned none, or not `numel`
    values where a mistake converts or sorts them)."""
    return probe.tensor(key, key, numel)


def returned(probe: ProbeEvidence, key: str, expected: torch.Tensor | float, tol: dict[str, float]) -> bool:
    """The value recorded under `key` (a tensor, or a number) equals `expected` within `tol`."""
    entry = probe.meta.get(key)
    if not isinstance(entry, dict):
        return False
    expected = torch.as_tensor(expected, dtype=torch.float64)
    if entry.get("kind") == "number" or (entry.get("kind") == "tensor" and expected.dim() == 0):
        got = torch.tensor(probe.number(key, key), dtype=torch.float64)
        return close(got, expected, **tol)
    return close(tensor(probe, key), expected, **tol)


def raised(probe: ProbeEvidence, key: str, error: str, *fragments: str) -> bool:
    """The student's function raised `error` under `key`, with every fragment in its message."""
    entry = probe.meta.get(key)
    if not isinstance(entry, dict) or entry.get("kind") != "raised" or entry.get("error") != error:
        return False
    message = str(entry.get("message", ""))
    return all(f in message for f in fragments)


def all_zero(probe: ProbeEvidence, keys: Iterable[str]) -> bool:
    """Every value recorded under `keys` is zero (tensors or numbers): a placeholder, not a computation."""
    for key in keys:
        entry = probe.meta.get(key)
        if not isinstance(entry, dict):
            return False
        if entry.get("kind") == "number":
            if float(entry.get("value", 1)) != 0:
                return False
        elif entry.get("kind") == "tensor":
            value = tensor(probe, key)
            if value.numel() == 0 or bool(value.ne(0).any()):
                return False
        else:
            return False
    return True


def first(items: Iterable[Any]) -> Any:
    """The first item (for catalogs that read one of several recorded runs)."""
    return next(iter(items))


def mistake_titles(assignment: str) -> dict[str, str]:
    """The title of every catalogued mistake of `assignment`, by id."""
    catalog = assignments.module(assignment, "mistakes").MISTAKES
    return {m.id: m.title for mistakes in catalog.values() for m in mistakes}


def diagnose_verdicts(assignment: str, verdicts: dict, evidence: Evidence, inputs: dict,
                      grade_id_of: dict[str, str]) -> dict[str, Diagnosis]:
    """Diagnoses of the checks that failed on their own (FAILED or ABSENT), by check name.

    verdicts: autograder.suite.Verdict by check name. The catalog is the assignment's trusted/mistakes.py.
    """
    catalog = assignments.module(assignment, "mistakes").MISTAKES
    failed = [name for name, v in verdicts.items() if v.status in (Status.FAILED, Status.ABSENT)]
    return diagnose(catalog, grade_id_of, failed, evidence, inputs, _quietly)


def _quietly(fn: Callable, *args: Any) -> Any:
    from .suite import _quietly as quietly

    return quietly(fn, *args)
