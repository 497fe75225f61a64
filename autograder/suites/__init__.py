"""Hidden pytest suites: one per assignment, run only in the trusted process.

Each test is one check, named `test_<check>` after its entry in course_config.py; it
judges the sandbox's evidence against the reference in solutions/.
"""
