"""What people see, in headless Chromium (issues 19 and 25): feedback pages, formgrader's view, class reports.

A small course is built once for this module from the demo's submissions (a few students of each assignment) plus a
submission carrying a catalogue of the well-known script-injection vectors, and graded through nbgrader's autograde
(the batch's path). Pages are read the way a person reads them: the visible text (no markup or CSS shown as text),
the numbers (the feedback page's total is grades.csv's), the colours of passed and failed checks. Formgrader runs
as `jupyter server` with nbgrader's extension on a loopback port, opened as a logged-in TA. Screenshots at 1280 and
390 px go to build/screenshots/ for a person to look at.
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder.course import autograde_course, export_grades, generate_feedback
from autograder.demo import make_course
from autograder.paths import PROJECT_ROOT
from autograder.report import build_report
from tests.helpers import test_config
from tests.test_feedback_pages import _chromium
from tests.test_sanitize import DANGEROUS_CLASSES

SHOTS = PROJECT_ROOT / "build" / "screenshots"
WIDTHS = (1280, 390)
STUDENTS = {"part1_regression": ["reference", "no_zero_grad", "sum_not_mean", "not_json"],
            "part2_mnist": ["reference", "swapped_mean_std"]}
KNOWN_WRONG = {"no_zero_grad", "sum_not_mean", "swapped_mean_std"}  # their pages show failed checks
HOSTILE = "writes_scripts"  # the student whose submission carries the catalogue below
ANSWER_TEXT = "My answer: the learning rate sets the step size"


def _run(name: str) -> str:
    """A payload that leaves three traces if it runs: the page's title, a global, a request to /xss/<name>."""
    return (f"document.title='XSS {name}';window.__xss=(window.__xss||[]).concat(['{name}']);"
            f"fetch('/xss/{name}')")


# The attack: read the XSRF cookie, list this submission's grades, give each full marks and extra credit.
ATTACK = ("window.__xss=(window.__xss||[]).concat(['attack']);(async function(){var x=document.cookie.match("
          "/_xsrf=([^;]+)/);var h={'X-XSRFToken':x?decodeURIComponent(x[1]):''};var s=location.pathname.split('/')"
          ".filter(Boolean).pop();var g=await (await fetch('/formgrader/api/grades?submission_id='+s,{headers:h}))"
          ".json();for(var i=0;i<g.length;i++){await fetch('/formgrader/api/grade/'+g[i].id,{method:'PUT',"
          "headers:h,body:JSON.stringify({manual_score:g[i].max_score,extra_credit:5})});}})()")
