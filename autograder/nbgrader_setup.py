"""nbgrader's configuration, derived from course_config.py (nbgrader_config.py calls configure)."""
from __future__ import annotations

import contextlib
import functools
import os
import warnings
from pathlib import Path
from typing import Any

from .config import CourseConfig, load_config
from .paths import CourseLayout


def configure(c: Any, course_root: str | os.PathLike | None = None,
              config_path: str | os.PathLike | None = None) -> None:
    """Fill nbgrader's config object `c` from course_config.py (`config_path`, else $TENSORGRADE_CONFIG,
    which `tensorgrade --config` sets, else the project's).

    The course directory is the folder nbgrader runs in (where nbgrader_config.py is).
    `nbgrader autograde` grades through tensorgrade's sandbox instead of executing the
    notebook in a kernel: GradeInSandbox replaces nbgrader's Execute step, OverwriteReleasedCells its
    OverwriteCells (no false tampering warnings) and CheckCellMetadataCompiled its CheckCellMetadata (the same
    checks, faster). The autograded copy that formgrader and generate_feedback read is sanitized last
    (SanitizeStudentContent), after SaveAutoGrades has compared the answers with the release. `nbgrader export`
    writes the kit's grades.csv columns.
    """
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        ClearOutput,
        DeduplicateIds,
        IgnorePattern,
        LimitOutput,
        OverwriteKernelspec,
        SaveAutoGrades,
    )

    from .feedback import configure_feedback
    from .nbgrader_plugin import CheckCellMetadataCompiled, GradeInSandbox, OverwriteReleasedCells
    from .provisional import ProvisionalCsvExport
    from .student_content import SanitizeStudentContent

    config = load_config(config_path)
    root = Path(course_root or os.getcwd()).resolve()
    c.CourseDirectory.course_id = config.course_id
    c.CourseDirectory.root = str(root)
    # nbgrader's release/fetch/submit exchange: in the course directory, made here so that formgrader finds it,
    # rather than /srv/nbgrader/exchange; a JupyterHub shared with students sets its own after configure().
    exchange = CourseLayout(root).exchange
    with contextlib.suppress(OSError):  # a course directory that is not there (yet) or read-only
        exchange.mkdir(exist_ok=True)
    c.Exchange.root = str(exchange)
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
    configure_feedback(c)
    c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteReleasedCells,
                                          CheckCellMetadataCompiled]
    c.ExportApp.plugin_class = ProvisionalCsvExport  # `nbgrader export` writes the kit's columns too
    # nbconvert checks the notebook against nbformat's schema once, after the last preprocessor, rather than after each
    # one: an invalid notebook is refused all the same, at a sixth of the cost (recording and feedback run 18 checks).
    c.Exporter.optimistic_validation = True
    c.Autograde.autograde_preprocessors = [GradeInSandbox, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                           SaveAutoGrades, AssignLatePenalties, CheckCellMetadataCompiled,
                                           SanitizeStudentContent]


def nbgrader_api(course_root: Path, config: CourseConfig | None = None, *, recording: bool = False):
    """nbgrader's API object for this course directory, configured from `config` (default: course_config.py).

    recording: its autograde records the logged grade records (GradeInSandbox.record_file) instead of grading.
    """
    from nbgrader.apps import NbGraderAPI
    from sqlalchemy.exc import SAWarning
    from traitlets.config import Config

    c = Config()
    configure(c, course_root, config.path if config is not None else None)
    if recording:
        c.GradeInSandbox.record_file = str(CourseLayout(course_root).submission_log("{student}", "{assignment}"))
    c.NbGraderAPI.log_level = "ERROR"
    # nbgrader's own session handling warns on every autograde; the warnings are not ours to fix.
    warnings.filterwarnings("ignore", category=SAWarning)
    share_gradebook_engines()
    return NbGraderAPI(config=c)


def share_gradebook_engines() -> None:
    """Have nbgrader's Gradebook open each database through one SQLAlchemy engine per process.

    nbgrader opens gradebook.db about ten times to record one submission and twice to write one page, each time
    through a new engine (Gradebook.__init__), whose cache of compiled queries starts empty: recording took a third
    more CPU compiling the same queries again. Gradebook.close() still disposes of the engine's connections, so
    nothing stays open between uses; an engine keeps only its compiled queries.
    """
    import nbgrader.api

    nbgrader.api.create_engine = _shared_engine


@functools.lru_cache(maxsize=8)
def _shared_engine(url: str, **options: Any):
    from sqlalchemy import create_engine

    return create_engine(url, **options)
