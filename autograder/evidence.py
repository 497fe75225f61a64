"""The sandbox's evidence as the hidden checks read it: each probe's recorded values, and why one is missing.

Pure logic on plain data: nothing here runs student code or unpickles anything.
"""
from __future__ import annotations

import glob
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from .expect import CheckFailed, CodeAbsent
from .sandbox.launcher import MAX_EVIDENCE_BYTES, TAMPERED
from .sandbox.phases import Phase
from .sandbox.recorder import FINISHED, MAX_ITEMS, MISSING, PROBE_FAILED, SKIPPED, UNTRUSTED

# The probes' JSON records are small (a few kB: kinds, shapes, short notes; values travel as tensors). A
# forged record is parsed into Python objects about 25 times its size, so both the file and the total are
# capped: the judge's memory and time stay close to an honest submission's.
MAX_META_BYTES = 256 * 1024
MAX_META_TOTAL_BYTES = 2 * 1024 * 1024
# Strings the child wrote (exception messages, type names, notes) reach feedback, logs and CSV exports: the
# child's recorder cuts messages to 300 characters, and a forged record is cut here.
MAX_TEXT = 500
MAX_KEY = 200
# The recorder sends one tensor per safetensors file, under a key it also records in the probe's JSON as a
# tensor (recorder.Recorder._tensor): its header is a few hundred bytes. A file with a longer header, another
# count of tensors or a key the JSON never recorded is a forgery; the header is read and checked before any
# tensor is loaded, so with MAX_EVIDENCE_FILES the judge loads at most that many tensors per submission.
MAX_TENSOR_HEADER = 8 * 1024
# The dtypes the checks compute with (torch.isfinite, comparisons, sums); others (float8, uint16, ...) fail
# the check that reads them with a plain message instead of an error in the grader.
READABLE_DTYPES = frozenset({torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.uint8,
                             torch.int8, torch.int16, torch.int32, torch.int64, torch.bool})


# Why a probe's evidence is void although the grader's own code recorded it (Evidence.probe: "your code ...").
PROBE_FAILED_MESSAGE = ("made the grader's own code fail while it examined what your code returned ({}), so the "
                        "grader cannot trust what it recorded for this part and it gets no points; return the kind of "
                        "value the notebook asks for")
UNFINISHED = ("stopped the grader's probe before it finished, so the grader cannot trust what it recorded for this "
              "part and it gets no points")
INCOMPLETE = ("kept the grader from recording {} (the grader cannot trust what it recorded for this part, so it gets "
              "no points)")


def raised_message(entry: dict) -> str:
    """'your code raised ValueError: ... (cell 7, line 3)', for a recorded exception."""
    where = f" ({entry['where']})" if entry.get("where") else ""
    if entry.get("error") == "NotImplementedError":
        return f"your code is not implemented yet (it raised NotImplementedError{where})"
    message = f": {entry['message']}" if entry.get("message") else ""
    return f"your code raised {entry.get('error')}{message}{where}"


def _failure(entry: dict) -> type[CheckFailed]:
    """What a recorded exception fails a check with: CodeAbsent for the stub's NotImplementedError."""
    return CodeAbsent if entry.get("error") == "NotImplementedError" else CheckFailed


def one_line(text: str) -> str:
    """A string of the child's on one line: line breaks and other control characters (which could forge a
    line such as "[PASSED] ..." under a failed check, or move a terminal's cursor) become spaces."""
    return text.translate(_CONTROLS)


# C0 and C1 control characters, DEL, and Unicode's line and paragraph separators.
_CONTROLS = {c: " " for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]}


def clamped(meta: Any) -> Any:
    """A record from the child with every string on one line (one_line) and cut to MAX_TEXT characters, and
    entries under keys longer than MAX_KEY dropped (iteratively: json.loads already bounded the depth)."""
    stack = [meta] if isinstance(meta, (dict, list)) else []
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in [k for k in node if len(k) > MAX_KEY]:
                del node[key]
        for slot, value in list(node.items() if isinstance(node, dict) else enumerate(node)):
            if isinstance(value, str):
                value = one_line(value)
                node[slot] = value[:MAX_TEXT] + "..." if len(value) > MAX_TEXT else value
            elif isinstance(value, (dict, list)):
                stack.append(value)
    return meta


