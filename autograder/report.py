"""The class report of an assignment: one static HTML page with matplotlib figures, under the course directory.

Built from the submission logs (autograder.submission_log), so it shows every check, not only nbgrader's
cell totals: the score distribution, each check's pass rate (hardest first), the most frequent failure
reasons per function, grading time per submission, and the submissions that could not be graded and why.
"""
from __future__ import annotations

import html
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .config import CourseConfig
from .paths import CourseLayout
from .submission_log import read_logs

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
REASONS_PER_FUNCTION = 3
GATED = "earns its points only together with"  # autograder.suite.gated's message
FIGURE_WIDTH_IN = 10  # at 100 dpi: 1000 px, inside the page's 1200 px column


@dataclass(frozen=True)
class Findings:
    """What the report says, as data (also printed by the CLI)."""

    submissions: int
    scores: list[float]
    mean: float
    median: float
    max_score: float
    pass_rates: list[tuple[str, float]]  # check -> fraction of submissions with full marks, hardest first
    reasons: dict[str, list[tuple[str, int]]]  # grade id -> (failure reason, count), most frequent first
    problems: list[tuple[str, str]]  # (student, why): submissions not graded (unreadable) or with grader problems
    seconds: list[tuple[str, float]]  # (student, grading seconds), slowest first

    def summary(self) -> list[str]:
        """A few lines for the terminal."""
        lines = [f"{self.submissions} submissions; mean {self.mean:.1f}/{self.max_score:g}, median {self.median:g}"]
        lines += [f"hardest check: {name} ({rate:.0%} pass)" for name, rate in self.pass_rates[:3]]
        # one line per function: its most frequent reason, functions with the most failures first
        top = sorted(self.reasons.items(), key=lambda item: -sum(n for _, n in item[1]))[:5]
        lines += [f"{gid}: {rs[0][1]}x {rs[0][0][:100]}" for gid, rs in top]
        lines += [f"not graded or grader problem: {student}: {why[:100]}" for student, why in self.problems]
        return lines


def reason_of(message: str) -> str:
    """A failure message with its numbers blanked, so the same mistake groups across students' inputs."""
    return NUMBER.sub("#", message.split("\n")[0]).strip()[:200]


def findings(records: list[dict]) -> Findings:
    """The report's content from an assignment's submission logs."""
    scores = [r["score"] for r in records]
    rates: dict[str, list[bool]] = {}
    reasons: dict[str, Counter] = {}
    problems = []
    for r in records:
        for c in r["checks"] if not r["unreadable"] else []:  # an unreadable file ran no check: not in the rates
            passed = c["score"] >= c["max_score"]
            rates.setdefault(c["name"], []).append(passed)
            if not passed:
                # A named mistake (from the feedback's diagnosis, where a check result carries one) groups
                # better than the message.
                reasons.setdefault(c["grade_id"], Counter())[c.get("mistake") or reason_of(c["output"])] += 1
        why = r["unreadable"] or "; ".join(p.split("\n")[0] for p in r["grader_problems"]) or r["problem"]
        if why:
            problems.append((r["student"], why))
    return Findings(
        submissions=len(records),
        scores=scores,
        mean=statistics.fmean(scores) if scores else 0.0,
        median=statistics.median(scores) if scores else 0.0,
        max_score=max((r["max_score"] for r in records), default=0.0),
        pass_rates=sorted(((n, sum(v) / len(v)) for n, v in rates.items()), key=lambda x: (x[1], x[0])),
        # among equally frequent reasons, a check's own failure before a gated one ("earns its points only ...")
        reasons={gid: sorted(c.items(), key=lambda r: (-r[1], r[0].startswith(GATED)))[:REASONS_PER_FUNCTION]
                 for gid, c in sorted(reasons.items())},
        problems=problems,
        seconds=sorted(((r["student"], r["execution_time"]) for r in records), key=lambda x: -x[1]),
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

    height = max(2.5, 0.28 * len(f.pass_rates) + 1)
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, height))
    names = [n for n, _ in f.pass_rates]
    ax.barh(names, [100 * r for _, r in f.pass_rates], color="#228833")
    ax.invert_yaxis()
    ax.set(xlim=(0, 100), xlabel="% of submissions with full marks", title="Pass rate per check (hardest first)")
    ax.tick_params(axis="y", labelsize=8)
    save(fig, "pass_rate.png", "Pass rate of every check, hardest first")

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
"""


def build_report(course_root: Path, assignment: str, config: CourseConfig) -> tuple[Path, Findings]:
    """Write reports/<assignment>/index.html and its figures; returns the page and what it found."""
    config.assignment(assignment)
    layout = CourseLayout(course_root)
    page = layout.report(assignment)
    page.parent.mkdir(parents=True, exist_ok=True)
    records = read_logs(layout, assignment)
    f = findings(records)
    figures = _figures(f, page.parent) if records else {}
    e = html.escape
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8>"
             f"<meta name=viewport content='width=device-width, initial-scale=1'>"
             f"<title>{e(config.course_id)}: {e(assignment)}</title><style>{STYLE}</style></head><body><main>",
             f"<h1>{e(assignment)}: class report</h1>",
             f"<p>{f.submissions} graded submissions; mean {f.mean:.1f} / {f.max_score:g} auto-graded points, "
             f"median {f.median:g}. {len(f.problems)} could not be graded or met a problem on the grader's side. "
             f"Built from the submission logs in <code>{e(str(layout.submission_log('x', assignment).parent))}"
             "</code>.</p>"]
    isolations = Counter(r["isolation"] for r in records)
    parts.append("<p>Isolation in force: " + "; ".join(f"{e(k)} ({n})" for k, n in isolations.items()) + "</p>")
    for name, alt in figures.items():
        parts.append(f"<figure><img src='{name}' alt='{e(alt)}'></figure>")
    parts.append("<h2>Most frequent failure reasons per function</h2>"
                 "<p>Numbers in the messages are blanked (#): each student gets different inputs.</p>")
    parts.append("<table><tr><th>function (grade id)</th><th class=n>count</th><th>reason</th></tr>")
    for gid, reasons in f.reasons.items():
        for why, n in reasons:
            parts.append(f"<tr><td>{e(gid)}</td><td class=n>{n}</td><td>{e(why)}</td></tr>")
    parts.append("</table><h2>Submissions that could not be graded, or met a grader-side problem</h2>")
    if f.problems:
        parts.append("<table><tr><th>student</th><th>why</th></tr>")
        parts += [f"<tr><td>{e(s)}</td><td>{e(why)}</td></tr>" for s, why in f.problems]
        parts.append("</table>")
    else:
        parts.append("<p>None.</p>")
    parts.append("</main></body></html>\n")
    page.write_text("\n".join(parts))
    return page, f
