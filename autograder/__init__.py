"""tensorgrade: sandboxed, deterministic autograding for the 'Learning from Tensors' course.

Subpackages keep the trust boundary visible:
  sandbox/      runs untrusted student code in a limited child process;
  assignments/  one folder per assignment: its notebook, inputs and probes (which run in the child too),
                and its hidden checks (checks.py), run only in the trusted process, judging evidence.
"""
import sys

# jsonschema (which nbformat validates notebooks with) imports rfc3987_syntax, where it is installed (jupyter-events
# asks for it), only to check strings of the "iri" format, which no schema of nbformat or nbgrader uses; importing it
# builds a grammar and takes 1.6 s of every process's start: the autograde command, each Dask worker, each test's.
# Marked absent before nbformat is imported, jsonschema leaves that one format unchecked.
sys.modules.setdefault("rfc3987_syntax", None)
