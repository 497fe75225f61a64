"""Running untrusted student code: a limited child process, and the probes it runs.

The trusted process (launcher) never imports this package's `child` module; the child
never sees the hidden suites, the gradebook or other submissions.
"""