VECTORS = {
    "script tag": f"<script>{_run('script')}</script>",
    "img onerror": f'<img src="x" onerror="{_run("img")}">',
    "img from elsewhere": '<img src="http://127.0.0.1:9/xss/tracker.png">',
    "svg onload (the issue's attack)": f'<svg onload="{ATTACK}"></svg>',
    "details ontoggle": f'<details open ontoggle="{_run("details")}"><summary>s</summary>d</details>',
    "body onload": f'<body onload="{_run("body")}">',
    "video onerror": f'<video src="x" onerror="{_run("video")}"></video>',
    "video source onerror": f'<video><source src="x" onerror="{_run("source")}"></video>',
    "audio onerror": f'<audio src="x" onerror="{_run("audio")}"></audio>',
    "input autofocus onfocus": f'<input autofocus onfocus="{_run("input")}">',
    "marquee onstart": f'<marquee onstart="{_run("marquee")}">m</marquee>',
    "javascript: link": f'<a id="jslink" href="javascript:{_run("link")}">a link</a>',
    "iframe javascript: src": f'<iframe src="javascript:parent.eval(&quot;{_run("iframe")}&quot;)"></iframe>',
    "iframe srcdoc": f'<iframe srcdoc="&lt;script&gt;parent.eval(&quot;{_run("srcdoc")}&quot;)&lt;/script&gt;">'
                     '</iframe>',
    "object data: URL": '<object data="data:text/html,&lt;script&gt;parent.document.title=1&lt;/script&gt;"></object>',
    "embed": '<embed src="data:text/html,&lt;script&gt;parent.document.title=1&lt;/script&gt;">',
    "svg use": '<svg><use href="data:image/svg+xml,&lt;svg id=&quot;x&quot; xmlns=&quot;http://www.w3.org/2000/svg'
               f'&quot;&gt;&lt;image href=&quot;x&quot; onerror=&quot;{_run("use")}&quot;/&gt;&lt;/svg&gt;#x"/></svg>',
    "svg animate onbegin": f'<svg><animate onbegin="{_run("animate")}" attributeName="x" dur="1s"/></svg>',
    "svg set href": f'<svg><a><set attributeName="href" to="javascript:{_run("set")}"/><text y="20">s</text></a>'
                    '</svg>',
    "math href": f'<math><mtext href="javascript:{_run("math")}">m</mtext></math>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=/xss/meta">',
    "form action": f'<form action="javascript:{_run("form")}"><button>send</button></form>',
    "button formaction": f'<form><button formaction="javascript:{_run("formaction")}">go</button></form>',
    "base href": '<base href="/xss/base/">',
    "style tag": '<style>body { display: none; } @import url("/xss/style");</style>',
    "style attribute": '<div style="background-image:url(/xss/styleattr);position:fixed;top:0">styled</div>',
}


def _nested_fences(markdown: str) -> str:
    """The red team's wrapper: code fences in a code fence, "blank" lines of a form feed (an HTML sanitizer keeps
    them, mistune reads them as blank): each rendering as markdown unwraps one fence, so `markdown` turned live only
    in formgrader's last rendering, which nothing sanitized."""
    return f"````text\nzzz\n\x0c\n```text\naaa\n\x0c\n{markdown}\n```\n````"


CLICK_TEXT = "Click to open my interactive plot"
CLICK_ME = "See Figure 1 and the derivation below (click to expand)"
CLOBBERED = ("test_training_loop", "answer_no_grad_in_place", "answer_call_vs_forward")  # grade ids of other cells
PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="
# A red team's finds on the sanitized design (issue 25): markup live in formgrader's last, unsanitized rendering;
# classes that hook formgrader's controls or bootstrap's styles without any script; requests from the TA's browser.
RED_TEAM = {  # later fixed overlays lie above earlier ones, so a click meets the attacks before the blackout
    "backdrop over the page": '<div class="modal-backdrop" title="blackout"></div>',
    "fake total in a fixed header": '<div class="navbar navbar-default navbar-fixed-top"><div class="container">'
                                    "<p>Total: 100 / 100 points.</p></div></div>",
    "classes that hide or pose as formgrader": '<div class="affix alert alert-success">score: 8 / 8 points</div>'
                                               '<div class="sr-only">for screen readers</div><div class="hidden">'
                                               'hidden</div><div class="panel panel-primary nbgrader_cell"><span '
                                               'class="label label-success btn btn-success full-credit">Full credit'
                                               "</span></div>",
    "full-credit class on the answer's text": f'<div class="full-credit">{CLICK_ME}</div>',
    "full-credit invisible overlay": '<div class="full-credit modal-backdrop fade" title="clickjack"></div>',
    "nested fences, javascript: link": _nested_fences(
        f"[{CLICK_TEXT}](javascript:{urllib.parse.quote(_run('fences'), safe='')})"),
    "nested fences, invisible full-page link": '<div class="modal-backdrop fade">\n\n' + _nested_fences(
        f'[<img src="{PIXEL}" width="3000" height="3000" alt="plot">](javascript:'
        f"{urllib.parse.quote(ATTACK, safe='')})") + "\n\n</div>",
    "nested fences, headings with other cells' grade ids": _nested_fences("\n".join(f"# {g}" for g in CLOBBERED)),
    "image at /logout": '<img src="/logout" alt="">',
    "relative image": '<img src="xss/relative-img" alt="r">',
    "markdown image from elsewhere": "![x](http://127.0.0.1:9/xss/md-img.png)",
}
# A student's exception message that a check's reason quotes, in TeX the page's MathJax would render as a verdict.
RAISES_TEX = ('def predict_classes(scores):\n'
              '    raise ValueError("$\\\\color{green}{\\\\text{passed}}$")\n')
