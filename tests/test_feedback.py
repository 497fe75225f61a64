"""Feedback text, pure: wrapped reasons, titles of graded cells, numbers in words, diagnosis selection."""
from __future__ import annotations

import pytest
import torch

from autograder import assignments
from autograder.config import load_config
from autograder.diagnosis import Mistake, close, diagnose
from autograder.evidence import Evidence, ProbeEvidence
from autograder.feedback import WIDTH, cell_outputs, check_html, check_text, title_of
from autograder.results import CheckResult, Status
from autograder.wording import allowance, compared

LONG = ("training_loop(2, 0.063, params, x, y): returned params: expected -0.31584 at index (1,), got -0.104431 "
        "(your value is 1/3 of the expected one). The largest difference is 0.211408; the grader allows ...")


def test_reasons_wrap_under_their_check():
    text = check_text(CheckResult("training_loop_trajectory", "test_training_loop", 0, 8, LONG))
    lines = text.splitlines()
    assert lines[0] == "[FAILED] training_loop_trajectory (0/8)"
    assert all(len(line) <= WIDTH for line in lines) and len(lines) > 2
    assert " ".join(line.strip() for line in lines[1:]) == LONG


def test_cell_outputs_escape_html_and_keep_the_score_last():
    outputs = cell_outputs([CheckResult("c", "g", 0, 4, "got <script>alert(1)</script>")], ["a note"])
    html = outputs[0]["data"]["text/html"]
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert outputs[1]["metadata"]["tensorgrade"] == "notes"
    assert outputs[-1]["output_type"] == "execute_result" and outputs[-1]["data"]["text/plain"] == "0"


def test_checks_and_notes_are_marked_for_mathjax_to_leave_alone():
    """A reason quoting a student's message `$\\color{green}{\\text{passed}}$` must not render as coloured TeX."""
    reason = "raised ValueError: $\\color{green}{\\text{passed}}$"
    checks, notes, _ = cell_outputs([CheckResult("c", "g", 0, 4, reason)], [reason])
    assert checks["data"]["text/html"].startswith('<ul class="tg-checks tex2jax_ignore">')
    assert notes["data"]["text/html"].startswith('<div class="tg-note tex2jax_ignore">')


def test_graded_cells_are_titled_with_their_function():
    assert title_of('"""Auto-graded when you submit: predict_classes, 6 points."""\n# ...', "test_x") == \
        "predict_classes"
    assert title_of("", "test_make_dnn") == "make_dnn"


@pytest.mark.parametrize("actual, expected, words", [
    (20.0, 1.0, "your value is 20x the expected one"),
    (0.25, 1.0, "your value is 1/4 of the expected one"),
    (-0.41, 0.41, "your value has the opposite sign of the expected one"),
    (1.23, 1.0, "your value is 23% too large"),
    (0.0, 2.0, "your value is 0"),
])
def test_numbers_in_words(actual, expected, words):
    assert compared(actual, expected) == words


def test_tolerance_in_words():
    assert "at most 1e-06 + 1e-05 x |expected value|" in allowance(1e-5, 1e-6)
    assert allowance(0, 0) == "an exact match is required"


def _evidence(value: torch.Tensor) -> Evidence:
    probe = ProbeEvidence("test_f", "f", {"out": {"kind": "tensor"}}, {"out": value})
    return Evidence({"test_f": probe}, {}, {}, {})


def _catalog(*fns):
    return {"test_f": [Mistake(f"m{i}", ("f_values",), f"mistake {i}", "look here.",
                               lambda p, inputs, q, fn=fn: close(p.tensor("out", "out"), fn(inputs["x"]), 0, 1e-6))
                       for i, fn in enumerate(fns)]}


def test_a_mistake_is_named_only_when_exactly_one_matches():
    inputs, grade_ids = {"x": torch.tensor([1.0, 2.0])}, {"f_values": "test_f"}
    found = diagnose(_catalog(lambda x: 2 * x, lambda x: x + 5), grade_ids, ["f_values"],
                     _evidence(torch.tensor([2.0, 4.0])), inputs, None)
    assert found["f_values"].mistake == "m0"
    assert found["f_values"].text == "Likely mistake: mistake 0. Look at: look here.", "the advice's case is kept"
    ambiguous = _catalog(lambda x: 2 * x, lambda x: x * 2)
    assert diagnose(ambiguous, grade_ids, ["f_values"], _evidence(torch.tensor([2.0, 4.0])), inputs, None) == {}
    assert diagnose(_catalog(lambda x: 2 * x), grade_ids, ["f_values"], _evidence(torch.tensor([9.0, 9.0])),
                    inputs, None) == {}


