"""Helpers the probes share: finding a student's function, lending it reference helpers."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from ..sandbox.recorder import Recorder


class Missing(Exception):
    """The notebook does not define a name the probe needs."""


def student(ns: dict, name: str, rec: Recorder) -> Any:
    """The student's definition of `name`, or record that it is missing and stop the probe."""
    if name not in ns:
        rec.note("_missing", name)
        raise Missing(name)
    return ns[name]


@contextlib.contextmanager
def lent(ns: dict, **helpers: Any) -> Iterator[None]:
    """Swap in grader helpers under these names while a probe runs (isolated credit)."""
    saved = {name: ns[name] for name in helpers if name in ns}
    ns.update(helpers)
    try:
        yield
    finally:
        for name in helpers:
            ns.pop(name, None)
        ns.update(saved)
