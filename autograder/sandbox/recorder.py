"""Evidence of what student code returned, written by probes inside the child.

Values are reduced to plain tensors (saved with safetensors) and JSON numbers and
strings: formats that cannot run code when the trusted side reads them.

Each record leaves the process the moment it is made: a line of <probe>.json or a file
<probe>.t<n>.safetensors, sent on the channel to the launcher. Nothing student code does
afterwards (a later call, a thread) can change what was recorded; a key sent twice (a forgery
that tries to come first) voids the probe's evidence (evidence.load_evidence). A probe records
every key it declares on every run (`skip` when it has no value for one) and ends with FINISHED,
so a forgery is always sent twice: the judge voids a probe without FINISHED or with PROBE_FAILED.
And a probe whose student code leaves a thread or process running beside it is voided too (`UNTRUSTED`).
"""
from __future__ import annotations

import json
import math
import traceback
from typing import Any, Callable

import numpy as np
import torch
from safetensors.torch import save as save_tensors

MAX_ELEMENTS = 20_000_000
MAX_ITEMS = 1000
MAX_TEXT = 300
# numpy's scalars (np.mean, np.average, ...) count as numbers; their exact types only, since a
# subclass may override item(). Checks that ask for a Python float read "type".
NUMPY_SCALARS = (np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
                 np.uint64, np.uint32, np.uint16, np.uint8)
# The note `probing.student` makes when the notebook lacks a name the probe needs; Evidence.probe reads it.
MISSING = "_missing"
# The note a probe makes when student code left a thread or process running beside it: its evidence is void.
UNTRUSTED = "_untrusted"
# The record of a probe whose own code raised (child.Child.run_probes), and the note it makes when its code ran
# to the end: the judge voids a probe with the first or without the second (keys it would have recorded later may
# have been forged by student code; evidence.load_evidence).
PROBE_FAILED = "_probe"
FINISHED = "_finished"
# The kind of the record a probe makes for a key it could not record a value for (`Recorder.skip`).
SKIPPED = "skipped"
LEFT_RUNNING = ("left {} running beside the grader (a thread or process could change what the grader "
                "recorded, so this part gets no points; end every thread and process you start)")


def item(key: str, *indices: int) -> str:
    """The key of an item of a list or tuple recorded under `key`: item("returned", 0) is "returned/0"."""
    return "/".join([key, *map(str, indices)])


def _text(value: object) -> str:
    try:
        text = str(value)
    except BaseException:  # noqa: BLE001 - a hostile __str__ must not break the probe
        text = "<unprintable>"
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "..."


def _number(value: float) -> float | str:
    return value if math.isfinite(value) else repr(value)


def student_error(err: BaseException) -> dict:
    """An exception from student code as a message: type, text, and the student's line."""
    where = ""
    for frame in traceback.extract_tb(err.__traceback__):
        if frame.filename.startswith("<cell"):
            where = f"{frame.filename.strip('<>')}, line {frame.lineno}"
    if isinstance(err, SystemExit):
        return {"error": "SystemExit", "message": f"called sys.exit({_text(err.code)})", "where": where}
    return {"error": type(err).__name__, "message": _text(err), "where": where}