# Outputs of a student's code cell: kinds a notebook page would run or render as markup.
OUTPUTS = [
    nbformat.v4.new_output("display_data", data={"text/html": f'<b>html output</b><img src="x" onerror="'
                                                              f'{_run("html-output")}">'}),
    nbformat.v4.new_output("display_data", data={"application/javascript": _run("js-output"),
                                                 "text/plain": "<IPython.core.display.Javascript object>"}),
    nbformat.v4.new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {
        "model_id": "x", "version_major": 2, "version_minor": 0}, "text/plain": "a widget"}),
    nbformat.v4.new_output("display_data", data={"text/markdown": f'<svg onload="{_run("md-output")}"></svg>'}),
    nbformat.v4.new_output("display_data", data={"image/svg+xml": f'<svg onload="{_run("svg-output")}"></svg>'}),
    nbformat.v4.new_output("execute_result", execution_count=1,
                           data={"text/html": f'<script>{_run("result")}</script>', "text/plain": "1"}),
]


def _hostile_notebook(reference: Path) -> nbformat.NotebookNode:
    """The reference submission whose written answer, a new markdown cell and a new code cell's outputs carry every
    vector above, and whose predict_classes raises an error in TeX."""
    nb = nbformat.read(reference, as_version=4)
    catalogue = "\n\n".join([f"{name}: {markup}" for name, markup in VECTORS.items()]
                              + [f"{name}:\n\n{markup}" for name, markup in RED_TEAM.items()])
    answer = next(c for c in nb.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution"))
    next(c for c in nb.cells if c.cell_type == "code" and "def predict_classes" in c.source).source = RAISES_TEX
    answer.source = f"{ANSWER_TEXT}.\n\n{catalogue}"
    nb.cells.append(nbformat.v4.new_markdown_cell(f"## My notes\n\n{catalogue}"))
    code = nbformat.v4.new_code_cell("answer = 1")
    code.outputs = OUTPUTS
    nb.cells.append(code)
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A few demo students of each assignment and the hostile one, graded through nbgrader; feedback, grades.csv,
    class reports."""
    root = tmp_path_factory.mktemp("pages") / "course"
    config = test_config()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        make_course(root, config)
        assignment = "part1_regression"
        target = root / "submitted" / HOSTILE / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(_hostile_notebook(root / "submitted" / "reference" / assignment / f"{assignment}.ipynb"),
                       target)
        for name, students in STUDENTS.items():
            graded = students + ([HOSTILE] if name == assignment else [])
            autograde_course(name, root, config, progress=False, students=graded, workers=1)
            assert generate_feedback(name, root, config, students=graded) == [], "a feedback page was not written"
            build_report(root, name, config)
        export_grades(root, config.course_id, root / "grades.csv")
    return root


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (the system's, through Playwright's protocol client: no browser download)."""
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


# The text a reader sees, without code (whose `<` and `{` are the student's own): markup or CSS shown as text.
VISIBLE_PROSE = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('pre, code, .input_area, .highlight, script, style, textarea').forEach(e => e.remove());
  return body.innerText;
}"""
SHOWN_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9-]*(\s|>|/)|&lt;|&gt;|&amp;|\{[^}]*:[^}]*;|\btg-[a-z]")


def _shown_markup(text: str) -> list[str]:
    return [text[max(0, m.start() - 40):m.end() + 40] for m in SHOWN_MARKUP.finditer(text)]


def _colour(page, selector: str) -> str | None:
    return page.evaluate(f"() => {{ const e = document.querySelector({json.dumps(selector)}); return e ? "
                         "getComputedStyle(e).color + ' on ' + getComputedStyle(e).backgroundColor : null; }")


def _grades_csv(course: Path) -> dict[tuple[str, str], dict]:
    with open(course / "grades.csv", newline="") as f:
        return {(r["assignment"], r["student_id"]): r for r in csv.DictReader(f)}


def _assert_fits(page, what: str) -> None:
    """Nothing of the page reaches past the window at 1280 or 390 px: no sideways scrolling."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        sideways = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert sideways <= 1, f"{what} scrolls {sideways} px sideways at {width} px"


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


