"""Operating a course: operator mistakes stop early with one line and exit code 2, regrade selection, exports,
Gradescope's results.json format, the class report in a real headless Chromium, and the CLI's help."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from autograder import pending
from autograder.config import DEFAULT_CONFIG, load_config
from autograder.exports import COLUMNS, check_rows, export_checks
from autograder.operator_checks import COULD_NOT_RUN, EXIT_CODES
from autograder.paths import CourseLayout
from autograder.report import build_report, findings, reason_of
from autograder.results import CheckResult, GradeReport
from autograder.submission_log import fingerprint, read_log, write_log
from tests.helpers import validate_gradescope

P1 = "part1_regression"
CONFIG = load_config()


def cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m autograder ARGS` in a subprocess."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}", **(env or {})}
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def logged(student: str, notebook: Path, report: GradeReport) -> GradeReport:
    """The report as the batch logs it: whose it is and which file."""
    report.student, report.notebook, report.sha256 = student, str(notebook), fingerprint(notebook)
    return report


def synthetic_report(score_of: dict[str, bool], **extra) -> GradeReport:
    """A part1_regression report whose checks pass or fail as given (others pass)."""
    spec = CONFIG.assignment(P1)
    checks = [CheckResult(n, spec.grade_id_of[n], pts if score_of.get(n, True) else 0.0, pts,
                          "" if score_of.get(n, True) else f"{n}: expected 1.5, got 30.6")
              for n, pts in spec.check_points.items()]
    return GradeReport(P1, checks, dict(spec.manual), [], 3.5, "full isolation: test", **extra)


# --- operator mistakes: one line, exit 2, before any grading ---------------------------------------------------

def _one_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tensorgrade: "), lines[0]
    return lines[0]


def test_grading_a_missing_file_stops_with_exit_2(tmp_path):
    done = cli("grade", "missing.ipynb", "--assignment", P1, "--out", "r.json", cwd=tmp_path)
    assert done.returncode == COULD_NOT_RUN
    assert "no such notebook" in _one_line(done) and "missing.ipynb" in done.stderr
    assert not (tmp_path / "r.json").exists()


def test_an_unknown_assignment_stops_with_exit_2(tmp_path):
    done = cli("grade", str(DEFAULT_CONFIG), "--assignment", "part9", cwd=tmp_path)
    assert done.returncode == COULD_NOT_RUN
    assert "unknown assignment 'part9'" in _one_line(done)


def test_an_unreadable_config_stops_with_exit_2(tmp_path):
    bad = tmp_path / "course_config.py"
    bad.write_text(DEFAULT_CONFIG.read_text().replace('"dataset": "MNIST"', '"dataset": MNIST +'))
    done = cli("--config", str(bad), "autograde", P1, "--course", str(tmp_path), cwd=tmp_path)
    assert done.returncode == COULD_NOT_RUN
    line = _one_line(done)
    assert "cannot be loaded" in line and "SyntaxError" in line and "line" in line


def _course_without_gradebook(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    target = root / "submitted" / "ada" / P1 / "part1_regression.ipynb"
    target.parent.mkdir(parents=True)
    target.write_text("{}")
    return root


def test_autograde_where_the_gradebook_lacks_the_assignment_stops_before_grading(tmp_path):
    root = _course_without_gradebook(tmp_path)
    done = cli("autograde", P1, "--course", str(root))
    assert done.returncode == COULD_NOT_RUN
    line = _one_line(done)
    assert "not in the gradebook" in line and f"nbgrader generate_assignment {P1}" in line
    assert not (root / "logs").exists() and not (root / "autograded").exists()


def test_config_reaches_the_nbgrader_steps(tmp_path, monkeypatch):
    custom = tmp_path / "course_config.py"
    custom.write_text(DEFAULT_CONFIG.read_text().replace('COURSE_ID = "learning-from-tensors"',
                                                         'COURSE_ID = "other-course"'))
    root = _course_without_gradebook(tmp_path)
    done = cli("--config", str(custom), "autograde", P1, "--course", str(root))
    assert "course other-course" in _one_line(done)
    from traitlets.config import Config

    from autograder.nbgrader_setup import configure

    monkeypatch.setenv("TENSORGRADE_CONFIG", str(custom))  # what `tensorgrade --config` sets for nbgrader
    c = Config()
    configure(c, root)
    assert c.CourseDirectory.course_id == "other-course"


def test_autograde_of_a_course_without_submissions_or_of_an_unknown_student_stops(tmp_path):
    done = cli("autograde", P1, "--course", str(tmp_path / "nowhere"))
    assert done.returncode == COULD_NOT_RUN and "no such course directory" in _one_line(done)
    done = cli("autograde", P1, "--course", str(tmp_path))
    assert done.returncode == COULD_NOT_RUN and "no submissions of part1_regression" in _one_line(done)
    root = _course_without_gradebook(tmp_path)
    done = cli("autograde", P1, "--course", str(root), "--student", "zoe")
    assert done.returncode == COULD_NOT_RUN and "no submission of part1_regression by zoe" in _one_line(done)


def test_an_unreadable_notebook_is_reported_once_not_per_check(tmp_path):
    bad = tmp_path / "nb.ipynb"
    bad.write_text('{"cells": [ this is not JSON')
    done = cli("grade", str(bad), "--assignment", P1, "--out", str(tmp_path / "r.json"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("not valid JSON") == 1, done.stdout
    data = json.loads((tmp_path / "r.json").read_text())
    validate_gradescope(data)
    assert data["score"] == 0 and data["output"].count("not valid JSON") == 1
    assert not any("JSON" in t["output"] for t in data["tests"])


# --- the CLI fits in ----------------------------------------------------------------------------------------------

def test_version_and_help_with_exit_codes_and_a_sentence_per_option():
    from autograder.cli import parser

    done = cli("--version")
    assert done.returncode == 0 and done.stdout.startswith("tensorgrade ")
    top = cli("--help").stdout
    assert all(f"  {code}  {what}" in top for code, what in EXIT_CODES.items())
    assert "--verbose" in top
    sub = next(a for a in parser()._actions if a.dest == "command")
    for name, sp in sub.choices.items():
        for action in sp._actions:
            if action.dest != "help":
                assert action.help and len(action.help) > 15, (name, action.dest)


# --- Gradescope's format ------------------------------------------------------------------------------------------

def test_results_json_follows_gradescopes_documented_format_without_manual_questions():
    data = synthetic_report({"model_values": False}).to_gradescope()
    validate_gradescope(data)
    assert "max_score" not in data
    assert {t["name"] for t in data["tests"]} == set(CONFIG.assignment(P1).check_points)
    assert data["score"] == sum(t["score"] for t in data["tests"])
    assert [t["status"] for t in data["tests"] if t["name"] == "model_values"] == ["failed"]
    with pytest.raises(jsonschema.ValidationError):
        validate_gradescope({**data, "max_score": 100})  # the old, undocumented key


# --- regrades -----------------------------------------------------------------------------------------------------

def test_a_resubmitted_notebook_is_selected_again_and_force_or_student_narrow_it(tmp_path, monkeypatch):
    layout = CourseLayout(tmp_path)
    notebooks = {}
    for student in ("ada", "bob", "cyd"):
        path = layout.submitted(student, P1) / "part1_regression.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(f'{{"student": "{student}"}}')
        notebooks[student] = path
    recorded = {"ada", "bob"}
    monkeypatch.setattr(pending, "is_recorded", lambda root, cid, a, s: s in recorded)
    for student in recorded:
        write_log(layout, logged(student, notebooks[student], synthetic_report({})))
    assert pending.select_submissions(P1, tmp_path, CONFIG) == ["cyd"]
    notebooks["bob"].write_text('{"student": "bob", "resubmitted": true}')
    assert pending.select_submissions(P1, tmp_path, CONFIG) == ["bob", "cyd"]
    assert pending.select_submissions(P1, tmp_path, CONFIG, students=["ada"]) == []
    assert pending.select_submissions(P1, tmp_path, CONFIG, students=["ada"], force=True) == ["ada"]
    assert pending.select_submissions(P1, tmp_path, CONFIG, force=True) == ["ada", "bob", "cyd"]
    assert read_log(layout, "ada", P1).sha256 == fingerprint(notebooks["ada"])


# --- exports and the class report ---------------------------------------------------------------------------------

def _logged_class(root: Path) -> CourseLayout:
    """Five logged submissions: two perfect, two with failures, one unreadable, one with a grader problem."""
    layout = CourseLayout(root)
    cases = {
        "ada": synthetic_report({}),
        "bob": synthetic_report({"loss_fn_value": False, "training_loop_trajectory": False}),
        "cyd": synthetic_report({"loss_fn_value": False}, grader_problems=["make_dnn_forward: internal error in the "
                                                                           "grader\nTraceback ...\nZeroDivisionError"]),
        "dee": synthetic_report({}),
        "eve": GradeReport(P1, [CheckResult(c.name, c.grade_id, 0.0, c.max_score, "not run")
                                for c in synthetic_report({}).checks], {}, [], 0.01, unreadable="Your notebook "
                           "could not be graded: the file is not valid JSON (line 1)."),
    }
    for student, report in cases.items():
        path = layout.submitted(student, P1) / "part1_regression.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(student)
        write_log(layout, logged(student, path, report))
    return layout


def test_long_csv_has_one_row_per_student_and_check(tmp_path):
    _logged_class(tmp_path)
    rows = check_rows(tmp_path, P1)
    assert len(rows) == 5 * len(CONFIG.assignment(P1).check_points)
    bob = {r["check"]: r for r in rows if r["student"] == "bob"}
    assert bob["loss_fn_value"]["points"] == 0 and bob["loss_fn_value"]["max_points"] == 4
    assert bob["loss_fn_value"]["grade_id"] == "test_loss_fn" and "expected 1.5" in bob["loss_fn_value"]["message"]
    assert bob["model_values"]["message"] == ""
    path = export_checks(tmp_path, CONFIG)
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS)


def test_report_findings(tmp_path):
    from autograder.submission_log import read_logs

    f = findings(read_logs(_logged_class(tmp_path), P1))
    # eve's unreadable file ran no check: she is in no figure (scores, failure rates, times), and said so
    assert f.failure_rates[0] == ("loss_fn_value", pytest.approx(2 / 4)) and f.failure_rates[-1][1] == 0
    assert f.scores == [80, 68, 76, 80] and f.unreadable == ["eve"] and f.graded == 4
    assert "4 graded submissions" in f.header() and "1 file could not be read" in f.header()
    # numbers the same in every student's message are shown; those that differ would be blanked
    assert f.reasons["test_loss_fn"] == [("loss_fn_value: expected 1.5, got 30.6", 2)]
    assert [s for s, _ in f.problems] == ["cyd", "eve"]
    assert reason_of("expected 1.53168, got -3e-05") == "expected #, got #"


def _check(name: str, **fields) -> CheckResult:
    spec = CONFIG.assignment(P1)
    pts = spec.check_points[name]
    return CheckResult(name, spec.grade_id_of[name], fields.pop("score", 0.0), pts, fields.pop("output", ""), **fields)


def test_report_counts_students_names_mistakes_by_title_and_leaves_not_credited_checks_out_of_the_hardest():
    from autograder.diagnosis import mistake_titles
    from autograder.results import Status

    titles = mistake_titles(P1)
    mistake = next(i for i in titles if i == "sum_instead_of_mean")
    # one student, one mistake, two checks of loss_fn failing with it, and a dependent check not credited
    bob = GradeReport(P1, [_check("loss_fn_value", output="loss_fn: expected 1.5, got 30", mistake=mistake),
                           _check("loss_fn_gradient", output="loss_fn: expected 2.5, got 50", mistake=mistake),
                           _check("loss_fn_is_scalar", output="needs loss_fn_value, which did not pass: see ...",
                                  status=Status.NOT_CREDITED, needs="loss_fn_value")], {}, student="bob")
    f = findings([bob], titles)
    assert f.reasons["test_loss_fn"] == [(titles[mistake], 1)], "one student counts once, by the mistake's title"
    rates = dict(f.failure_rates)
    assert rates["loss_fn_value"] == 1 and rates["loss_fn_is_scalar"] == 0
    assert not any("loss_fn_is_scalar" in line for line in f.summary())


def test_report_shows_every_students_measured_accuracy_and_the_threshold():
    spec = load_config().assignment("part2_mnist")
    pts = spec.check_points["mnist_accuracy"]
    reports = [GradeReport("part2_mnist", [CheckResult("mnist_accuracy", "test_mnist_accuracy", pts if a >= .8 else 0,
                                                       pts, "" if a >= .8 else f"expected at least 80.9% accuracy, "
                                                       f"got {a:.1%}", measured={"accuracy": a, "threshold": .809})],
                           {}, student=who) for who, a in (("ada", .92), ("bob", .55), ("cyd", .61))]
    f = findings(reports)
    assert f.measured["mnist_accuracy"] == [("ada", {"accuracy": .92, "threshold": .809}),
                                            ("bob", {"accuracy": .55, "threshold": .809}),
                                            ("cyd", {"accuracy": .61, "threshold": .809})]
    assert f.reasons["test_mnist_accuracy"] == [("expected at least 80.9% accuracy, got #", 2)]
    assert "mnist_accuracy: ada: accuracy 92.0%, threshold 80.9%" in f.summary()


def test_the_terminal_summary_cuts_a_long_note_at_a_word():
    from autograder.wording import shortened

    text = "the notebook could not be graded because the grading process stopped every time it graded it"
    cut = shortened(text, 40)
    assert len(cut) <= 40 and cut.endswith("...") and text.startswith(cut[:-3]) and text[len(cut) - 3] == " "


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                       "--no-install-recommends chromium", shell=True, capture_output=True, timeout=900)
        found = shutil.which("chromium")
    if found is None:
        pytest.skip("no chromium: install Debian's `chromium` (apt-get install chromium) to check the report's page")
    return found


PROBE = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images].map(i => ({src: i.getAttribute('src'), w: i.naturalWidth, ok: i.complete}));
  const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)
    .map(e => e.tagName + ':' + (e.textContent || '').slice(0, 40));
  const out = {imgs, wide, innerWidth, scrollWidth: document.documentElement.scrollWidth};
  const pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script></body>"""


