"""Pure grading logic: comparisons, evidence, messages, reports and programs (no sandbox)."""
from __future__ import annotations

import json
import os
import sys
import threading
import time

import nbformat
import pytest
import torch

from autograder import assignments
from autograder.config import load_config
from autograder.evidence import Evidence, ProbeEvidence, raised_message
from autograder.expect import CheckFailed, expect_close, expect_equal
from autograder.results import CheckResult, GradeReport, Status
from autograder.sandbox.phases import Phase
from autograder.submission import SubmissionError, build_program, read_notebook
from autograder.suite import Verdict, gated, run_suite


def test_expect_close_reports_expected_and_actual_numbers_with_the_index():
    with pytest.raises(CheckFailed) as err:
        expect_close(torch.tensor([1.0, 2.5]), torch.tensor([1.0, 2.0]), "f(x)", rtol=1e-5, atol=1e-6)
    assert "expected 2 at index (1,), got 2.5" in str(err.value)


def test_expect_close_reports_shape_mismatch():
    with pytest.raises(CheckFailed, match=r"expected shape \(3,\), got \(1, 3\)"):
        expect_close(torch.zeros(1, 3), torch.zeros(3), "f", rtol=0, atol=0)


def test_expect_close_rejects_nan():
    with pytest.raises(CheckFailed, match="non-finite"):
        expect_close(torch.tensor([float("nan")]), torch.tensor([0.0]), "f", rtol=1, atol=1)


def test_expect_close_accepts_within_tolerance():
    expect_close(torch.tensor([1.0 + 1e-7]), torch.tensor([1.0]), "f", rtol=1e-6, atol=0)


def test_expect_equal_names_the_first_difference():
    with pytest.raises(CheckFailed, match="expected 3 at index"):
        expect_equal(torch.tensor([1, 2]), torch.tensor([1, 3]), "classes")


def test_raised_message_is_student_readable():
    entry = {"kind": "raised", "error": "ValueError", "message": "bad", "where": "cell 7, line 2"}
    assert raised_message(entry) == "your code raised ValueError: bad (cell 7, line 2)"
    stub = {"kind": "raised", "error": "NotImplementedError", "message": "", "where": "cell 3, line 9"}
    assert "not implemented yet" in raised_message(stub)


def test_evidence_of_a_lost_probe_explains_the_limit():
    evidence = Evidence({}, {Phase.probe("test_x"): "ran longer than the 60 s limit"},
                        {Phase.probe("test_x"): "normalize"}, {})
    with pytest.raises(CheckFailed, match="normalize: ran longer than the 60 s limit"):
        evidence.probe("test_x")


def test_evidence_of_a_missing_function_names_its_failed_cell():
    probe = ProbeEvidence("test_x", "normalize", {"_missing": "normalize"})
    cells = {7: {"ok": False, "error": "SyntaxError", "message": "invalid syntax", "where": "cell 7, line 3"}}
    evidence = Evidence({"test_x": probe}, {}, {}, cells, {7: ["normalize"]})
    with pytest.raises(CheckFailed, match="does not define normalize because its cell failed"):
        evidence.probe("test_x")


def test_a_value_after_an_exception_says_it_was_not_reached():
    probe = ProbeEvidence("p", "f", {"a": {"kind": "raised", "error": "KeyError", "message": "'w'", "where": ""}})
    with pytest.raises(CheckFailed, match="not reached, because your code raised KeyError"):
        probe.tensor("b", "f(x)")


def test_report_scores_and_gradescope_json():
    report = GradeReport("a", [CheckResult("c1", "g", 2, 2, ""), CheckResult("c2", "g", 0, 3, "why")],
                         {"answer": 5})
    assert (report.score, report.max_score) == (2, 5), "the maximum is the auto-graded one; the answer is the TA's"
    assert report.totals.text() == "2/5 auto-graded; 5 points of written answers await a TA (provisional)"
    data = report.to_gradescope()
    assert data["score"] == 2 and "max_score" not in data  # Gradescope's format has no top-level max_score
    assert [t["name"] for t in data["tests"]] == ["c1", "c2"]  # manual cells are Gradescope's manual questions
    assert [t["status"] for t in data["tests"]] == ["passed", "failed"]
    assert report.by_grade_id()["g"][1].output == "why"


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"{not json", "not valid JSON"),
    (b'{"a": 1}', "not a Jupyter notebook"),
    (b"[1, 2]", "not a Jupyter notebook"),
])
def test_unreadable_files_give_a_reason(tmp_path, content, message):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(content)
    with pytest.raises(SubmissionError, match=message):
        read_notebook(path)


def _cell(source: str, **nbgrader) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = nbgrader
    return cell