FEEDBACK = [(s, a) for a, students in STUDENTS.items() for s in students] + [(HOSTILE, "part1_regression")]


@pytest.mark.parametrize("student, assignment", FEEDBACK, ids=[f"{s}-{a}" for s, a in FEEDBACK])
def test_feedback_page_shows_formatted_text_the_total_of_grades_csv_and_coloured_checks(course, browser, student,
                                                                                          assignment):
    page = browser.new_page()
    page.goto((course / "feedback" / student / assignment / f"{assignment}.html").as_uri())
    shown = _shown_markup(page.evaluate(VISIBLE_PROSE))
    assert not shown, f"markup or CSS shown as text on {student}'s page: {shown[:5]}"
    row = _grades_csv(course)[(assignment, student)]
    total = page.inner_text("#tg-total")
    assert f"Auto-graded: {float(row['auto_score']):g} / {float(row['auto_max_score']):g} points" in total, \
        f"the page says {total!r}; grades.csv says {row['auto_score']} / {row['auto_max_score']}"
    passed, failed = _colour(page, ".tg-passed .tg-mark"), _colour(page, ".tg-failed .tg-mark")
    if passed and failed:
        assert passed != failed, f"passed and failed checks look alike: {passed}"
    if student in KNOWN_WRONG:
        assert failed, f"{student}'s page shows no failed check"
    undescribed = page.locator("img:not([alt])").count()
    assert undescribed == 0, f"{undescribed} image(s) on {student}'s page have no words for a screen reader"
    _assert_fits(page, f"{student}'s page")
    _shoot(page, f"feedback-{student}-{assignment}")
    page.close()


# Every class and id on an element of a student's markdown (a heading's id would be one of formgrader's, `#` + id).
STUDENT_HOOKS = """() => [...document.querySelectorAll('.text_cell_render *')]
  .flatMap(e => [...e.classList].concat(e.id ? ['#' + e.id] : []))"""


def _student_hooks(page) -> list[str]:
    """The ids, and the classes that the page's styles or formgrader give a meaning, on a student's markdown."""
    return [h for h in page.evaluate(STUDENT_HOOKS) if h in DANGEROUS_CLASSES or h.startswith("#")]


def _assert_checks_out_of_mathjax(page, what: str) -> None:
    assert page.locator(".tg-checks").count() > 0 and page.locator(".tg-checks:not(.tex2jax_ignore)").count() == 0, \
        f"{what}: a check's reason is open to MathJax"


