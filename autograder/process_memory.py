"""This process's memory, as /proc/self/status reports it: what a worker's report and a batch's timeline record."""
from __future__ import annotations

from pathlib import Path


def resident_mb(field: str = "VmRSS") -> float | None:
    """This process's memory in MiB from /proc/self/status: VmRSS (resident now) or VmHWM (its peak); None
    where /proc lacks it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None
