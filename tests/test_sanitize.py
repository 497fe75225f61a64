"""The sanitizer of a student's HTML (autograder/sanitize.py) and the notebook step that applies it
(autograder/student_content.py), pure: what markdown produces stays, what runs goes, with a note."""
from __future__ import annotations

import re
import urllib.parse

import nbformat
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from autograder.sanitize import NO_DESCRIPTION, STUDENT_CLASSES, clean, with_alt_text
from autograder.student_content import SanitizeStudentContent, as_markdown_source, markdown_html

MARKDOWN = """# Part 1: linear regression

In this *notebook* **we** fit $y = w x + b$ with $x^2 < 3$, see [the docs](https://pytorch.org/docs) or
[above](#part-1) or [a file](data/notes.md).

```python
def f(x):

    y = x
    


    return y < 1
```

- one
- two

| a | b |
|---|---|
| 1 | 2 |

![a plot](images/plot.png)

$$\\int_0^1 x\\,dx$$
"""


def test_what_markdown_produces_stays():
    cleaned = markdown_html(MARKDOWN)
    for kept in ("<h1>Part 1: linear regression</h1>", "<em>notebook</em>", "<strong>we</strong>",
                 "$y = w x + b$", "$x^2 &lt; 3$", 'href="https://pytorch.org/docs"', 'href="#part-1"',
                 'href="data/notes.md"', "<li>one</li>", "<td>1</td>", '<img alt="a plot">',
                 "$$\\int_0^1 x\\,dx$$", "<pre>"):
        assert kept in cleaned, kept
    assert re.findall(r"removed by the grader: [^]]*", cleaned) == ["removed by the grader: an image not embedded in "
                                                                    "the notebook"]


def test_the_sanitized_html_reads_the_same_when_rendered_again_as_markdown():
    """formgrader renders the autograded copy's markdown cells again: HTML in them must pass unchanged."""
    cleaned = markdown_html(MARKDOWN)
    again = markdown2html_mistune(as_markdown_source(cleaned))
    assert again.replace("&#10;", "\n").strip() == cleaned.strip()


@pytest.mark.parametrize("markup, note", [
    ('<script>alert(1)</script>', "a script"),
    ('<img src="x" onerror="alert(1)">', "an onerror handler, an image not embedded in the notebook"),
    ('<svg onload="alert(1)"></svg>', "an SVG image, an onload handler"),
    ('<details open ontoggle="alert(1)"><summary>s</summary></details>', "an ontoggle handler"),
    ('<a href="javascript:alert(1)">x</a>', "a javascript: link"),
    ('<a href="JaVa&#115;cript:alert(1)">x</a>', "a javascript: link"),
    ('<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">x</a>', "a data: link"),
    ('<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>', "an iframe"),
    ('<object data="x.swf"></object>', "an object element"),
    ('<embed src="x.swf">', "an embed element"),
    ('<math><mtext href="javascript:alert(1)">m</mtext></math>', "MathML"),
    ('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', "a meta tag"),
    ('<form action="javascript:alert(1)"><button>go</button></form>', "a form, a javascript: link"),
    ('<base href="https://elsewhere.example/">', "a base link"),
    ('<style>body { display: none }</style>', "a style sheet"),
    ('<input autofocus onfocus="alert(1)">', "an input, an onfocus handler"),
])
def test_active_content_is_removed_with_a_visible_note(markup, note):
    cleaned = clean(f"before {markup} after")
    lowered = re.sub(r'<span class="removed">[^<]*</span>', "", cleaned).lower()  # the markup without the notes
    for active in ("<script", "onerror", "onload", "ontoggle", "onfocus", "javascript:", "<iframe", "<object",
                   "<embed", "<math", "<meta", "<form", "<base", "<style", "<svg", "<input", "data:text"):
        assert active not in lowered, f"{active} survived: {cleaned}"
    assert f"[removed by the grader: {note}]" in cleaned
    assert cleaned.startswith("before ") and cleaned.endswith(" after")