def open_in_chromium(page: Path, width: int = 1280) -> dict:
    """Load the page in headless Chromium at `width` px; what its images and layout measured."""
    probed = page.with_name("probe.html")
    probed.write_text(page.read_text().replace("</body>", PROBE))
    done = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           f"--window-size={width},900", "--allow-file-access-from-files",
                           "--virtual-time-budget=10000", "--dump-dom", probed.as_uri()],
                          capture_output=True, text=True, timeout=120)
    probed.unlink()
    start = done.stdout.find('<pre id="probe">')
    assert start >= 0, done.stderr[-2000:]
    import html

    return json.loads(html.unescape(done.stdout[start + len('<pre id="probe">'):done.stdout.index("</pre>", start)]))


def test_report_page_loads_every_figure_and_fits_1280_px_in_headless_chromium(tmp_path):
    _logged_class(tmp_path)
    page, _ = build_report(tmp_path, P1, CONFIG)
    assert page == CourseLayout(tmp_path).report(P1)
    text = page.read_text()
    for words in ("internal error in the grader", "not valid JSON", "expected 1.5, got 30.6", "full isolation: test"):
        assert words in text, words
    measured = open_in_chromium(page)
    assert measured["innerWidth"] == 1280
    assert len(measured["imgs"]) == 3
    assert all(img["ok"] and img["w"] > 0 for img in measured["imgs"]), measured["imgs"]
    assert measured["scrollWidth"] <= 1280 and measured["wide"] == [], measured


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_is_accepted_before_or_after_the_command_and_named_in_its_errors(tmp_path, where):
    custom = tmp_path / "term2.py"
    custom.write_text(DEFAULT_CONFIG.read_text().replace('"model_values": 3', '"model_value": 3'))
    option = ["--config", str(custom)]
    args = [*option, "grade", "x.ipynb", "--assignment", P1] if where == "before" else \
        ["grade", "x.ipynb", "--assignment", P1, *option]
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == COULD_NOT_RUN
    line = _one_line(done)
    assert line.startswith(f"tensorgrade: {custom}: ") and "(did you mean 'model_values'?)" in line


