"""What students and TAs see of a grade: graded cells' outputs, and nbgrader's feedback page.

- `cell_outputs`: the outputs GradeInSandbox writes into an autograder cell: the checks as wrapped text
  and as semantic HTML by status (classes only: the templates style them), and the score as the
  execute_result nbgrader reads, labelled for a reader.
- `configure_feedback`: nbgrader's exporters (the feedback page, formgrader's view) use the kit's templates
  and sanitize a student's markup (autograder.sanitize, autograder.student_content).
- `SubmissionExporter`: nbgrader's notebook reader, made defensive: a file that is not a notebook
  becomes the release notebook marked with the plain reason, so nbgrader's own autograde records it
  with that reason and a feedback page, as the batch does.
- `FeedbackPage`: the generate_feedback step that prepares the page: each graded section titled with
  its function, no bare score outputs, written answers "awaiting a TA" until graded and out of the
  provisional total, every code cell numbered as the grader's notes name it.
"""
from __future__ import annotations

import functools
import html
import textwrap
from pathlib import Path

import nbformat
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from nbconvert.exporters import HTMLExporter, NotebookExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor

from .results import CheckResult

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "tensorgrade_feedback"
FORMGRADER_TEMPLATE_NAME = "tensorgrade_formgrade"
WIDTH = 96  # characters per line of plain-text feedback: fits formgrader and a notebook at 1280 px
AUTOGRADED_PREFIX = "Auto-graded when you submit: "


def title_of(source: str, grade_id: str) -> str:
    """The function an autograder cell grades, from its first line ('Auto-graded when you submit: f, 6 points')."""
    first = source.splitlines()[0] if source else ""
    if AUTOGRADED_PREFIX in first:
        return first.split(AUTOGRADED_PREFIX)[-1].split(",")[0].strip('"')
    return grade_id.removeprefix("test_")


def _wrapped(text: str, indent: str) -> str:
    lines = []
    for paragraph in text.split("\n"):
        lines += textwrap.wrap(paragraph, WIDTH, initial_indent=indent, subsequent_indent=indent,
                               break_long_words=True, break_on_hyphens=False) or [indent]
    return "\n".join(lines)


def check_text(check: CheckResult) -> str:
    """One check as wrapped plain text: its head (CheckResult.head, as the terminal and the log open it), then the
    reason indented below it."""
    return check.head if check.passed or not check.output else f"{check.head}\n{_wrapped(check.output, '       ')}"


def check_html(check: CheckResult) -> str:
    """One check as semantic HTML (classes only; the templates style them): status, name, points, reason."""
    css = "tg-" + check.status.value.replace(" ", "-")
    reason = "".join(f'<div class="tg-line">{html.escape(line)}</div>' for line in check.output.split("\n") if line) \
        if not check.passed else ""
    return (f'<li class="tg-check {css}"><span class="tg-mark">{html.escape(check.label)}</span> '
            f'<code class="tg-name">{html.escape(check.name)}</code> '
            f'<span class="tg-points">{check.score:g} / {check.max_score:g} points</span>'
            + (f'<div class="tg-reason">{reason}</div>' if reason else "") + "</li>")


def score_label(score: float, max_score: float) -> str:
    """How the score output of an autograder cell reads where a page shows it (nbgrader reads the bare number)."""
    return f"score: {score:g} / {max_score:g} points"


# MathJax 2's class for markup it leaves alone (nbconvert's pages keep its default ignoreClass): a check's reason or a
# note can quote a student's message, whose `$\\color{green}{...}$` would otherwise render as a coloured claim.
NO_MATHJAX = "tex2jax_ignore"


def cell_outputs(checks: list[CheckResult], notes: list[str]) -> list[NotebookNode]:
    """The outputs of one autograder cell: its checks (text and HTML), notes, and the score as partial credit.

    The HTML carries classes only, styled by the kit's templates (feedback page and formgrader). The notes get an
    output of their own, marked, which the feedback page moves to its header. The score is an execute_result whose
    text/plain nbgrader reads as partial credit; its text/html labels it for whoever reads the notebook.
    """
    score, max_score = sum(c.score for c in checks), sum(c.max_score for c in checks)
    text = "\n".join(check_text(c) for c in checks) + "\n"
    items = "".join(check_html(c) for c in checks)
    checks_html = f'<ul class="tg-checks {NO_MATHJAX}">{items}</ul>'
    outputs = [nbformat.v4.new_output("display_data", data={"text/plain": text, "text/html": checks_html})]
    if notes:
        outputs.append(nbformat.v4.new_output(
            "display_data", metadata={"tensorgrade": "notes"},
            data={"text/plain": "\n".join(_wrapped(f"note: {n}", "") for n in notes) + "\n",
                  "text/html": "".join(f'<div class="tg-note {NO_MATHJAX}">{html.escape(n)}</div>' for n in notes)}))
    outputs.append(nbformat.v4.new_output(
        "execute_result", execution_count=None,
        data={"text/plain": f"{score:g}",
              "text/html": f'<div class="tg-score">{html.escape(score_label(score, max_score))}</div>'}))
    return outputs