class Recorder:
    """Collects one probe's evidence: tensors, numbers and notes under string keys, each sent as it is made.

    channel: anything with file(name, bytes) (autograder.sandbox.child.Channel); None keeps the tensors in
    `tensors` instead (the grader's own runs of a probe: calibration, tests). guard: heals patches and counts
    threads and processes (guard.Guard).
    """

    # No instance __dict__: student code that reaches a Recorder cannot shadow its methods.
    __slots__ = ("probe", "meta", "tensors", "_guard", "_channel", "_sent")

    def __init__(self, probe: str, guard: Any = None, channel: Any = None) -> None:
        self.probe = probe
        self.meta: dict[str, Any] = {}  # what was sent, for probes that read a result back
        self.tensors: dict[str, torch.Tensor] = {}  # without a channel only
        self._guard = guard
        self._channel = channel
        self._sent = 0

    def _heal(self) -> None:
        """Undo whatever student code patched (see guard.py) before the grader's own code goes on; void the
        probe if student code left a thread or process running.

        The note is sent every time the guard finds something running, decided by nothing but the guard's
        count: no flag or dict that student code could reach (through frames) and set to hold it back. The
        judge keeps the first (evidence._records)."""
        if self._guard is not None:
            self._guard.heal()
            running = self._guard.left_running()
            if running:
                self._record(UNTRUSTED, LEFT_RUNNING.format(running))

    def _record(self, key: str, value: Any) -> None:
        """Serialise one record now and send it: later code cannot change it."""
        line = json.dumps({key: value}, default=_text).encode() + b"\n"
        self.meta[key] = json.loads(line)[key]
        if self._channel is not None:
            self._channel.file(f"{self.probe}.json", line)

    def _tensor(self, key: str, value: torch.Tensor) -> None:
        plain = value.detach().to("cpu", copy=True).contiguous()
        if self._channel is None:
            self.tensors[key] = plain
            return
        self._sent += 1
        self._channel.file(f"{self.probe}.t{self._sent}.safetensors", save_tensors({key: plain}))

    def note(self, key: str, value: Any) -> None:
        """Record a JSON-able note (bool, number, short string, list of those) made by probe code."""
        self._heal()
        self._record(key, value)

    def output(self, key: str, value: Any, depth: int = 0) -> None:
        """Record what student code returned, reduced to plain data."""
        if depth == 0:
            self._heal()
        kind = type(value)
        if issubclass(kind, torch.Tensor):
            # Subclasses may override anything: look through them at the plain tensor.
            plain = value if kind in (torch.Tensor, torch.nn.Parameter) else torch.Tensor.as_subclass(
                value, torch.Tensor)
            info = {"kind": "tensor", "dtype": str(plain.dtype).removeprefix("torch."),
                    "shape": list(plain.shape), "requires_grad": bool(plain.requires_grad),
                    "has_grad_fn": plain.grad_fn is not None}
            if plain.layout != torch.strided or plain.is_complex() or plain.numel() > MAX_ELEMENTS:
                info["kind"] = "unsupported tensor"
            else:
                self._tensor(key, plain)
            self._record(key, info)
        elif kind is bool:
            self._record(key, {"kind": "bool", "value": bool(value)})
        elif kind is int:
            self._record(key, {"kind": "number", "value": int(value) if abs(value) < 2**53 else float(value)})
        elif kind is float:
            self._record(key, {"kind": "number", "value": _number(float(value))})
        elif kind in NUMPY_SCALARS:
            self._record(key, {"kind": "number", "value": _number(float(value.item())),
                               "type": f"numpy.{kind.__name__}"})
        elif kind in (list, tuple) and depth < 3:
            items = list(value)[:MAX_ITEMS]
            self._record(key, {"kind": kind.__name__, "length": len(value)})
            for i, element in enumerate(items):
                self.output(item(key, i), element, depth + 1)
        else:
            self._record(key, {"kind": "other", "type": _text(getattr(kind, "__name__", "?"))})

    def failure(self, key: str, err: BaseException) -> None:
        """Record that student code raised instead of returning."""
        self._record(key, {"kind": "raised", **student_error(err)})

    def skip(self, key: str, reason: str) -> None:
        """Record that the probe could not record `key`, and why ("make_dnn() did not return an nn.Module"): every
        key a probe declares is recorded on every run, so a key student code recorded first is sent twice."""
        self._heal()
        self._record(key, {"kind": SKIPPED, "reason": reason})

    def call(self, key: str, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        """Call student code; record its result (or exception) under `key`; return the result or None."""
        try:
            result = fn(*args, **kwargs)
        except BaseException as err:  # noqa: BLE001 - SystemExit too: it is the student's
            self._heal()
            self.failure(key, err)
            return None
        self._heal()
        self.output(key, result)
        return result

    def close(self) -> None:
        """The probe is over: a last look for threads and processes, and an (empty) record, so that a probe
        that recorded nothing still has its file."""
        self._heal()
        if self._channel is not None:
            self._channel.file(f"{self.probe}.json", b"{}\n")