def test_zero_workers_is_refused_before_grading(tmp_path):
    done = cli("autograde", P1, "--workers", "0", "--course", str(tmp_path), cwd=tmp_path)
    assert done.returncode == COULD_NOT_RUN
    assert "--workers: must be at least 1, not 0" in done.stderr


@pytest.mark.parametrize("change, said", [
    ('"dataset": "MNIST"', "no offline copy of FashionMNIST"),
    ('"data_root": None', "does not exist"),
])
def test_a_data_problem_stops_before_grading_in_one_line(tmp_path, change, said):
    custom = tmp_path / "course_config.py"
    new = '"dataset": "FashionMNIST"' if "dataset" in change else '"data_root": "no-such-folder"'
    custom.write_text(DEFAULT_CONFIG.read_text().replace(change, new))
    notebook = tmp_path / "part2_mnist.ipynb"
    notebook.write_text("{}")
    done = cli("grade", str(notebook), "--assignment", "part2_mnist", "--config", str(custom), "--out", "r.json",
               cwd=tmp_path)
    assert done.returncode == COULD_NOT_RUN
    line = _one_line(done)
    assert line.startswith(f"tensorgrade: {custom}: ASSIGNMENTS['part2_mnist']['settings']: dataset") and said in line
    assert not (tmp_path / "r.json").exists()