def _opened(page, url: str, normal: dict[str, str]) -> set[str]:
    """The requests that opening `url` in `page` made, with each key of `normal` written as its value."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(f"{r.method} {r.url}"))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1000)
    made = set()
    for request in requests:
        for key, value in normal.items():
            request = request.replace(key, value)
        made.add(request)
    return made


def test_the_hostile_students_feedback_page_keeps_the_answer_and_says_what_was_removed(course, browser):
    def feedback(student: str) -> str:
        return (course / "feedback" / student / "part1_regression" / "part1_regression.html").as_uri()

    own = _opened(browser.new_page(), feedback("reference"), {})
    page = browser.new_page()
    made = _opened(page, feedback(HOSTILE), {f"/{HOSTILE}/": "/reference/"})
    assert made <= own, f"requests the page does not make itself: {made - own}"
    text = page.inner_text("body")
    assert ANSWER_TEXT in text and "[removed by the grader: a script]" in text
    assert "[removed by the grader: an image not embedded in the notebook]" in text
    assert page.evaluate("() => window.__xss") is None
    assert not _student_hooks(page), f"hooks in the student's markup: {_student_hooks(page)}"
    _assert_checks_out_of_mathjax(page, "feedback page")
    assert page.locator(".tg-summary.tex2jax_ignore").count() == 1
    page.close()


@pytest.mark.parametrize("assignment", list(STUDENTS))
def test_class_report_shows_no_markup_as_text(course, browser, assignment):
    page = browser.new_page()
    page.goto((course / "reports" / assignment / "index.html").as_uri())
    shown = _shown_markup(page.evaluate(VISIBLE_PROSE))
    assert not shown, f"markup shown as text in the {assignment} report: {shown[:5]}"
    assert page.locator("h1").inner_text().endswith("class report")
    _assert_fits(page, f"the {assignment} report")
    _shoot(page, f"report-{assignment}")
    page.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def formgrader_server(course: Path):
    """`jupyter server` with nbgrader's formgrader on a loopback port and a token, in `course`: (base URL, token)."""
    port, token = _free_port(), secrets.token_hex(16)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "JUPYTER_CONFIG_DIR": str(course / ".jupyter"), "JUPYTER_RUNTIME_DIR": str(course / ".runtime")}
    log_path = course / "jupyter-server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [str(bin_dir / "jupyter-server"), "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}", "--allow-root",
             "--ServerApp.jpserver_extensions={'nbgrader.server_extensions.formgrader': True}"],
            cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"jupyter server did not start:\n{log_path.read_text()[-3000:]}")
                    time.sleep(0.5)
            yield base, token
        finally:
            server.terminate()
            server.wait(timeout=30)


@pytest.fixture(scope="module")
def formgrader(course):
    """formgrader, serving the module's course."""
    with formgrader_server(course) as served:
        yield served


def _grades(course: Path, student: str, assignment: str = "part1_regression") -> dict[str, tuple]:
    """Every grade of the submission as the gradebook holds it: (auto, manual, extra credit)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        notebook = gb.find_submission_notebook(assignment, assignment, student)
        return {g.name: (g.auto_score, g.manual_score, g.extra_credit) for g in notebook.grades}


def _submission_id(course: Path, student: str, assignment: str = "part1_regression") -> str:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return gb.find_submission_notebook(assignment, assignment, student).id


def _open_as_ta(browser, formgrader, submission_id: str):
    """The submission view in a logged-in TA's browser; the requests it made, and the dialogs it opened."""
    base, token = formgrader
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/?token={token}")  # logs in: the server sets its cookie
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: requests.append(f"{r.method} {r.url}"))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{base}/formgrader/submissions/{submission_id}/")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)  # time for a handler, an animation or a refresh to fire
    return page, requests, dialogs


def test_formgrader_shows_formatted_checks_and_a_labelled_score(course, browser, formgrader):
    page, _, _ = _open_as_ta(browser, formgrader, _submission_id(course, "no_zero_grad"))
    shown = _shown_markup(page.evaluate(VISIBLE_PROSE))
    assert not shown, f"markup or CSS shown as text in formgrader: {shown[:5]}"
    assert page.locator(".tg-check").count() > 5
    passed, failed = _colour(page, ".tg-passed .tg-mark"), _colour(page, ".tg-failed .tg-mark")
    assert passed and failed and passed != failed, f"passed {passed}, failed {failed}"
    scores = page.locator(".tg-score").all_inner_texts()
    assert scores and all(re.fullmatch(r"score: [\d.]+ / [\d.]+ points", s.strip()) for s in scores), scores
    assert "Out[" not in page.inner_text("body"), "a bare score output is shown"
    _assert_fits(page, "formgrader's view")
    _shoot(page, "formgrader-no_zero_grad")
    page.context.close()


