"""nbgrader's configuration, derived from course_config.py (nbgrader_config.py calls configure)."""
from __future__ import annotations

from typing import Any

from .config import PROJECT_ROOT, load_config


def configure(c: Any) -> None:
    """Fill nbgrader's config object `c` from course_config.py."""
    config = load_config()
    c.CourseDirectory.course_id = config.course_id
    c.CourseDirectory.root = str(PROJECT_ROOT)
    c.CourseDirectory.db_url = f"sqlite:///{PROJECT_ROOT / 'gradebook.db'}"
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