def test_styles_ids_and_classes_go_from_a_students_markup_and_the_graders_classes_stay_in_its_own():
    student = clean('<p style="color:red" id="test_loss" class="tg-passed note">x</p>')
    assert student == '<p>x</p>'
    assert 'class="tg-check tg-passed"' in clean('<li class="tg-check tg-passed">x</li>', grader_markup=True)


# Classes that bootstrap or formgrader give a meaning (the red team's finds): a click on the student's text gives
# full credit, an invisible overlay catches every click, a fixed header shows a fake total, text hides or poses as UI.
DANGEROUS_CLASSES = ["full-credit", "no-credit", "mark-graded", "modal-backdrop", "fade", "in", "modal",
                     "navbar", "navbar-fixed-top", "navbar-fixed-bottom", "affix", "sr-only", "hidden", "invisible",
                     "panel", "panel-heading", "nbgrader_cell", "nbgrader-label", "label", "label-success", "btn",
                     "btn-success", "alert", "alert-success", "text-success", "pull-right", "score", "tabbable",
                     "container", "mermaid", "jp-Mermaid", "tex2jax_ignore", "tg-passed", "tg-check", "tg-total"]


@pytest.mark.parametrize("name", DANGEROUS_CLASSES)
def test_no_class_of_the_page_or_formgrader_survives_from_a_students_markup(name):
    assert name not in STUDENT_CLASSES
    for markup in (f'<div class="{name}">x</div>', f'<span class="k {name}">x</span>',
                   f'<pre><code class="language-python {name}">x</code></pre>'):
        assert f'{name}"' not in clean(markup) and f" {name} " not in clean(markup), clean(markup)


def test_code_highlighting_keeps_its_classes():
    highlighted = markdown_html("```python\ndef f(x):\n    return x\n```\n\n```text\nplain\n```")
    assert '<div class="highlight">' in highlighted and '<span class="k">def</span>' in highlighted
    assert clean('<pre><code class="language-python">x</code></pre>') == \
        '<pre><code class="language-python">x</code></pre>'
    assert clean('<div class="language-python">x</div>') == "<div>x</div>"


def test_an_attached_image_shows_as_the_notebooks_own_data_url():
    attachments = {"plot.png": {"image/png": "iVBORw0KGgo="}}
    assert '<img src="data:image/png;base64,iVBORw0KGgo=" alt="plot">' in markdown_html(
        "![plot](attachment:plot.png)", attachments)


def test_images_not_embedded_in_the_notebook_lose_their_source():
    """Any URL is a request from the TA's browser: to another host (who reads, and when), or to the grading server
    with the TA's cookies (`/logout` logged the TA out on view)."""
    for url in ("https://elsewhere.example/track.png", "//elsewhere.example/t.png", "/\\elsewhere.example/t.png",
                "http:x.png", "http://127.0.0.1:9/y.png", "/logout", "xss-relative-img", "images/plot.png",
                "../../formgrader/api/grades"):
        assert clean(f'<img src="{url}" alt="t">') == ('<span class="removed">[removed by the grader: an image not '
                                                       'embedded in the notebook]</span><img alt="t">'), url
    assert "src=" not in markdown_html("![x](http://127.0.0.1:9/y.png)")


def test_only_the_notebooks_raster_images_pass_as_data_urls():
    png = "data:image/png;base64,iVBORw0KGgo="
    assert f'src="{png}"' in clean(f'<img src="{png}">')
    assert clean('<img src="data:image/svg+xml;base64,PHN2Zz4=">').endswith(f'<img alt="{NO_DESCRIPTION}">')


def test_an_image_without_alt_text_gets_words_for_a_screen_reader_and_one_with_alt_text_keeps_its_own():
    png = "data:image/png;base64,iVBORw0KGgo="
    assert clean(f'<p><IMG\nsrc="{png}"> <img alt="my loss curve" src="{png}"/></p>') == (
        f'<p><img alt="{NO_DESCRIPTION}" src="{png}"> <img alt="my loss curve" src="{png}"></p>')
    output = f'<div class="output_png output_subarea">\n<img src="{png}"\nwidth=3\n>\n</div>'  # nbconvert's block
    assert with_alt_text(output) == output.replace("<img", f'<img alt="{NO_DESCRIPTION}"')
    assert with_alt_text(output.replace("<img", '<img alt="a plot"')) == output.replace("<img", '<img alt="a plot"')


