"""Every probe records every key it declares, on every run, and runs to its end; the judge voids one that did not.

A key the grader records on every run cannot be forged: student code that records it first (through the
Recorder it finds in the probe's frame) sends it twice, which voids the probe (evidence._records). These tests pin
both halves: the probes (run here in-process on the reference and on wrong functions) and the judge's rule
(evidence._judged).
"""
from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from autograder import assignments
from autograder.evidence import load_evidence
from autograder.expect import CheckFailed, CodeAbsent
from autograder.grading import grading_inputs
from autograder.paths import PROJECT_ROOT
from autograder.sandbox.recorder import FINISHED, MISSING, PROBE_FAILED, SKIPPED, UNTRUSTED, Recorder
from tests.helpers import test_config

ASSIGNMENTS = assignments.names()


def _write(folder: Path, probe: str, *records: dict) -> None:
    (folder / f"{probe}.json").write_text("".join(json.dumps(record) + "\n" for record in records))


def _probe(folder: Path, declared: tuple[str, ...] = ()):
    return load_evidence(folder, {}, {}, {}, {"test_model": declared}).probe("test_model")


NUMBER = {"kind": "number", "value": 1.0}


def test_a_probe_that_finished_with_every_declared_key_is_read(tmp_path):
    _write(tmp_path, "test_model", {"vector": NUMBER}, {"matrix": NUMBER}, {FINISHED: True})
    assert _probe(tmp_path, ("vector", "matrix")).number("matrix", "model") == 1.0


def test_a_probe_that_skipped_a_declared_key_is_void(tmp_path):
    """A key recorded only in a branch is a key student code can record instead of the grader: void."""
    _write(tmp_path, "test_model", {"vector": NUMBER}, {FINISHED: True})
    with pytest.raises(CheckFailed, match="kept the grader from recording matrix"):
        _probe(tmp_path, ("vector", "matrix"))


def test_a_probe_whose_own_code_raised_is_void_and_says_how(tmp_path):
    """Keys the probe would have recorded after the error may have been forged (the meta-tensor early stop)."""
    failure = {"kind": "raised", "error": "NotImplementedError", "message": "Could not run 'aten::_to_copy'",
               "where": "cell 7, line 3"}
    _write(tmp_path, "test_model", {"vector": NUMBER}, {"matrix": NUMBER}, {PROBE_FAILED: failure}, {FINISHED: True})
    with pytest.raises(CheckFailed) as err:
        _probe(tmp_path, ("vector", "matrix"))
    assert ("your code made the grader's own code fail while it examined what your code returned "
            "(NotImplementedError: Could not run 'aten::_to_copy' in cell 7, line 3)") in str(err.value)


@pytest.mark.parametrize("finished", [None, False, "yes"], ids=["absent", "false", "a string"])
def test_a_probe_without_the_graders_finished_note_is_void(tmp_path, finished):
    records = [{"vector": NUMBER}] + ([] if finished is None else [{FINISHED: finished}])
    _write(tmp_path, "test_model", *records)
    with pytest.raises(CheckFailed, match="stopped the grader's probe before it finished"):
        _probe(tmp_path, ("vector",))


def test_a_probe_whose_notebook_lacks_the_function_still_reads_as_absent(tmp_path):
    """probing.student notes MISSING and stops the probe: the checks say the notebook lacks the name."""
    missing = {"kind": "raised", "error": "Missing", "message": "model", "where": ""}
    _write(tmp_path, "test_model", {MISSING: "model"}, {PROBE_FAILED: missing})
    with pytest.raises(CodeAbsent, match="your notebook does not define model"):
        _probe(tmp_path, ("vector", "matrix"))


@pytest.mark.parametrize("parent", [None, NUMBER, {"kind": "tuple", "length": 1}, {"kind": "list", "length": "9"}],
                         ids=["no parent", "not a list", "index past its length", "a length that is no number"])
def test_an_item_the_grader_did_not_record_as_part_of_a_list_voids_the_probe(tmp_path, parent):
    """recorder.item keys ("returned/1") come from the grader's record of a list or tuple; any other is forged."""
    records = ([] if parent is None else [{"returned": parent}]) + [{"returned/1": NUMBER}, {FINISHED: True}]
    _write(tmp_path, "test_model", *records)
    with pytest.raises(CheckFailed, match="private result channel"):
        _probe(tmp_path)


def test_the_items_of_a_recorded_tuple_are_read(tmp_path):
    _write(tmp_path, "test_model", {"returned": {"kind": "tuple", "length": 2}}, {"returned/0": NUMBER},
           {"returned/1": NUMBER}, {FINISHED: True})
    assert _probe(tmp_path).number("returned/1", "the std") == 1.0


