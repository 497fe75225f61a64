"""nbgrader reads this file; the course is configured in course_config.py."""
from autograder.nbgrader_setup import configure; configure(get_config())  # noqa: F821
