"""The phases of a sandbox run, as one typed value: each cell of the program and each probe.

The child announces a phase on its socket as text ("BEGIN cell:7", "END probe:test_loss_fn"): `wire` writes that
text and `parse` reads it back, here only; everything else (the launcher's run, the evidence, the grade's notes
and timings) keys phases by Phase.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_CELL_KEY = re.compile(r"-?\d+")


@dataclass(frozen=True)
class Phase:
    """A cell of the program (its number in the student's notebook; negative: a setup cell of the release) or a
    probe (the grade id of the cell it probes)."""

    kind: str  # "cell" or "probe"
    key: int | str

    @classmethod
    def cell(cls, index: int) -> Phase:
        """The phase that runs cell `index`."""
        return cls("cell", int(index))

    @classmethod
    def probe(cls, grade_id: str) -> Phase:
        """The phase that runs the probe of `grade_id`."""
        return cls("probe", str(grade_id))

    @classmethod
    def parse(cls, text: str) -> Phase | None:
        """The phase a `wire` text names, or None for text that names none."""
        kind, _, key = text.partition(":")
        if kind == "cell" and _CELL_KEY.fullmatch(key):
            return cls.cell(int(key))
        if kind == "probe" and key:
            return cls.probe(key)
        return None

    @property
    def wire(self) -> str:
        """How the child's socket names it: 'cell:7', 'probe:test_loss_fn'."""
        return f"{self.kind}:{self.key}"

    @property
    def is_cell(self) -> bool:
        """Whether it runs a cell (else a probe)."""
        return self.kind == "cell"

    @property
    def is_student_cell(self) -> bool:
        """Whether it runs one of the student's own cells (not a setup cell of the release)."""
        return self.is_cell and int(self.key) > 0
