"""Helpers the probes share: finding a student's function, lending it reference helpers."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch

from ..sandbox.recorder import MISSING, Recorder
from .probe_keys import GradientKeys

GRADIENT = GradientKeys()


class Missing(Exception):
    """The notebook does not define a name the probe needs."""


def student(ns: dict, name: str, rec: Recorder) -> Any:
    """The student's definition of `name`, or record that it is missing and stop the probe."""
    if name not in ns:
        rec.note(MISSING, name)
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


def record_gradient(rec: Recorder, f: Any, x64: torch.Tensor, target64: torch.Tensor) -> None:
    """f(x, target) in float64: its gradient with respect to x and gradcheck's verdict, under GRADIENT's keys."""
    x = x64.clone().requires_grad_()
    loss = rec.call(GRADIENT.loss64, f, x, target64.clone())
    if not (isinstance(loss, torch.Tensor) and loss.requires_grad):
        why = "the loss it returned for float64 inputs is not a tensor that requires grad (no gradient to check)"
        rec.skip(GRADIENT.grad64, why)
        rec.skip(GRADIENT.gradcheck, why)
        return
    rec.call(GRADIENT.grad64, lambda: torch.autograd.grad(loss.sum(), x)[0])
    rec.call(GRADIENT.gradcheck, lambda: bool(torch.autograd.gradcheck(
        lambda q: f(q, target64), (x64.clone().requires_grad_(),), raise_exception=False)))