def test_a_skipped_key_fails_its_check_with_the_probes_reason(tmp_path):
    _write(tmp_path, "test_model", {"vector": {"kind": SKIPPED, "reason": "make_dnn() did not return an nn.Module"}},
           {FINISHED: True})
    with pytest.raises(CheckFailed, match=r"make_dnn\(\) forward: make_dnn\(\) did not return an nn.Module"):
        _probe(tmp_path, ("vector",)).tensor("vector", "make_dnn() forward")


# ----------------------------------------------------------------------------- the probes themselves


def _stubs(result) -> dict:
    """A namespace in which every name a probe may look up is a function (or class) giving `result`."""

    def stub(*args, **kwargs):
        if isinstance(result, BaseException):
            raise result
        return result() if callable(result) else result

    return _Everything(stub)


class _Everything(dict):
    """Every name is defined (as `value`); lent() and probing.student see a full notebook."""

    def __init__(self, value) -> None:
        super().__init__()
        self.value = value

    def __contains__(self, name: object) -> bool:
        return True

    def __missing__(self, name: str):
        return self.value


WRONG = {"None": None, "raises": ValueError("wrong"), "a module of the wrong shape": lambda: torch.nn.Linear(2, 3),
         "a list": [1, 2]}


@pytest.fixture(scope="module")
def inputs_of() -> dict:
    config = test_config()
    return {a: grading_inputs(a, config, 0) for a in ASSIGNMENTS}


def _run(assignment: str, grade_id: str, ns: dict, inputs: dict) -> Recorder:
    """The probe `grade_id` as the child runs it, in-process; it must run to its end."""
    rec = Recorder(grade_id)
    torch.manual_seed(0)
    assignments.module(assignment, "probes").PROBES[grade_id](ns, inputs, rec)
    return rec


def _not_items(meta: dict) -> set[str]:
    """The keys that are not items of a recorded list (those depend on what came back; the judge ties them to it)."""
    return {key for key in meta if not key.rpartition("/")[2].isdecimal()}


def _probes() -> list[tuple[str, str]]:
    return [(a, gid) for a in ASSIGNMENTS for gid in assignments.module(a, "probes").PROBES]


@pytest.mark.parametrize(("assignment", "grade_id"), _probes(), ids=[f"{a}:{g}" for a, g in _probes()])
def test_every_probe_records_the_same_keys_whatever_the_student_returns(assignment, grade_id, inputs_of):
    """On the reference and on functions returning nothing, raising, or returning the wrong kind of object, each
    probe runs to its end and records the same keys, every key its keys class declares among them."""
    inputs = inputs_of[assignment]
    if grade_id == "test_mnist_accuracy":  # training the reference takes the grader's whole budget: a short run
        inputs = {**inputs, "acc_epochs": torch.tensor(1), "acc_train_images": inputs["acc_train_images"][:64],
                  "acc_train_labels": inputs["acc_train_labels"][:64]}
    reference = _run(assignment, grade_id, dict(vars(importlib.import_module(f"solutions.{assignment}"))), inputs)
    keys = _not_items(reference.meta)
    assert set(assignments.declared_keys(assignment)[grade_id]) <= keys
    for wrong, result in WRONG.items():
        recorded = _not_items(_run(assignment, grade_id, _stubs(result), inputs).meta)
        assert recorded == keys, f"{grade_id} with a function giving {wrong}: {recorded ^ keys} differ"
        assert UNTRUSTED not in recorded


def test_a_probe_that_raised_is_recorded_so_even_when_student_code_patched_the_recorder():
    """The guard heals before the failure is recorded: a patched Recorder.failure cannot make the probe read as
    finished, and no FINISHED note follows the failure."""
    script = """
import torch
from autograder.evidence import _records
from autograder.sandbox.child import Child
from autograder.sandbox.guard import Guard
from autograder.sandbox.recorder import FINISHED, PROBE_FAILED, Recorder
class Channel:
    sent = b""
    def line(self, word, phase):
        pass
    def file(self, name, blob):
        Channel.sent += blob if name.endswith(".json") else b""
    def wait(self):
        pass
def probe(ns, inputs, rec):
    Recorder.failure = lambda *args: None
    raise RuntimeError("stopped inside the probe")
child = Child({"probes": ["test_model"], "seeds": {"test_model": 0}}, Channel(), Guard())
child.run_probes({"test_model": probe}, {}, Recorder, torch)
meta = _records(Channel.sent.decode())
print(meta[PROBE_FAILED]["message"], FINISHED in meta)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=PROJECT_ROOT)
    assert done.stdout.strip() == "stopped inside the probe False", done.stderr[-3000:]