@dataclass(repr=False)
class ProbeEvidence:
    """One probe's record: JSON metadata and tensors, by key."""

    name: str
    what: str
    meta: dict[str, Any] = field(default_factory=dict)
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)

    def _entry(self, key: str, what: str) -> dict:
        entry = self.meta.get(key)
        if not isinstance(entry, dict) or entry.get("kind") == SKIPPED:
            earlier = next((e for e in self.meta.values() if isinstance(e, dict) and e.get("kind") == "raised"), None)
            if earlier is not None:
                raise _failure(earlier)(f"{what}: not reached, because {raised_message(earlier)}")
            raise CheckFailed(f"{what}: {entry.get('reason')}" if isinstance(entry, dict) else
                              f"{what}: no result was recorded")
        if entry.get("kind") == "raised":
            raise _failure(entry)(f"{what}: {raised_message(entry)}")
        return entry

    def tensor(self, key: str, what: str, numel: int | None = None) -> torch.Tensor:
        """The tensor recorded under `key`, or CheckFailed saying what came back instead.

        numel: the number of values a check expects, when it goes on to convert or sort them (a Python list of
        20 million numbers would cost the judge gigabytes): any other count fails here first.
        """
        entry = self._entry(key, what)
        if entry.get("kind") != "tensor" or key not in self.tensors:
            found = entry.get("type") or entry.get("kind")
            raise CheckFailed(f"{what}: expected a tensor, got {found}")
        found = self.tensors[key]
        if found.dtype not in READABLE_DTYPES:
            raise CheckFailed(f"{what}: expected a tensor of floats, integers or booleans, got one of dtype "
                              f"{str(found.dtype).removeprefix('torch.')}")
        if numel is not None and found.numel() != numel:
            raise CheckFailed(f"{what}: expected {numel:,} values, got {found.numel():,}")
        return found

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
            return float(self.tensor(key, what).double().item())
        raise CheckFailed(f"{what}: expected a number, got {entry.get('type') or entry.get('kind')}")

    def note(self, key: str, default: Any = None) -> Any:
        """A note the probe made (not a returned value)."""
        return self.meta.get(key, default)

    def __repr__(self) -> str:  # short whatever the child sent: pytest and logs may print it
        return f"ProbeEvidence({self.name!r}, {len(self.meta)} records, {len(self.tensors)} tensors)"


@dataclass(repr=False)
class Evidence:
    """Everything the sandbox produced for one submission."""

    probes: dict[str, ProbeEvidence]
    lost: dict[Phase, str]
    labels: dict[Phase, str]
    cells: dict[int, dict]
    cell_names: dict[int, list[str]] = field(default_factory=dict)  # what each student cell defines

    def probe(self, grade_id: str) -> ProbeEvidence:
        """The evidence of probe `grade_id`, or CheckFailed explaining why there is none."""
        phase = Phase.probe(grade_id)
        what = self.labels.get(phase, grade_id)
        if phase in self.lost:
            raise CheckFailed(f"{what}: {self.lost[phase]}")
        found = self.probes.get(grade_id)
        if found is None:  # the probe's phase ended without the record the grader's probe always closes with
            raise CheckFailed(f"{what}: your code {UNFINISHED}")
        if UNTRUSTED in found.meta:  # whatever its value: a forged empty note must not read as "trusted"
            untrusted = found.meta[UNTRUSTED]
            why = untrusted if untrusted and isinstance(untrusted, str) else TAMPERED
            raise CheckFailed(f"{what}: your code {why}")
        missing = found.meta.get(MISSING)
        if missing:
            raise CodeAbsent(f"{what}: your notebook does not define {missing}{self._why_missing(missing)}")
        return found

    def __repr__(self) -> str:  # short whatever the child sent: pytest and logs may print it
        return f"Evidence({len(self.probes)} probes, {len(self.cells)} cells, {len(self.lost)} lost)"

    def _why_missing(self, name: str) -> str:
        for index, cell in sorted(self.cells.items()):
            if name in self.cell_names.get(index, ()) and not cell.get("ok", True):
                where = cell.get("where") or f"cell {index}"
                message = f": {cell.get('message')}" if cell.get("message") else ""
                return f" because its cell failed ({where}: {cell.get('error')}{message})"
        for phase, why in self.lost.items():
            if phase.is_cell and name in self.cell_names.get(phase.key, ()):
                return f" because {self.labels.get(phase, phase.wire)} {why}"
        return ""


def _records(text: str) -> dict[str, Any]:
    """A probe's JSON lines (one record each, as the recorder sent them) merged into one dict. The recorder
    sends only whole lines of JSON objects, each key once: anything else (a key sent twice by a forgery racing
    the grader's own record, a frame of other bytes) voids them all. UNTRUSTED is the exception: the recorder
    sends it each time it finds a thread or process left running (it keeps no state that student code could set
    to stop it); its presence voids the probe, and the first stays."""
    meta: dict[str, Any] = {}
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            return {UNTRUSTED: TAMPERED}
        if not isinstance(record, dict):
            return {UNTRUSTED: TAMPERED}
        if UNTRUSTED in meta:
            record.pop(UNTRUSTED, None)
        if any(key in meta for key in record):
            return {UNTRUSTED: TAMPERED}
        meta.update(record)
    return meta


