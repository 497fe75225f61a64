"""Execute a notebook top to bottom in a Jupyter kernel, as a student would, and report errors."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient


@dataclass
class Execution:
    """The executed notebook, errors by cell, and the wall time."""

    nb: nbformat.NotebookNode
    errors: dict[str, tuple[str, str]]
    seconds: float


def execute(path: Path, timeout: int = 120) -> Execution:
    """Run every cell (errors allowed) with the notebook's folder as working directory."""
    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("MPLBACKEND", "Agg")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(Path(path).parent)}})
    started = time.monotonic()
    client.execute()
    seconds = time.monotonic() - started
    errors = {}
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                name = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell-{index}")
                errors[name] = (output.ename, output.evalue)
    return Execution(nb, errors, seconds)