def test_program_takes_setup_from_release_and_skips_locked_student_cells():
    release = nbformat.v4.new_notebook(cells=[_cell("import torch", locked=True, grade_id="setup")])
    release.cells[0].metadata["tensorgrade"] = {"role": "setup"}
    release.cells.append(_cell("def f(): raise NotImplementedError()", solution=True, grade_id="f"))
    release.cells[1].metadata["tensorgrade"] = {"role": "solution"}
    student = nbformat.v4.new_notebook(cells=[
        _cell("import os; os.system('evil')", locked=True, grade_id="setup"),
        _cell("def f():\n    return 1", solution=True, grade_id="f"),
        _cell("print('check')", locked=True, grade_id="check_f"),
        _cell("def helper():\n    return 2"),
    ])
    program = build_program(student, release)
    assert [c["source"] for c in program.cells] == ["import torch", "def f():\n    return 1",
                                                    "def helper():\n    return 2"]
    assert program.cell_names == {2: ["f"], 4: ["helper"]}
    assert program.notes == []


def test_program_notes_a_notebook_of_another_assignment():
    release = nbformat.v4.new_notebook(cells=[_cell("def f(): ...", solution=True, grade_id="f")])
    release.cells[0].metadata["tensorgrade"] = {"role": "solution"}
    student = nbformat.v4.new_notebook(cells=[_cell("def g():\n    pass", solution=True, grade_id="g")])
    assert "another assignment" in build_program(student, release).notes[0]
    json.dumps(build_program(student, release).cells)


def test_judging_leaves_what_other_threads_print_alone(capfd):
    """The batch's progress bar prints from another thread while a suite judges: no line may vanish."""
    config = load_config()
    inputs = assignments.module("part1_regression", "inputs").make_inputs(config, seed=7)
    stop = threading.Event()

    def tick() -> None:
        i = 0
        while not stop.is_set():
            print(f"tick {i}", file=sys.stderr, flush=True)
            i += 1
            time.sleep(0.002)
        print(f"ticks {i}", file=sys.stderr, flush=True)

    thread = threading.Thread(target=tick)
    thread.start()
    try:
        verdicts = run_suite("part1_regression", Evidence({}, {}, {}, {}), inputs, config)
    finally:
        stop.set()
        thread.join()
    out, err = capfd.readouterr()
    ticks = int(err.rsplit("ticks ", 1)[1])
    assert ticks > 0 and all(f"tick {i}\n" in err for i in range(ticks))
    assert out == ""
    assert verdicts and not any(v.passed for v in verdicts.values())


PASS_EVERYTHING = """
import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    return True  # the test function is never called: every check would pass
"""


def _verdicts_of_nothing_beside_a_plugin(tmp_path, monkeypatch) -> dict:
    """part 1's hidden checks on empty evidence, with PASS_EVERYTHING importable (as tg_pass_everything): a verdict
    for every check."""
    (tmp_path / "tg_pass_everything.py").write_text(PASS_EVERYTHING)
    monkeypatch.syspath_prepend(str(tmp_path))
    config = load_config()
    inputs = assignments.module("part1_regression", "inputs").make_inputs(config, seed=7)
    verdicts = run_suite("part1_regression", Evidence({}, {}, {}, {}), inputs, config)
    assert set(verdicts) == set(config.assignment("part1_regression").check_points)
    return verdicts


def test_a_pytest_plugin_installed_in_the_environment_never_judges(tmp_path, monkeypatch):
    """pytest loads every installed plugin (pytest11 entry points) into each session; the hidden checks' must not
    load one. This one, if loaded, would pass every check of a submission that wrote nothing."""
    dist = tmp_path / "tg_pass_everything-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tg-pass-everything\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[pytest11]\ntg_pass_everything = tg_pass_everything\n")
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)

    verdicts = _verdicts_of_nothing_beside_a_plugin(tmp_path, monkeypatch)

    assert not any(v.passed for v in verdicts.values())
    assert "tg_pass_everything" not in sys.modules


@pytest.mark.parametrize("variable, value", [("PYTEST_ADDOPTS", "-x"), ("PYTEST_ADDOPTS", "--collect-only"),
                                             ("PYTEST_PLUGINS", "tg_pass_everything")])
def test_pytest_options_of_the_instructors_environment_never_reach_the_hidden_checks(variable, value, tmp_path,
                                                                                     monkeypatch):
    """Options an instructor set for their own test runs: -x would stop the hidden checks at the first failure and
    leave the others without a verdict (0 points, as grader errors); a plugin named there would pass every check."""
    monkeypatch.setenv(variable, value)

    verdicts = _verdicts_of_nothing_beside_a_plugin(tmp_path, monkeypatch)

    assert not any(v.passed or v.status is Status.GRADER_ERROR for v in verdicts.values())
    assert os.environ[variable] == value


