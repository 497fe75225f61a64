"""The class report of an assignment: one static HTML page with matplotlib figures, under the course directory.

Built from the grade records (the submission logs, autograder.submission_log), so it shows every check, not only
nbgrader's cell totals: the score distribution, how often each check failed on its own (hardest first), the most
frequent failure reasons per function (counted in students), each student's measured numbers (the accuracy
reached, against the threshold), grading time per submission, and the submissions that could not be graded and
why. A file that could not be read as a notebook ran no check: it is left out of every figure and listed below
them, and the header says how many.
"""
from __future__ import annotations

import html
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from .config import CourseConfig
from .diagnosis import mistake_titles
from .paths import CourseLayout
from .results import GradeReport
from .submission_log import read_logs
from .wording import shortened

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?")
REASONS_PER_FUNCTION = 3
FIGURE_WIDTH_IN = 10  # at 100 dpi: 1000 px, inside the page's 1200 px column
NOTE_CHARS = 100  # of a reason or problem in the terminal summary, cut at a word


@dataclass(frozen=True)
class Findings:
    """What the report says, as data (also printed by the CLI)."""

    submissions: int  # every logged submission
    unreadable: list[str]  # students whose file could not be read: in no figure
    scores: list[float]  # of the graded (readable) submissions
    mean: float
    median: float
    max_score: float
    failure_rates: list[tuple[str, float]]  # check -> fraction of graded submissions failing it on its own
    reasons: dict[str, list[tuple[str, int]]]  # grade id -> (failure reason, students), most frequent first
    problems: list[tuple[str, str]]  # (student, why): submissions not graded (unreadable) or with grader problems
    seconds: list[tuple[str, float]]  # (student, grading seconds), slowest first
    measured: dict[str, list[tuple[str, dict[str, float]]]]  # check -> (student, its numbers), by student

    @property
    def graded(self) -> int:
        """Submissions that were graded (readable notebooks)."""
        return self.submissions - len(self.unreadable)

    def header(self) -> str:
        """The report's first sentence, as the page and the terminal say it."""
        line = (f"{_count(self.graded, 'graded submission')}; mean {self.mean:.1f}/{self.max_score:g} auto-graded "
                f"points, median {self.median:g}")
        if self.unreadable:
            line += (f". {_count(len(self.unreadable), 'file')} could not be read as a notebook and "
                     f"{'is' if len(self.unreadable) == 1 else 'are'} in no figure (listed below)")
        return line

    def summary(self) -> list[str]:
        """A few lines for the terminal."""
        lines = [self.header()]
        lines += [f"hardest check: {name} (failed on its own by {rate:.0%})" for name, rate in self.failure_rates[:3]
                  if rate > 0]
        # one line per function: its most frequent reason, functions with the most failing students first
        top = sorted(self.reasons.items(), key=lambda item: -sum(n for _, n in item[1]))[:5]
        lines += [f"{gid}: {_count(rs[0][1], 'student')}: {shortened(rs[0][0], NOTE_CHARS)}" for gid, rs in top]
        for check, rows in self.measured.items():
            lines += [f"{check}: {student}: " + ", ".join(f"{k} {_number(k, v)}" for k, v in values.items())
                      for student, values in rows]
        lines += [f"not graded or grader problem: {student}: {shortened(why, NOTE_CHARS)}"
                  for student, why in self.problems]
        return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _number(key: str, value: float) -> str:
    """A measured number as people read it: fractions named accuracy or threshold as percentages."""
    return f"{value:.1%}" if key in ("accuracy", "threshold") else f"{value:.4g}"


def reason_of(message: str) -> str:
    """A failure message's first line with its numbers blanked, so the same mistake groups across inputs."""
    return NUMBER.sub("#", message.split("\n")[0]).strip()[:200]


def _shown(messages: list[str]) -> str:
    """The reason of messages that blank to the same text: a number the same in all of them is shown."""
    first = messages[0].split("\n")[0]
    columns = list(zip(*(NUMBER.findall(m.split("\n")[0]) for m in messages)))
    same = iter([c[0] if len(set(c)) == 1 else "#" for c in columns])
    return NUMBER.sub(lambda _: next(same, "#"), first).strip()[:200]


