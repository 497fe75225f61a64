"""The kit's check of nbgrader's cell metadata (CheckCellMetadataCompiled) refuses what nbgrader's own refuses, with
nbgrader's words."""
from __future__ import annotations

import copy
import logging

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import CheckCellMetadata

from autograder.nbgrader_plugin import CheckCellMetadataCompiled, _CompiledMetadataValidator
from autograder.paths import PROJECT_ROOT

RELEASE = PROJECT_ROOT / "release" / "part2_mnist" / "part2_mnist.ipynb"


def _graded(nb):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))


def _points_as_text(nb):
    _graded(nb).metadata.nbgrader.points = "ten"


def _no_points(nb):
    del _graded(nb).metadata.nbgrader["points"]


def _unknown_key(nb):
    _graded(nb).metadata.nbgrader["bonus"] = True


def _duplicate_id(nb):
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    cells[1].metadata.nbgrader.grade_id = cells[0].metadata.nbgrader.grade_id


def _old_schema(nb):
    _graded(nb).metadata.nbgrader.schema_version = 2


def _newer_schema(nb):
    _graded(nb).metadata.nbgrader.schema_version = 4


def _grade_as_text(nb):
    _graded(nb).metadata.nbgrader.grade = "yes"


CHANGES = {"as released": lambda nb: None, "points as text": _points_as_text, "no points": _no_points,
           "an unknown key": _unknown_key, "a duplicate grade id": _duplicate_id, "schema 2": _old_schema,
           "schema 4": _newer_schema, "grade as text": _grade_as_text}


def _outcome(validate, nb) -> str:
    try:
        validate(nb)
    except Exception as err:  # noqa: BLE001 - the outcome compared is the error itself
        return f"{type(err).__name__}: {err}"
    return "valid"


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_the_compiled_check_refuses_what_nbgraders_refuses_in_its_words(change, caplog):
    nb = nbformat.read(RELEASE, as_version=4)
    CHANGES[change](nb)
    ours, theirs = _outcome(_CompiledMetadataValidator().validate_nb, copy.deepcopy(nb)), _outcome(
        MetadataValidator().validate_nb, copy.deepcopy(nb))
    assert ours == theirs
    assert (ours == "valid") == (change == "as released")
    with caplog.at_level(logging.ERROR):
        step = _outcome(lambda n: CheckCellMetadataCompiled().preprocess(n, {}), copy.deepcopy(nb))
        assert step == _outcome(lambda n: CheckCellMetadata().preprocess(n, {}), copy.deepcopy(nb))
    assert (step == "valid") == (change == "as released")


def test_recording_checks_the_notebook_schema_once_per_pass_and_still_refuses_an_invalid_notebook(tmp_path,
                                                                                                   monkeypatch):
    from nbconvert.exporters import NotebookExporter
    from nbconvert.preprocessors import Preprocessor
    from traitlets.config import Config

    from autograder.nbgrader_setup import configure

    class Keeps(Preprocessor):
        def preprocess(self, nb, resources):
            return nb, resources

    class Breaks(Preprocessor):
        def preprocess(self, nb, resources):
            nb.cells[0]["source"] = 42  # nbformat's schema wants text
            return nb, resources

    nb = nbformat.read(RELEASE, as_version=4)
    checks = []
    real = nbformat.validate
    monkeypatch.setattr(nbformat, "validate", lambda *a, **k: (checks.append(1), real(*a, **k))[1])
    c = Config()
    configure(c, tmp_path)
    steps = [Keeps(), Keeps(), Keeps()]
    exporter = NotebookExporter(config=c, preprocessors=steps)
    exporter.from_notebook_node(copy.deepcopy(nb))
    assert len(checks) == 2, (f"{len(checks)} schema checks for one pass of {len(steps)} preprocessors: expected one "
                              "after the last preprocessor and one as the notebook is written")
    with pytest.raises(nbformat.ValidationError):
        NotebookExporter(config=c, preprocessors=[*steps, Breaks()]).from_notebook_node(copy.deepcopy(nb))