def test_a_misspelt_assignment_setting_stops_with_exit_2_naming_the_one_meant(tmp_path):
    custom = tmp_path / "course_config.py"
    custom.write_text(DEFAULT_CONFIG.read_text().replace('"batch_size": 64', '"batchsize": 64'))
    done = cli("--config", str(custom), "autograde", P1, "--course", str(tmp_path), cwd=tmp_path)
    assert done.returncode == COULD_NOT_RUN
    assert _one_line(done) == (f"tensorgrade: {custom}: ASSIGNMENTS['part2_mnist']['settings']: batchsize is not a "
                               "setting (did you mean batch_size?)")


# --- the batch's record reaches nbgrader; the client never grades --------------------------------------------------

def _release():
    from autograder.submission import release_of

    return release_of(P1, CONFIG)


def test_a_solution_cell_turned_markdown_is_graded_as_nbgrader_records_it():
    from autograder import nbgrader_cells
    from autograder.submission import as_recorded, build_program
    from tests.helpers import solution

    nb = solution(P1)
    cell = next(c for c in nb.cells if nbgrader_cells.is_solution(c) and c.cell_type == "code")
    cell.cell_type = "markdown"  # the student's edit; nbgrader's OverwriteCells turns it back into code
    del cell["outputs"], cell["execution_count"]
    assert cell.source not in [c["source"] for c in build_program(nb, _release()).cells], "as submitted: skipped"
    recorded = as_recorded(nb, _release())
    assert cell.cell_type == "code" and cell.source in [c["source"] for c in build_program(recorded, _release()).cells]


