"""tensorgrade: sandboxed, deterministic autograding for the 'Learning from Tensors' course.

Subpackages keep the trust boundary visible:
  sandbox/  runs untrusted student code in a limited child process (probes/ runs there too);
  suites/   the hidden pytest suites, run only in the trusted process, judging evidence.
"""
