"""Grader-chosen inputs, generated at grading time from the grading seed (trusted side).

The launcher writes them to a safetensors file for the child's probes; the hidden
suites feed the same tensors to the reference.
"""
