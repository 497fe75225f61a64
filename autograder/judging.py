"""What the hidden suites judge with: evidence from the sandbox, comparisons, student messages.

Pure logic on plain data: nothing here runs student code or unpickles anything.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors.torch import load_file

from .wording import allowance, compared

MAX_EVIDENCE_BYTES = 256 * 1024 * 1024
MAX_META_BYTES = 8 * 1024 * 1024


class CheckFailed(AssertionError):
    """A check failed; the message is for the student: what was checked, expected, and found."""


def raised_message(entry: dict) -> str:
    """'your code raised ValueError: ... (cell 7, line 3)', for a recorded exception."""
    where = f" ({entry['where']})" if entry.get("where") else ""
    if entry.get("error") == "NotImplementedError":
        return f"your code is not implemented yet (it raised NotImplementedError{where})"
    message = f": {entry['message']}" if entry.get("message") else ""
    return f"your code raised {entry.get('error')}{message}{where}"


@dataclass
class ProbeEvidence:
    """One probe's record: JSON metadata and tensors, by key."""

    name: str
    what: str
    meta: dict[str, Any] = field(default_factory=dict)
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)

    def _entry(self, key: str, what: str) -> dict:
        entry = self.meta.get(key)
        if not isinstance(entry, dict):
            earlier = next((e for e in self.meta.values() if isinstance(e, dict) and e.get("kind") == "raised"), None)
            if earlier is not None:
                raise CheckFailed(f"{what}: not reached, because {raised_message(earlier)}")
            raise CheckFailed(f"{what}: no result was recorded")
        if entry.get("kind") == "raised":
            raise CheckFailed(f"{what}: {raised_message(entry)}")
        return entry

    def tensor(self, key: str, what: str) -> torch.Tensor:
        """The tensor recorded under `key`, or CheckFailed saying what came back instead."""
        entry = self._entry(key, what)
        if entry.get("kind") != "tensor" or key not in self.tensors:
            found = entry.get("type") or entry.get("kind")
            raise CheckFailed(f"{what}: expected a tensor, got {found}")
        return self.tensors[key]

    def info(self, key: str, what: str) -> dict:
        """The metadata recorded for a returned value (kind, dtype, shape, requires_grad, ...)."""
        return self._entry(key, what)

    def number(self, key: str, what: str) -> float:
        """A Python number (or one-element tensor) recorded under `key`."""
        entry = self._entry(key, what)
        if entry.get("kind") == "number":
            value = entry["value"]
            return float(value)  # non-finite values travel as the strings "nan", "inf", "-inf"
        if entry.get("kind") == "tensor" and self.tensors.get(key, torch.empty(0)).numel() == 1:
            return float(self.tensors[key].double().item())
        raise CheckFailed(f"{what}: expected a number, got {entry.get('type') or entry.get('kind')}")

    def note(self, key: str, default: Any = None) -> Any:
        """A note the probe made (not a returned value)."""
        return self.meta.get(key, default)


@dataclass
class Evidence:
    """Everything the sandbox produced for one submission."""

    probes: dict[str, ProbeEvidence]
    lost: dict[str, str]
    labels: dict[str, str]
    cells: dict[int, dict]

    def probe(self, grade_id: str) -> ProbeEvidence:
        """The evidence of probe `grade_id`, or CheckFailed explaining why there is none."""
        what = self.labels.get(f"probe:{grade_id}", grade_id)
        if f"probe:{grade_id}" in self.lost:
            raise CheckFailed(f"{what}: {self.lost[f'probe:{grade_id}']}")
        found = self.probes.get(grade_id)
        if found is None:
            raise CheckFailed(f"{what}: the grader recorded no result for it")
        missing = found.meta.get("_missing")
        if missing:
            raise CheckFailed(f"{what}: your notebook does not define {missing}{self._why_missing(missing)}")
        if isinstance(found.meta.get("_probe"), dict) and found.meta["_probe"].get("kind") == "raised":
            bad = found.meta["_probe"]
            found.meta.setdefault("_failure", f"{bad.get('error')}: {bad.get('message')}")
        return found

    def _defines(self, index: int, cell: dict | None) -> list[str]:
        """Names a cell of the student's notebook defines (from its label "cell 7 (f, g)")."""
        names = [cell["defines"]] if cell and cell.get("defines") else []
        label = self.labels.get(f"cell:{index}", "")
        if label.endswith(")") and " (" in label:
            names += label[label.index(" (") + 2:-1].split(", ")
        return names

    def _why_missing(self, name: str) -> str:
        for index, cell in sorted(self.cells.items()):
            if name in self._defines(index, cell) and not cell.get("ok", True):
                where = cell.get("where") or f"cell {index}"
                message = f": {cell.get('message')}" if cell.get("message") else ""
                return f" because its cell failed ({where}: {cell.get('error')}{message})"
        for phase, why in self.lost.items():
            kind, _, index = phase.partition(":")
            if kind == "cell" and index.lstrip("-").isdigit() and name in self._defines(int(index), None):
                return f" because {self.labels.get(phase, phase)} {why}"
        return ""