@pytest.mark.parametrize("assignment", load_config().assignments)
def test_catalogued_mistakes_explain_checks_of_their_own_cell(assignment):
    spec = load_config().assignment(assignment)
    for grade_id, mistakes in assignments.module(assignment, "mistakes").MISTAKES.items():
        for mistake in mistakes:
            assert mistake.checks and all(spec.grade_id_of.get(c) == grade_id for c in mistake.checks), \
                f"{assignment} {mistake.id}: {mistake.checks} are not all checks of {grade_id}"


@pytest.mark.parametrize("status, needs, css, label, mark", [
    (Status.PASSED, "", "tg-passed", "passed", "[PASSED]"),
    (Status.FAILED, "", "tg-failed", "failed", "[FAILED]"),
    (Status.NOT_CREDITED, "loss_fn_values", "tg-not-credited", "not credited: needs loss_fn_values",
     "[NOT CREDITED]"),
    (Status.ABSENT, "", "tg-absent", "absent", "[ABSENT]"),
    (Status.GRADER_ERROR, "", "tg-grader-error", "grader error", "[GRADER ERROR]"),
])
def test_each_status_has_its_word_and_class_and_no_styles(status, needs, css, label, mark):
    score = 2 if status is Status.PASSED else 0
    check = CheckResult("loss_fn_is_scalar", "test_loss_fn", score, 2, "why", status=status, needs=needs)
    html = check_html(check)
    assert f'class="tg-check {css}"' in html and f'<span class="tg-mark">{label}</span>' in html
    assert "style" not in html and "<p>" not in html
    assert check_text(check).startswith(f"{mark} loss_fn_is_scalar (")
    assert check.line().startswith(f"{mark} loss_fn_is_scalar (")  # the terminal and log say it the same way


def test_the_score_output_is_a_bare_number_for_nbgrader_and_labelled_for_readers():
    score = cell_outputs([CheckResult("a", "g", 2, 2, ""), CheckResult("b", "g", 0, 6, "why")], [])[-1]
    assert score["data"]["text/plain"] == "2"
    assert score["data"]["text/html"] == '<div class="tg-score">score: 2 / 8 points</div>'


def test_a_code_cell_is_highlighted_once_per_process_as_nbconvert_highlights_it(monkeypatch):
    import pygments
    from nbconvert.filters.highlight import Highlight2HTML

    from autograder.feedback import HIGHLIGHT_KEPT_UP_TO, RepeatedCodeHighlight, _highlighted

    sources = ["def f(x):\n    return x  # a comment\n", "%%bash\necho hi\n", ""]
    expected = {(s, m): Highlight2HTML(pygments_lexer="ipython3")(s, metadata={"magics_language": m} if m else None)
                for s in sources for m in (None, "bash")}
    calls = []
    real = pygments.highlight
    monkeypatch.setattr(pygments, "highlight", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    _highlighted.cache_clear()
    for page in range(3):  # three students' pages, each from its own exporter
        highlight = RepeatedCodeHighlight(pygments_lexer="ipython3")
        for (source, magics), html_ in expected.items():
            assert highlight(source, metadata={"magics_language": magics} if magics else {}) == html_
    assert len(calls) == len(expected), "a source already highlighted in this process was highlighted again"
    plain = RepeatedCodeHighlight(pygments_lexer="ipython3", extra_formatter_options={"linenos": "inline"})
    assert plain(sources[0]) == Highlight2HTML(pygments_lexer="ipython3",
                                               extra_formatter_options={"linenos": "inline"})(sources[0])
    assert plain(sources[0]) != expected[(sources[0], None)]
    long = "x = 1\n" * (HIGHLIGHT_KEPT_UP_TO // 6 + 1)  # a hostile notebook's cell: highlighted, never kept
    kept = _highlighted.cache_info().currsize
    assert plain(long) == Highlight2HTML(pygments_lexer="ipython3", extra_formatter_options={"linenos": "inline"})(long)
    assert _highlighted.cache_info().currsize == kept
    listed = RepeatedCodeHighlight(pygments_lexer="ipython3", extra_formatter_options={"hl_lines": [1]})
    assert listed(sources[0]) == Highlight2HTML(pygments_lexer="ipython3",
                                                extra_formatter_options={"hl_lines": [1]})(sources[0])
