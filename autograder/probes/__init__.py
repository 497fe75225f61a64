"""Grader-written probes, run inside the sandbox child: call the student's functions on the
grader's inputs and record what comes back. They judge nothing; the hidden suites do."""