def note_output(number: int, note: str) -> NotebookNode:
    """A grader's note shown under the student's own cell `number` (a time-out, a crash)."""
    said = note if note.startswith(f"cell {number}") else f"cell {number}: {note}"
    return nbformat.v4.new_output("stream", name="stdout", text=_wrapped(f"Note from the grader: {said}", "") + "\n")


class _CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, kept in this process (keyed by template name and source checksum)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


class FeedbackExporter(HTMLExporter):
    """The HTML exporter of generate_feedback; configured apart from HTMLExporter, which formgrader also uses.

    nbgrader makes one for each student's page; their templates are compiled once per process (a fifth of a
    page's time when each compiled them again). The page is the template's output as it stands: HTMLExporter
    parses every page again with BeautifulSoup (half a page's time) to give images without alt text nbconvert's
    words and JupyterLab's cells a tabindex; the kit's template and sanitizer write those alt texts as they write
    the images (autograder.sanitize.with_alt_text), and its classic page has no JupyterLab cells."""

    @property
    def environment(self):
        """nbconvert's Jinja environment, with the process's compiled templates."""
        environment = super().environment
        environment.bytecode_cache = _COMPILED
        return environment

    def from_notebook_node(self, nb: NotebookNode, resources: dict | None = None, **kw) -> tuple[str, dict]:
        """The page: HTMLExporter's filters for this notebook (its code's lexer, its output types), then the
        template."""
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name"))
        resources = self._init_resources(resources)
        highlight = self.filters.get("highlight_code", RepeatedCodeHighlight(pygments_lexer=lexer, parent=self))
        self.register_filter("highlight_code", highlight)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata,
                                                                       parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


# The highlighted sources a page process keeps: a page's cells are short (the release's longest is under 2,000
# characters), a hostile notebook's need not be, and highlighted HTML is several times its source.
HIGHLIGHTS_KEPT = 256
HIGHLIGHT_KEPT_UP_TO = 10_000  # characters of source


class RepeatedCodeHighlight(Highlight2HTML):
    """nbconvert's syntax highlighting of a code cell, done once per process for each source: most of a page's code
    is the release's own cells, the same in every student's page, and highlighting them again was about a fifth of a
    page's CPU. The HTML is nbconvert's, for the same source, language and formatter options."""

    def __call__(self, source: str, language: str | None = None, metadata: dict | None = None) -> str:
        key = (source, language or self.pygments_lexer, (metadata or {}).get("magics_language"),
               tuple(sorted(self.extra_formatter_options.items())))
        try:
            hash(key)
        except TypeError:  # a formatter option that is a list or a dict: highlighted each time
            return super().__call__(source, language, metadata)
        return _highlighted(*key) if len(source) <= HIGHLIGHT_KEPT_UP_TO else _highlighted.__wrapped__(*key)


@functools.lru_cache(maxsize=HIGHLIGHTS_KEPT)
def _highlighted(source: str, language: str, magics_language: str | None, options: tuple) -> str:
    highlight = Highlight2HTML(pygments_lexer=language, extra_formatter_options=dict(options))
    return Highlight2HTML.__call__(highlight, source, language,
                                   {"magics_language": magics_language} if magics_language else None)


