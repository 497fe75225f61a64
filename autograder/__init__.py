"""tensorgrade: sandboxed, deterministic autograding for the 'Learning from Tensors' course.

Subpackages keep the trust boundary visible:
  sandbox/      runs untrusted student code in a limited child process;
  assignments/  one folder per assignment: its notebook, inputs and probes (which run in the child too),
                and its hidden checks (checks.py), run only in the trusted process, judging evidence.
"""
