"""The base of every assignment's keys.py: a probe of one graded cell, named by its grade id.

Standard library only: the sandbox child imports it with each keys.py.
"""
from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Probe:
    """A probe of one graded cell; an assignment's keys class adds one field per key the probe records.

    The probe records every key on every run (a value, or a `Recorder.skip` saying why not), so a key student code
    recorded first is sent twice and voids the probe; the judge voids a probe that lacks one of its fields' keys.
    """

    grade_id: str

    def declared(self) -> tuple[str, ...]:
        """The keys of this class's fields (keys that take a number, such as an epoch's, are methods)."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name != "grade_id")


@dataclass(frozen=True)
class GradientKeys:
    """What assignments.probing.record_gradient records (expect.expect_gradient reads it): the float64 loss, its
    gradient with respect to the input, and gradcheck's verdict. The keys class of a probe that calls it derives
    from it too (`class LossFnKeys(GradientKeys, Probe)`), so these are among the probe's declared keys."""

    loss64: str = "loss64"
    grad64: str = "grad64"
    gradcheck: str = "gradcheck"