def test_the_notebook_step_cleans_markdown_and_outputs_and_says_what_it_removed():
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell('Answer <img src="x" onerror="alert(1)"> *kept*'))
    code = nbformat.v4.new_code_cell("1")
    code.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": "<b>bold</b><script>alert(1)</script>",
                                                     "text/plain": "x"}),
        nbformat.v4.new_output("display_data", data={"application/javascript": "alert(1)"}),
        nbformat.v4.new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "m"},
                                                     "text/plain": "w"}),
        nbformat.v4.new_output("stream", name="stdout", text="<b>printed</b>"),
    ]
    nb.cells.append(code)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    nb, _ = SanitizeStudentContent().preprocess(nb, {})
    markdown, code = nb.cells
    assert "onerror=" not in markdown.source and "<em>kept</em>" in markdown.source
    assert "[removed by the grader: an onerror handler, an image not embedded in the notebook]" in markdown.source
    html_output, widget, stream, note = code.outputs
    assert html_output.data == {"text/plain": "x", "text/html": "<b>bold</b><span class=\"removed\">"
                                "[removed by the grader: a script]</span>"}
    assert widget.data == {"text/plain": "w"} and stream.text == "<b>printed</b>"
    assert note.text == "[removed by the grader: a JavaScript output, a widget]\n"
    assert "widgets" not in nb.metadata
    again, _ = SanitizeStudentContent().preprocess(nb, {})
    assert again.cells[0].source == markdown.source, "cleaning twice changes the cell"


def _formgrader_passes(cell_source: str) -> str:
    """A markdown cell as the kit leaves it in the autograded copy, then as formgrader renders it: the notebook step
    again (formgrader's exporter runs it), then the template's markdown2html."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(cell_source))
    for _ in range(2):
        nb, _ = SanitizeStudentContent().preprocess(nb, {})
    return markdown2html_mistune(nb.cells[0].source)


# The red team's payload: code fences in a code fence, with "blank" lines of a form feed (nh3 keeps them, mistune
# reads them as blank): each rendering as markdown unwraps one fence, until the link is live in the last pass.
NESTED_FENCES = ("````text\nzzz\n{blank}\n```text\naaa\n{blank}\n[Click](javascript:" +
                 urllib.parse.quote("document.title='XSS'", safe="") + ")\n```\n````")


@pytest.mark.parametrize("blank", ["\x0c", "\x0b", " \x0c\t", "\r"])
def test_nested_fences_with_form_feed_lines_stay_code_through_every_rendering(blank):
    rendered = _formgrader_passes(NESTED_FENCES.format(blank=blank))
    assert 'href="javascript' not in rendered and "<a " not in rendered, rendered
    assert clean(rendered) == clean(clean(rendered))


def test_a_line_of_form_feeds_or_vertical_tabs_is_a_blank_line_for_the_escape():
    assert as_markdown_source("<pre>a\n\x0c\nb\n\x0b\x0c \nc</pre>") == "<pre>a&#10;\x0c\nb&#10;\x0b\x0c \nc</pre>"
    assert as_markdown_source("a\r\n\r\nb") == "a&#10;\nb"


def test_the_last_sanitizing_pass_leaves_no_heading_id_to_clobber_formgraders_controls():
    """formgrader finds a grade's controls by id (`$("#" + grade_id)`): a heading `# test_training_loop` given that
    id by markdown2html would make one click score the student's cell and the check's."""
    rendered = markdown2html_mistune("# test_training_loop\n\n## answer_no_grad_in_place")
    assert 'id="test_training_loop"' in rendered  # what the final pass would leave without the sanitizer
    assert "id=" not in clean(rendered)
    assert "id=" not in clean(_formgrader_passes("My answer.\n\n" + NESTED_FENCES.format(blank="\x0c").replace(
        "[Click](javascript:document.title%3D%27XSS%27)", "# test_training_loop")))