def findings(records: list[GradeReport], titles: dict[str, str] | None = None) -> Findings:
    """The report's content from an assignment's grade records; `titles` names mistakes by id."""
    titles = titles or {}
    graded = [r for r in records if not r.unreadable]
    failing: dict[str, int] = Counter()
    names: list[str] = []
    students: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    messages: dict[str, list[str]] = defaultdict(list)
    measured: dict[str, list[tuple[str, dict[str, float]]]] = defaultdict(list)
    for r in graded:
        for c in r.checks:
            if c.name not in names:
                names.append(c.name)
            if c.measured:
                measured[c.name].append((r.student, c.measured))
            if not c.failed_on_its_own:  # not credited or a grader error: counted where it failed, not here
                continue
            failing[c.name] += 1
            # A named mistake (from the diagnosis) groups better than the message: by its title.
            reason = titles.get(c.mistake, c.mistake) if c.mistake else reason_of(c.output)
            students[c.grade_id][reason].add(r.student)
            if not c.mistake:
                messages[reason].append(c.output)
    reasons = {}
    for gid, by_reason in sorted(students.items()):
        ranked = sorted(by_reason.items(), key=lambda item: (-len(item[1]), item[0]))[:REASONS_PER_FUNCTION]
        reasons[gid] = [(_shown(messages[why]) if messages.get(why) else why, len(who)) for why, who in ranked]
    problems = []
    for r in records:
        why = r.unreadable or "; ".join(p.split("\n")[0] for p in r.grader_problems)
        if why:
            problems.append((r.student, why))
    scores = [r.score for r in graded]
    return Findings(
        submissions=len(records),
        unreadable=[r.student for r in records if r.unreadable],
        scores=scores,
        mean=statistics.fmean(scores) if scores else 0.0,
        median=statistics.median(scores) if scores else 0.0,
        max_score=max((r.max_score for r in records), default=0.0),
        failure_rates=sorted(((n, failing[n] / len(graded)) for n in names), key=lambda x: (-x[1], x[0])),
        reasons=reasons,
        problems=problems,
        seconds=sorted(((r.student, r.execution_time) for r in graded), key=lambda x: -x[1]),
        measured=dict(measured),
    )


def _figures(f: Findings, folder: Path) -> dict[str, str]:
    """Draw the figures as PNG files in folder; returns file name -> alt text."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    drawn = {}

    def save(fig, name: str, alt: str) -> None:
        fig.tight_layout()
        fig.savefig(folder / name, dpi=100)
        plt.close(fig)
        drawn[name] = alt

    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 3.5))
    ax.hist(f.scores, bins=min(20, max(5, len(f.scores))), range=(0, f.max_score or 1), color="#4477aa")
    ax.set(xlabel="auto-graded score", ylabel="submissions", title="Score distribution")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    save(fig, "scores.png", "Histogram of the submissions' auto-graded scores")

    height = max(2.5, 0.28 * len(f.failure_rates) + 1)
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, height))
    ax.barh([n for n, _ in f.failure_rates], [100 * r for _, r in f.failure_rates], color="#cc6677")
    ax.invert_yaxis()
    ax.set(xlim=(0, 100), xlabel="% of graded submissions that failed it on its own (not credited ones excluded)",
           title="Failures per check (hardest first)")
    ax.tick_params(axis="y", labelsize=8)
    save(fig, "failure_rate.png", "How often each check failed on its own, hardest first")

    height = max(2.5, 0.28 * len(f.seconds) + 1)
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, height))
    ax.barh([s for s, _ in f.seconds], [t for _, t in f.seconds], color="#ccbb44")
    ax.invert_yaxis()
    ax.set(xlabel="seconds", title="Grading time per submission (slowest first)")
    ax.tick_params(axis="y", labelsize=8)
    save(fig, "grading_time.png", "Grading time of every submission")
    return drawn


STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
main { max-width: 1200px; margin: 0 auto; padding: 1em 24px; box-sizing: border-box; }
img { max-width: 100%; height: auto; display: block; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; margin-bottom: 1.5em; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid #ddd;
         overflow-wrap: anywhere; }
th:first-child, td:first-child { width: 16em; }
.n { width: 5em; }
/* A phone: each row a block of labelled lines, so no column is squeezed to a few characters. */
@media (max-width: 640px) {
  main { padding: 1em 12px; }
  table, tbody, tr, td { display: block; width: auto !important; }
  tr:first-child { display: none; }
  tr { padding: 6px 0; border-bottom: 1px solid #ddd; }
  td { border: none; padding: 1px 0; }
  td::before { content: attr(data-label) ": "; font-weight: bold; }
}
"""


