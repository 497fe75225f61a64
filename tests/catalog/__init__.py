"""Catalogs of wrong (mutants) and correct-but-different (variants) student code, for grader validity."""