def load_evidence(folder: Path, lost: dict[str, str], labels: dict[str, str],
                  cell_defines: dict[int, str]) -> Evidence:
    """Read the child's evidence folder: JSON with a size cap, tensors with safetensors (no pickle)."""
    folder = Path(folder)
    probes: dict[str, ProbeEvidence] = {}
    cells: dict[int, dict] = {}
    budget = MAX_EVIDENCE_BYTES
    for path in sorted(folder.glob("*.json")):
        size = path.stat().st_size
        if size > MAX_META_BYTES or not path.is_file() or path.is_symlink():
            continue
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except Exception:  # noqa: BLE001 - not JSON, or nested deep enough to exhaust the recursion limit
            continue
        if not isinstance(meta, dict):
            continue
        if path.stem.startswith("cell-"):
            try:
                index = int(path.stem[5:])
            except ValueError:
                continue
            cells[index] = {**meta, "defines": cell_defines.get(index)}
            continue
        tensors: dict[str, torch.Tensor] = {}
        blob = path.with_suffix(".safetensors")
        if blob.is_file() and not blob.is_symlink() and blob.stat().st_size <= budget:
            budget -= blob.stat().st_size
            try:
                tensors = load_file(blob)
            except Exception:  # noqa: BLE001 - a corrupt file is no evidence, never a crash
                tensors = {}
        probes[path.stem] = ProbeEvidence(path.stem, labels.get(f"probe:{path.stem}", path.stem), meta, tensors)
    return Evidence(probes, lost, labels, cells)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def expect_shape(actual: torch.Tensor, shape: tuple[int, ...], what: str) -> None:
    """Fail unless `actual` has exactly this shape."""
    if tuple(actual.shape) != tuple(shape):
        raise CheckFailed(f"{what}: expected shape {tuple(shape)}, got {tuple(actual.shape)}")


def expect_close(actual: torch.Tensor, expected: torch.Tensor, what: str, *, rtol: float, atol: float) -> None:
    """Fail unless shapes match and |actual - expected| <= atol + rtol * |expected| everywhere."""
    expect_shape(actual, tuple(expected.shape), what)
    if actual.dtype == torch.bool or expected.dtype == torch.bool:
        actual, expected = actual.to(torch.int64), expected.to(torch.int64)
    a, e = actual.detach().double(), expected.detach().double()
    if not torch.isfinite(a).all():
        bad = (~torch.isfinite(a)).nonzero()[0].tolist()
        raise CheckFailed(f"{what}: got a non-finite value {_fmt(a[tuple(bad)].item())} at index {tuple(bad)}")
    err = (a - e).abs()
    allowed = atol + rtol * e.abs()
    if (err > allowed).any():
        idx = tuple(int(i) for i in torch.unravel_index((err - allowed).flatten().argmax(), err.shape)) \
            if err.dim() else ()
        at = f" at index {idx}" if idx else ""
        words = compared(a[idx].item(), e[idx].item())
        raise CheckFailed(f"{what}: expected {_fmt(e[idx].item())}{at}, got {_fmt(a[idx].item())}"
                          f"{f' ({words})' if words else ''}. The largest difference is {_fmt(err.max().item())}; "
                          f"{allowance(rtol, atol)}.")


def expect_equal(actual: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    """Fail unless shapes and every value match exactly (integers, classes, orders)."""
    expect_shape(actual, tuple(expected.shape), what)
    if not torch.equal(actual.to(expected.dtype), expected):
        diff = (actual.to(expected.dtype) != expected).nonzero()[0].tolist()
        idx = tuple(diff)
        raise CheckFailed(f"{what}: expected {expected[idx].item()} at index {idx}, got {actual[idx].item()}")


def expect_gradient(probe: ProbeEvidence, what: str, reference: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                    x64: torch.Tensor, target64: torch.Tensor, *, rtol: float, atol: float) -> None:
    """What probes.common.record_gradient saw: the gradient matches the reference's, and gradcheck passed.

    what: "gradient of loss_fn with respect to the predictions", for messages.
    """
    label = f"{what} (computed in float64, double precision)"
    grad = probe.tensor("grad64", label)
    x = x64.clone().requires_grad_()
    expected = torch.autograd.grad(reference(x, target64).sum(), x)[0]
    expect_close(grad, expected, label, rtol=rtol, atol=atol)
    info = probe.info("gradcheck", "torch.autograd.gradcheck in float64")
    expect(info.get("value") is True, f"torch.autograd.gradcheck failed for the {what}: the analytical "
           "gradient does not match finite differences")


def expect(condition: bool, message: str) -> None:
    """Fail with `message` unless `condition` holds."""
    if not condition:
        raise CheckFailed(message)
