"""The one way every number of every report output is written (Markdown, HTML, LaTeX, the wide
CSV, figure labels): rounded half up, a tie away from zero, from the value's full precision.

"Full precision" is the shortest decimal that reads back as the same float (``repr``), so that
93.235 (a mean of 93.65, 92.58 and 93.475, held as 93.23500000000001) is 93.24 wherever it is
written, never 93.23 by a binary float's ``:.2f`` in one place and 93.24 in another. Callers
pass the statistic computed from the runs, never a copy already cut to fewer decimals (the
tables of :mod:`isdarts.report.aggregate` are written with every digit for that reason).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

MISSING = "–"


def missing(x) -> bool:
    """None, NaN, or a pandas missing value."""
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):  # not a scalar
        return False


def rounded(x, places: int = 2) -> Decimal:
    """``x`` rounded half up (away from zero) to ``places`` decimals, from its full precision."""
    q = Decimal(1).scaleb(-places)
    d = Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP)
    return d.copy_abs() if d.is_zero() else d  # never "-0.00"


def fixed(x, places: int = 2, *, sign: bool = False, grouped: bool = False) -> str:
    """``x`` with ``places`` decimals ("–" when missing, "inf"/"-inf" when infinite); ``sign``:
    always a sign ("+0.00" for zero); ``grouped``: thousands separated by commas."""
    if missing(x):
        return MISSING
    if math.isinf(float(x)):
        return ("+" if sign and x > 0 else "") + ("inf" if x > 0 else "-inf")
    d = rounded(x, places)
    text = f"{d:,.{places}f}" if grouped else f"{d:.{places}f}"
    return f"+{text}" if sign and d >= 0 else text


def whole(x) -> str:
    """A count: no decimals, thousands separated ("–" when missing)."""
    return fixed(x, 0, grouped=True)


def pm(mean, std, places: int = 2, sep: str = "±") -> str:
    """``"93.25±0.22"``; ``"93.25±–"`` where a row of seeds has no std (one seed, none
    published), so that every row of a table shows the same two numbers."""
    return f"{fixed(mean, places)}{sep}{fixed(std, places)}"


def general(x, digits: int = 3) -> str:
    """``digits`` significant digits, rounded half up (learning rates, scores)."""
    if missing(x):
        return MISSING
    if x == 0 or math.isinf(float(x)):
        return fixed(x, 0)
    exponent = math.floor(math.log10(abs(float(x))))
    d = Decimal(repr(float(x))).scaleb(-exponent)
    d = d.quantize(Decimal(1).scaleb(1 - digits), rounding=ROUND_HALF_UP).scaleb(exponent)
    return f"{d.normalize():g}" if abs(exponent) < 5 else f"{float(d):.{digits - 1}e}"
