"""Catalogs of known mistakes, one module per assignment (see autograder.diagnosis)."""
