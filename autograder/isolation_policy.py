"""The one isolation policy of every entry point (grade, autograde, the nbgrader step, a Dask worker, Gradescope):
whether grading may go on with the sandbox's isolation here, and what to say when it is weak."""
from __future__ import annotations

from .sandbox.limits import Isolation, isolation


def refusal(allow_weak_isolation: bool, status: Isolation | None = None, cluster_address: str | None = None) -> str:
    """Why grading must not go on with this isolation (default: this machine's), "" when it may.

    Weaker than full isolation is refused unless the course sets ALLOW_WEAK_ISOLATION. A child without
    namespaces shares its worker's network: there, a Dask cluster that accepts unencrypted connections
    (`cluster_address` neither tls:// nor a small batch's in-memory inproc://) would run whatever the child
    sends it, outside the sandbox, even where weak isolation is allowed.
    """
    status = status or isolation()
    if not status.full and not allow_weak_isolation:
        return status.refusal()
    if not status.mode and cluster_address is not None and not cluster_address.startswith(("tls://", "inproc://")):
        return (f"not grading: the sandbox child has no network namespace here ({status.describe()}) and the "
                f"Dask cluster at {cluster_address} accepts unencrypted connections, so student code could send "
                "its workers code to run outside the sandbox. Use TLS (docs/scaling.md, \"Who may send the "
                "workers tasks\") or a machine with full isolation.")
    return ""


def warning(status: Isolation | None = None) -> str:
    """What an operator is told before grading with weak isolation (allowed by the course), "" under full."""
    status = status or isolation()
    return "" if status.full else (f"WARNING: grading with {status.describe()} (ALLOW_WEAK_ISOLATION = True); every "
                                   "result states it.")