def _table(css: str, headers: list[str], rows: list[list[str]]) -> str:
    """A table of plain text (escaped here); each cell carries its column's name, which a phone shows beside it."""
    e = html.escape
    head = "".join(f"<th class=n>{e(h)}</th>" if h == "students" else f"<th>{e(h)}</th>" for h in headers)
    body = ["<tr>" + "".join(f"<td data-label='{e(h)}'" + (" class=n" if h == "students" else "") + f">{e(v)}</td>"
                             for h, v in zip(headers, row)) + "</tr>" for row in rows]
    return "\n".join([f"<table class={css}><tr>{head}</tr>", *body, "</table>"])


def build_report(course_root: Path, assignment: str, config: CourseConfig) -> tuple[Path, Findings]:
    """Write reports/<assignment>/index.html and its figures; returns the page and what it found."""
    config.assignment(assignment)
    layout = CourseLayout(course_root)
    page = layout.report(assignment)
    page.parent.mkdir(parents=True, exist_ok=True)
    records = read_logs(layout, assignment)
    f = findings(records, mistake_titles(assignment))
    figures = _figures(f, page.parent) if f.scores else {}
    e = html.escape
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8>"
             f"<meta name=viewport content='width=device-width, initial-scale=1'>"
             f"<title>{e(config.course_id)}: {e(assignment)}</title><style>{STYLE}</style></head><body><main>",
             f"<h1>{e(assignment)}: class report</h1>",
             f"<p class=tg-summary>{e(f.header())}. {len(f.problems)} could not be graded or met a problem on the "
             f"grader's side. Built from the grade records in "
             f"<code>{e(str(layout.submission_log('x', assignment).parent))}</code>.</p>"]
    isolations = Counter(r.isolation for r in records if r.isolation)
    parts.append("<p>Isolation in force: " + "; ".join(f"{e(k)} ({n})" for k, n in isolations.items()) + "</p>")
    for name, alt in figures.items():
        parts.append(f"<figure><img src='{name}' alt='{e(alt)}'></figure>")
    parts.append("<h2>Most frequent failure reasons per function</h2>"
                 "<p>Counted in students (a student counts once per reason), among the checks that failed on their "
                 "own. A named mistake is given by its title; in other messages, numbers that differ between "
                 "students (each gets different inputs) are blanked (#).</p>")
    parts.append(_table("tg-reasons", ["function (grade id)", "students", "reason"],
                        [[gid, str(n), why] for gid, reasons in f.reasons.items() for why, n in reasons]))
    for check, rows in f.measured.items():
        keys = list(dict.fromkeys(k for _, values in rows for k in values))
        parts.append(f"<h2>What <code>{e(check)}</code> measured</h2>")
        parts.append(_table("tg-measured", ["student", *keys],
                            [[student, *(_number(k, values[k]) if k in values else "" for k in keys)]
                             for student, values in rows]))
    parts.append("<h2>Submissions that could not be graded, or met a grader-side problem</h2>")
    if f.problems:
        parts.append(_table("tg-problems", ["student", "why"], [[s, why] for s, why in f.problems]))
    else:
        parts.append("<p>None.</p>")
    parts.append("</main></body></html>\n")
    page.write_text("\n".join(parts))
    return page, f
