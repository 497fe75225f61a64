"""Numbers and notes put in words for people: how far a value is from the expected one, what a tolerance
allows, a note shortened for a terminal line."""
from __future__ import annotations


def _times(ratio: float) -> str:
    return f"{ratio:.0f}" if ratio >= 10 else f"{ratio:.2g}"


def compared(actual: float, expected: float) -> str:
    """'your value is 20x the expected one', '... a quarter of ...', '... 23% too large', for two numbers."""
    if actual != actual or expected != expected:
        return ""
    if expected == 0:
        return "the expected value is 0" if actual != 0 else ""
    if actual == 0:
        return "your value is 0"
    if (actual > 0) != (expected > 0):
        ratio = abs(actual / expected)
        size = "" if 0.9 <= ratio <= 1.1 else f", and {_times(ratio)}x its size"
        return f"your value has the opposite sign of the expected one{size}"
    ratio = actual / expected
    if ratio >= 2:
        return f"your value is {_times(ratio)}x the expected one"
    if ratio <= 0.5:
        return f"your value is 1/{_times(1 / ratio)} of the expected one"
    off = abs(ratio - 1)
    direction = "too large" if abs(actual) > abs(expected) else "too small"
    return f"your value is {off:.2%} {direction}" if off < 0.01 else f"your value is {off:.0%} {direction}"


def allowance(rtol: float, atol: float) -> str:
    """What a tolerance admits, in words: 'differences up to 1e-06 + 1e-05 x |expected|, room for rounding only'."""
    if rtol == 0 and atol == 0:
        return "an exact match is required"
    if rtol == 0:
        return f"the grader allows a difference of at most {atol:g}, room for rounding only"
    return (f"the grader allows a difference of at most {atol:g} + {rtol:g} x |expected value|, room for rounding "
            "only")


def shortened(text: str, width: int) -> str:
    """`text` cut at a word to at most `width` characters, with '...' where cut (never mid-word)."""
    if len(text) <= width:
        return text
    return text[:width - 3].rsplit(" ", 1)[0].rstrip(" ,;:") + "..."
