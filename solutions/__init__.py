"""The reference implementation: one source of truth for the source notebooks and the graders."""
