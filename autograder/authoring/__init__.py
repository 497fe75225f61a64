"""Instructor tooling: build the source notebooks from solutions/ and the lecture text, then release."""