def _judged(meta: dict[str, Any], declared: tuple[str, ...]) -> dict[str, Any]:
    """A probe's records as the checks may read them, or {UNTRUSTED: why} when they are void: unless its notebook
    lacks the function (MISSING: the checks say so), the probe's code must have run to its end (FINISHED, and no
    PROBE_FAILED: keys it would have recorded later may have been forged by student code), recorded every key it
    declares (`declared`, Probe.declared) and no item of a list or tuple (recorder.item) that it did not record as
    one: each of those keys the grader records itself, so student code that recorded one first sent it twice."""
    if UNTRUSTED in meta or meta.get(MISSING):
        return meta
    if PROBE_FAILED in meta:
        error = meta[PROBE_FAILED] if isinstance(meta[PROBE_FAILED], dict) else {}
        where = f" in {error['where']}" if error.get("where") else ""
        return {UNTRUSTED: PROBE_FAILED_MESSAGE.format(f"{error.get('error')}: {error.get('message')}{where}")}
    if meta.get(FINISHED) is not True:
        return {UNTRUSTED: UNFINISHED}
    lacking = [key for key in declared if key not in meta]
    if lacking:
        return {UNTRUSTED: INCOMPLETE.format(", ".join(lacking))}
    for key in meta:
        parent, _, index = key.rpartition("/")
        if parent and index.isdecimal():
            entry = meta.get(parent)
            length = entry.get("length") if isinstance(entry, dict) and entry.get("kind") in ("list", "tuple") else 0
            if not (isinstance(length, int) and int(index) < min(length, MAX_ITEMS)):
                return {UNTRUSTED: TAMPERED}
    return meta


def _tensor_key(path: Path) -> str | None:
    """The one tensor's key in a safetensors file the recorder could have sent, read from its header alone
    (8 bytes of little-endian length, then JSON); None for anything else (a forgery, a corrupt file)."""
    try:
        with path.open("rb") as blob:
            head = blob.read(8)
            size = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
            if not 0 < size <= MAX_TENSOR_HEADER:
                return None
            header = json.loads(blob.read(size))
    except (OSError, ValueError, RecursionError):
        return None
    keys = [key for key in header if key != "__metadata__"] if isinstance(header, dict) else []
    return keys[0] if len(keys) == 1 else None


def load_evidence(folder: Path, lost: dict[Phase, str], labels: dict[Phase, str],
                  cell_names: dict[int, list[str]], declared: dict[str, tuple[str, ...]]) -> Evidence:
    """Read the child's evidence folder: JSON with a size cap, tensors with safetensors (no pickle).

    declared: each probe's declared keys by grade id (assignments.declared_keys); a probe's records are _judged.
    """
    folder = Path(folder)
    probes: dict[str, ProbeEvidence] = {}
    cells: dict[int, dict] = {}
    budget, meta_budget = MAX_EVIDENCE_BYTES, MAX_META_TOTAL_BYTES
    for path in sorted(folder.glob("*.json")):
        size = path.stat().st_size
        if size > min(MAX_META_BYTES, meta_budget) or not path.is_file() or path.is_symlink():
            continue
        meta_budget -= size
        cell = path.stem.startswith("cell-")
        try:
            text = path.read_text(encoding="utf-8")
            meta = clamped(json.loads(text) if cell else _records(text))
        except Exception:  # noqa: BLE001 - not JSON, or nested deep enough to exhaust the recursion limit
            continue
        if not isinstance(meta, dict):
            continue
        if cell:
            try:
                index = int(path.stem[5:])
            except ValueError:
                continue
            cells[index] = meta
            continue
        tensors: dict[str, torch.Tensor] = {}
        for blob in sorted(folder.glob(f"{glob.escape(path.stem)}.t*.safetensors")):
            if not blob.is_file() or blob.is_symlink() or blob.stat().st_size > budget:
                continue
            budget -= blob.stat().st_size
            key = _tensor_key(blob)
            recorded = meta.get(key) if key is not None else None
            if key in tensors or not isinstance(recorded, dict) or recorded.get("kind") != "tensor":
                meta, tensors = {UNTRUSTED: TAMPERED}, {}
                break
            try:
                found = load_file(blob)
            except Exception:  # noqa: BLE001 - a corrupt file is no evidence, never a crash
                continue
            tensors.update(found)
        meta = _judged(meta, declared.get(path.stem, ()))
        probes[path.stem] = ProbeEvidence(path.stem, labels.get(Phase.probe(path.stem), path.stem), meta,
                                          {} if UNTRUSTED in meta else tensors)
    return Evidence(probes, lost, labels, cells, cell_names)