def _grade_in_sandbox(tmp_path, monkeypatch, record: GradeReport | None, nb):
    from autograder import grading, nbgrader_plugin

    def never(*args, **kwargs):
        raise AssertionError("the nbgrader step graded: with a record file it must only record")

    monkeypatch.setattr(grading, "grade_notebook", never)  # the step imports it where it grades
    path = tmp_path / "logs" / "{assignment}" / "{student}.json"
    if record is not None:
        write_log(CourseLayout(tmp_path), record)
    step = nbgrader_plugin.GradeInSandbox(record_file=str(path))
    step.preprocess(nb, {"nbgrader": {"assignment": P1, "student": "ada"}})
    return read_log(CourseLayout(tmp_path), "ada", P1)


def test_the_nbgrader_step_records_the_batchs_record_of_the_same_code(tmp_path, monkeypatch):
    from autograder.submission import recorded_key
    from tests.helpers import solution

    nb = solution(P1)
    record = synthetic_report({"model_values": False}, student="ada", program_key=recorded_key(nb))
    assert _grade_in_sandbox(tmp_path, monkeypatch, record, nb) == record
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_model"][0]
    assert any("model_values" in str(o.get("data", {})) for o in graded.outputs), "the record's checks are its outputs"


@pytest.mark.parametrize("which", ["other code", "no record"])
def test_a_record_that_does_not_match_is_recorded_as_a_grader_problem_never_graded_again(tmp_path, monkeypatch,
                                                                                         which):
    from autograder.nbgrader_plugin import NOT_MATCHED
    from autograder.results import Status
    from tests.helpers import solution

    record = synthetic_report({}, student="ada", program_key="the key of other code")
    logged = _grade_in_sandbox(tmp_path, monkeypatch, record if which == "other code" else None, solution(P1))
    assert logged.score == 0 and all(c.status is Status.GRADER_ERROR for c in logged.checks)
    assert logged.notes == [NOT_MATCHED] and "not graded again" in logged.grader_problems[0]