def configure_feedback(c) -> None:
    """Point nbgrader's generate_feedback, autograde and formgrader at the kit's steps and templates (config `c`).

    Every HTML page of a submission (the feedback page, formgrader's view) renders the notebook after
    SanitizeStudentContent, through templates whose markdown and HTML outputs pass the kit's sanitizer: nbconvert's
    own `sanitize_html` stays on as a second wall (it drops JavaScript and widget outputs), with the kit's sanitizer
    as its `clean_html` filter, since nbconvert's own (bleach's short list) escapes headings, paragraphs and tables.
    """
    import nbgrader
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    from .student_content import SanitizeStudentContent

    formgrader = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    formgrader_templates = formgrader / "templates"
    bootstrap_css = formgrader / "static" / "node_modules" / "bootstrap" / "dist" / "css"  # the page includes it
    page_filter = "autograder.sanitize.clean_page"  # HTML outputs: the autograder cells' keep the grader's classes
    markdown_filter = "autograder.sanitize.clean"  # markdown cells and comments: a student's or a TA's, never ours
    c.GenerateFeedback.exporter_class = FeedbackExporter
    c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, FeedbackPage]
    c.FeedbackExporter.template_name = TEMPLATE_NAME
    c.FeedbackExporter.extra_template_basedirs = [str(TEMPLATES), str(formgrader_templates)]
    # Template paths name files from these folders: 'tensorgrade_checks.css' (both pages' styles) and
    # 'formgrade/index.html.j2' (extended). generate_feedback sets HTMLExporter's paths to bootstrap's folder
    # alone, so the feedback exporter names that folder too.
    c.FeedbackExporter.extra_template_paths = [str(TEMPLATES), str(bootstrap_css)]
    # formgrader renders submissions with a plain HTMLExporter: the kit's template extends nbgrader's formgrade.
    c.HTMLExporter.template_name = FORMGRADER_TEMPLATE_NAME
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), str(formgrader_templates)]
    c.HTMLExporter.extra_template_paths = [str(TEMPLATES), str(formgrader_templates)]
    c.HTMLExporter.preprocessors = [SanitizeStudentContent]
    c.HTMLExporter.filters = {"clean_html": page_filter, "sanitize": markdown_filter}
    c.FeedbackExporter.filters = {**c.HTMLExporter.filters, "alt_text": "autograder.sanitize.with_alt_text"}
    c.HTMLExporter.sanitize_html = True
    c.FeedbackExporter.sanitize_html = True
    c.Autograde.exporter_class = SubmissionExporter


class SubmissionExporter(NotebookExporter):
    """nbgrader's reader of submitted notebooks, made defensive (autograder.submission.read_notebook).

    A file that cannot be read as a notebook becomes the assignment's release notebook, marked with
    the plain reason in its metadata: every check then scores 0 with that reason, the written answers
    0 (they are the release's stubs), and nbgrader writes an autograded notebook and a feedback page.
    """

    def from_file(self, file_stream, resources=None, **kw):
        from .config import load_config
        from .paths import release_notebook
        from .submission import SubmissionError, read_notebook
        from .ungraded import unreadable_reason

        try:
            nb = read_notebook(Path(file_stream.name))
            if getattr(self.parent, "_sanitizing", True):
                nb.metadata.pop("tensorgrade", None)  # only the grader writes it (below, and in GradeInSandbox)
        except SubmissionError as err:
            assignment = (resources or {}).get("nbgrader", {}).get("assignment", "")
            spec = load_config().assignment(assignment)
            nb = nbformat.read(release_notebook(assignment, spec.notebook), as_version=4)
            nb.metadata["tensorgrade"] = {"unreadable": unreadable_reason(err)}
        return self.from_notebook_node(nb, resources=resources, **kw)


def _grade_cells(nb: NotebookNode) -> list[NotebookNode]:
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


class FeedbackPage(NbGraderPreprocessor):
    """generate_feedback's step after GetGrades: prepare the notebook and resources for the kit's template."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        grading = resources["nbgrader"]
        pending = self._awaiting_ta(grading)
        auto_score = auto_max = manual_score = manual_max = awaiting = 0.0
        for number, cell in enumerate(nb.cells, start=1):
            meta = cell.metadata.get("nbgrader", {})
            page: dict = {"number": number}
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                page["title"] = title_of(cell.source, meta.get("grade_id", ""))
                cell.outputs = [o for o in cell.outputs if o.get("output_type") != "execute_result"
                                and o.get("metadata", {}).get("tensorgrade") != "notes"]
                auto_score += float(meta.get("score") or 0)
                auto_max += float(meta.get("points") or 0)
            elif meta.get("grade"):
                page["title"] = "written answer" if cell.cell_type == "markdown" else "answer"
                if meta.get("grade_id") in pending:
                    page["awaiting_ta"] = True
                    awaiting += float(meta.get("points") or 0)
                else:
                    manual_score += float(meta.get("score") or 0)
                manual_max += float(meta.get("points") or 0)
            cell.metadata["tensorgrade_page"] = page
        resources["tensorgrade"] = {
            "auto_score": auto_score, "auto_max": auto_max, "manual_score": manual_score, "manual_max": manual_max,
            "awaiting": awaiting, "provisional": awaiting > 0,
            "notes": list(nb.metadata.get("tensorgrade", {}).get("notes", [])),
            "isolation": nb.metadata.get("tensorgrade", {}).get("isolation", ""),
        }
        return nb, resources

    @staticmethod
    def _awaiting_ta(grading: dict) -> set[str]:
        """Grade ids of the notebook's manually graded cells that no TA has scored yet."""
        with Gradebook(grading["db_url"]) as gb:
            try:
                notebook = gb.find_submission_notebook(grading["notebook"], grading["assignment"],
                                                       grading["student"])
            except MissingEntry:
                return set()
            return {g.name for g in notebook.grades if g.needs_manual_grade and g.manual_score is None}