@pytest.mark.parametrize("own, needed, expected", [
    (True, True, True),     # both pass: points
    (True, False, False),   # structure right, value wrong: no points for structure alone
    (False, True, False),   # its own failure stands
    (False, False, False),
])
def test_a_structural_check_earns_points_only_with_the_value_check_it_requires(own, needed, expected):
    verdicts = {"shape": Verdict(Status.PASSED) if own else Verdict(Status.FAILED, "shape wrong"),
                "values": Verdict(Status.PASSED) if needed else Verdict(Status.FAILED, "values wrong")}
    result = gated(verdicts, {"shape": ("values",)})
    assert result["shape"].passed is expected
    assert result["values"] == verdicts["values"]
    if not own:
        assert result["shape"].message == "shape wrong", "a check that failed on its own keeps its message"
        assert result["shape"].status is Status.FAILED
    elif not needed:
        assert "values" in result["shape"].message


def test_a_dependent_check_is_not_credited_and_names_the_check_it_needs_in_one_line():
    verdicts = {"shape": Verdict(Status.PASSED), "values": Verdict(Status.FAILED, "values: expected 1.5, got 30")}
    shape = gated(verdicts, {"shape": ("values",)})["shape"]
    assert shape.status is Status.NOT_CREDITED and shape.needs == "values"
    assert shape.message == "needs values, which did not pass: see values's message"
    assert "\n" not in shape.message and "expected" not in shape.message, "it points to the check, not its reason"


def test_a_check_requiring_a_check_that_never_ran_fails():
    result = gated({"shape": Verdict(Status.PASSED)}, {"shape": ("values",)})["shape"]
    assert not result.passed and result.status is Status.NOT_CREDITED


@pytest.mark.parametrize("assignment", load_config().assignments)
def test_every_required_check_is_a_configured_check(assignment):
    suite = assignments.module(assignment, "checks")
    checks = load_config().assignment(assignment).check_points
    for name, fn in vars(suite).items():
        for mark in getattr(fn, "pytestmark", []):
            if mark.name == "requires":
                assert name.removeprefix("test_") in checks, name
                assert mark.args and set(mark.args) <= set(checks), (name, mark.args)


def test_a_gated_check_of_unimplemented_code_says_it_is_not_implemented():
    stub = "validate: your code is not implemented yet (it raised NotImplementedError (cell 30, line 9))"
    verdicts = {"modes": Verdict(Status.PASSED), "values": Verdict(Status.ABSENT, stub)}
    assert gated(verdicts, {"modes": ("values",)})["modes"] == Verdict(Status.ABSENT, stub)


def test_a_cell_too_long_to_parse_in_the_trusted_process_is_read_by_the_regex(monkeypatch):
    import ast

    from autograder import submission

    def refuse(source, *args, **kwargs):
        if len(source) > submission.MAX_PARSED_CELL:
            raise AssertionError("ast.parse ran on a cell longer than MAX_PARSED_CELL")
        return ast.parse(source, *args, **kwargs)

    monkeypatch.setattr(submission.ast, "parse", refuse)
    huge = "def model(x, w, b):\n    return w * x + b\n" + "x = [" + "1," * submission.MAX_PARSED_CELL + "]\n"
    assert submission.defined_names(huge) == ["model"]
    assert submission.defined_names("def f():\n    pass\nclass G:\n    pass\n") == ["f", "G"]


def test_a_cell_label_names_a_few_definitions_briefly():
    from autograder.submission import cell_label

    assert cell_label(["normalize", "make_transform"]) == "normalize, make_transform"
    label = cell_label([f"f{'x' * 10_000}{i}" for i in range(1000)])
    assert len(label) < 250 and label.endswith("and 996 more")


def test_the_sandbox_imports_nothing_of_the_trusted_grading_layer():
    import ast

    from autograder.paths import PROJECT_ROOT

    trusted = {"results", "config", "grading", "suite", "evidence", "course", "report", "submission_log", "feedback",
               "diagnosis", "expect", "isolation_policy", "nbgrader_plugin", "cluster"}
    for path in (PROJECT_ROOT / "autograder" / "sandbox").glob("*.py"):
        tree = ast.parse(path.read_text())
        runtime = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 2
                   and not any(isinstance(parent, ast.If) and "TYPE_CHECKING" in ast.unparse(parent.test)
                               and node in ast.walk(parent) for parent in ast.walk(tree))]
        imported = {(node.module or "").split(".")[0] for node in runtime} | {
            alias.name for node in runtime if not node.module for alias in node.names}
        assert not imported & trusted, (path.name, imported & trusted)
