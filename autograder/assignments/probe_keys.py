"""The base of every assignment's keys.py: a probe of one graded cell, named by its grade id.

Standard library only: the sandbox child imports it with each keys.py.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Probe:
    """A probe of one graded cell; an assignment's keys class adds one field per key the probe records."""

    grade_id: str
