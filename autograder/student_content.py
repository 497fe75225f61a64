"""The notebook step that makes a submission safe to open in a grader's browser (autograder.sanitize does the cleaning).

`SanitizeStudentContent` runs last in nbgrader's autograde (so the autograded copy formgrader and generate_feedback
read is already clean, after SaveAutoGrades has compared the answers with the release), and again in every
HTMLExporter the kit configures (formgrader's view, the feedback page), so a notebook autograded by an older kit
is cleaned as it is shown. It trusts no cell metadata: a student can forge `locked`, so

- every markdown cell becomes its rendered markdown, sanitized (HTML is valid markdown: the page shows the same
  headings, lists, code, tables, links, attached images and LaTeX);
- every raw cell is sanitized;
- every output keeps its text, images and sanitized HTML (markdown outputs become sanitized HTML); JavaScript,
  widgets, SVG and any other kind are removed, with a note under the cell that says what was. Only the outputs of
  autograder cells (GradeInSandbox rewrote them all) keep the grader's `tg-` classes.
"""
from __future__ import annotations

import re

import nbformat
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from . import sanitize

# Shown as escaped text (LaTeX for MathJax too) or as a raster image: nothing in them runs.
KEPT = ("text/plain", "text/latex", "image/png", "image/jpeg", "image/gif")
KINDS = {"application/javascript": "a JavaScript output", "text/javascript": "a JavaScript output",
         "application/vnd.jupyter.widget-view+json": "a widget", "image/svg+xml": "an SVG image"}


def markdown_html(source: str, attachments: dict | None = None) -> str:
    """Markdown rendered as nbconvert renders it (attachments embedded, LaTeX left for MathJax), then sanitized."""
    renderer = IPythonRenderer(escape=False, attachments=attachments or {}, exclude_anchor_links=True)
    return sanitize.clean(MarkdownWithMath(renderer=renderer).render(source))


def as_markdown_source(fragment: str) -> str:
    """HTML that a markdown renderer passes through unchanged: no blank line ends its HTML block early (a newline
    before a blank line, as in a <pre>, becomes its character reference, which the page reads the same). A blank
    line is mistune's: spaces, tabs, vertical tabs and form feeds only; carriage returns are line ends."""
    return re.sub(r"\n(?=[ \t\v\f]*\n)", "&#10;", re.sub(r"\r\n?", "\n", fragment))


def _is_autograder_cell(cell: NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def safe_outputs(outputs: list[NotebookNode], grader_markup: bool = False) -> list[NotebookNode]:
    """`outputs` with only text, raster images and sanitized HTML, and a note for what was removed."""
    kept, removed = [], []
    for output in outputs:
        if output.get("output_type") not in ("display_data", "execute_result", "update_display_data"):
            kept.append(output)  # streams and errors: text, which every page escapes
            continue
        data = output.get("data", {})
        safe = {key: data[key] for key in KEPT if key in data}
        if "text/html" in data:
            safe["text/html"] = sanitize.clean(_text(data["text/html"]), grader_markup=grader_markup)
        if "text/markdown" in data:
            safe["text/html"] = markdown_html(_text(data["text/markdown"]))
        removed += [KINDS.get(key, f"a {key} output") for key in data
                    if key not in KEPT and key not in ("text/html", "text/markdown")]
        if safe:
            output.data = safe
            output.metadata = {key: value for key, value in output.get("metadata", {}).items()
                               if key in KEPT or key == "tensorgrade"}
            kept.append(output)
    if removed:
        kept.append(nbformat.v4.new_output("stream", name="stdout", text=sanitize.NOTE.format(
            ", ".join(dict.fromkeys(removed))) + "\n"))
    return kept


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


class SanitizeStudentContent(NbGraderPreprocessor):
    """Every markdown cell, raw cell and output of the notebook, sanitized for a grader's browser."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        nb.metadata.pop("widgets", None)  # widget state: scripts for a page that shows widgets
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = as_markdown_source(markdown_html(cell.source, cell.get("attachments")))
            elif cell.cell_type == "raw":
                cell.source = sanitize.clean(cell.source)
            elif cell.cell_type == "code":
                cell.outputs = safe_outputs(cell.outputs, grader_markup=_is_autograder_cell(cell))
        return nb, resources
