"""Small text helpers the pages share: user-given names shown safely, and counting words."""

from __future__ import annotations

import math
import re

# Every character that Streamlit's Markdown (with its LaTeX and colour extensions) treats as syntax.
MARKDOWN_SYNTAX = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=^])")


def literal(text: str) -> str:
    """`text` escaped so Markdown shows it as typed: a file named `**x** [y](z)` stays just that."""
    return MARKDOWN_SYNTAX.sub(r"\\\1", text)


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, … 11th, 12th, 13th, … 21st."""
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th')}"


def duration(seconds: float) -> str:
    """A rough, readable duration, '40 s' or '3 min', rounded up to ten seconds or a minute:
    an estimate shown live changes a few times a minute, not every second."""
    if seconds <= 90:
        return f"{max(10, math.ceil(seconds / 10) * 10)} s"
    return f"{math.ceil(seconds / 60)} min"


def short_count(number: float) -> str:
    """A large count in three figures at most: 950, 346 k, 1.14 M, 2.3 G."""
    for limit, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(number) >= limit:
            value = number / limit
            return f"{value:.3g}{suffix}"
    return f"{number:.0f}"


def megabytes(size: float) -> str:
    return f"{size / 2**20:,.1f} MB" if size < 10 * 2**20 else f"{size / 2**20:,.0f} MB"