def _click_like_a_ta(page) -> None:
    """A TA's clicks on the answer's text and on the link the student asks them to click, where they show."""
    for text in (CLICK_ME, CLICK_TEXT):
        target = page.get_by_text(text).first
        if target.count():
            target.scroll_into_view_if_needed()
            box = target.bounding_box()
            page.mouse.click(box["x"] + 5, box["y"] + box["height"] / 2)
            page.wait_for_timeout(700)


def _assert_nothing_ran(course, browser, formgrader, what: str) -> None:
    before = _grades(course, HOSTILE)
    reference = _submission_id(course, "reference")
    own_page, own, _ = _open_as_ta(browser, formgrader, reference)
    own_page.context.close()
    submission = _submission_id(course, HOSTILE)
    page, requests, dialogs = _open_as_ta(browser, formgrader, submission)
    page.click("#jslink") if page.locator("#jslink").count() else None
    _click_like_a_ta(page)
    ran = page.evaluate("() => window.__xss || null")
    assert ran is None, f"{what}: student scripts ran in the TA's page: {ran}"
    assert page.title() == "part1_regression", f"{what}: the title was changed to {page.title()!r}"
    assert not dialogs, f"{what}: dialogs opened: {dialogs}"
    made = {r.replace(submission, reference) for r in requests if "/favicon.ico" not in r}  # the browser's own
    assert made <= set(own), f"{what}: requests the page does not make itself: {made - set(own)}"
    own_api = {f"/formgrader/api/{kind}?submission_id={submission}" for kind in ("grades", "comments")}
    foreign = [r for r in requests if "/xss" in r or not r.startswith("GET ")
               or ("/api/" in r and r.split(" ", 1)[1].removeprefix(formgrader[0]) not in own_api)]
    assert not foreign, f"{what}: requests the page does not make itself: {foreign}"
    assert _grades(course, HOSTILE) == before, f"{what}: the gradebook changed"
    text = page.inner_text("body")
    assert ANSWER_TEXT in text, f"{what}: the student's answer is not shown"
    assert "[removed by the grader: a script]" in text and "[removed by the grader: an onload handler" in text
    assert "[removed by the grader: a JavaScript output" in text or what == "autograded copy", \
        f"{what}: the removed output is not noted"
    assert "[removed by the grader: an image not embedded in the notebook]" in text
    for grade_id in CLOBBERED:  # formgrader's own control, and nothing of the student's, carries the grade's id
        assert page.locator(f'[id="{grade_id}"]').count() == 1, f"{what}: the id {grade_id} is clobbered"
    assert not _student_hooks(page), f"{what}: hooks in the student's markup: {_student_hooks(page)}"
    if what == "autograded copy":  # the unsanitized copy holds the submission's outputs, without the grader's checks
        _assert_checks_out_of_mathjax(page, what)
    _shoot(page, f"formgrader-{HOSTILE}-{what.replace(' ', '_')}")
    page.context.close()


def test_no_student_script_runs_in_a_tas_formgrader(course, browser, formgrader):
    _assert_nothing_ran(course, browser, formgrader, "autograded copy")


def test_formgrader_cleans_a_notebook_autograded_before_the_kit_sanitized(course, browser, formgrader):
    """Second wall: an autograded copy left with the student's markup as submitted (by an older kit) is cleaned
    as formgrader renders it."""
    assignment = "part1_regression"
    autograded = course / "autograded" / HOSTILE / assignment / f"{assignment}.ipynb"
    kept = autograded.read_bytes()
    shutil.copyfile(course / "submitted" / HOSTILE / assignment / f"{assignment}.ipynb", autograded)
    try:
        _assert_nothing_ran(course, browser, formgrader, "unsanitized copy")
    finally:
        autograded.write_bytes(kept)
