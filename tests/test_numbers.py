"""One formatter for every number the reports write (:mod:`isdarts.report.numbers`): rounded
half up from the value's full precision, so that a verdict and its table never give one
number two roundings; the report modules format no number any other way."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from isdarts.report.numbers import fixed, general, pm, whole

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("value", "kw", "text"),
    [
        (93.23500000000001, {}, "93.24"),  # a mean of 93.65, 92.58, 93.475
        (93.235, {}, "93.24"),  # "{:.2f}" gives 93.23: the binary float lies below the tie
        (1.765, {}, "1.77"),
        (91.69500000000001, {}, "91.70"),
        (-1.7149999999999892, {"sign": True}, "-1.71"),
        (-1.715, {"sign": True}, "-1.72"),  # a tie away from zero
        (-0.001, {"sign": True}, "+0.00"),  # never "-0.00"
        (-0.001, {}, "0.00"),
        (12.5, {"places": 0}, "13"),  # "{:.0f}" gives 12
        (12345.25, {"places": 1, "grouped": True}, "12,345.3"),
        (math.inf, {}, "inf"),
        (None, {}, "–"),
        (math.nan, {}, "–"),
        (pd.NA, {}, "–"),
    ],
)
def test_fixed_rounds_half_up_from_full_precision(value, kw, text) -> None:
    assert fixed(value, **kw) == text


def test_mean_std_counts_and_significant_digits() -> None:
    assert pm(93.235, 0.225) == "93.24±0.23"
    assert pm(94.36, None) == "94.36±–" and pm(94.36, math.nan, sep=" ± ") == "94.36 ± –"
    assert whole(15625) == "15,625" and whole(None) == "–"
    assert general(0.016) == "0.016" and general(3e-4) == "0.0003" and general(0.02485) == "0.0249"


# Format specs the report modules may still use: data written into the runs table and result
# files (compared with the search's own text), never a number shown to a reader.
DATA_FORMATS = {
    ("evaluate.py", '" ".join(f"{m:.4f}" for m in ev["margins"])'),
    ("evaluate.py", 'f"{gap:.3g}"'),
}
SPEC = re.compile(r"\{[^{}]*:[+ ]?,?\.\d+[fgeE%]\}")


def test_no_report_module_formats_a_number_another_way() -> None:
    found = []
    for path in sorted((REPO / "isdarts" / "report").glob("*.py")):
        if path.name == "numbers.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SPEC.search(line) and not any(
                path.name == name and snippet in line for name, snippet in DATA_FORMATS
            ):
                found.append(f"{path.name}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


def _bold_cells(readme: str, label: str) -> list[str]:
    row = next(
        line for line in readme.splitlines() if line.startswith(f"| **{label}, this harness**")
    )
    return [c.strip().strip("*") for c in row.strip("|").split("|")[1:]]


def test_the_committed_verdicts_and_tables_give_one_rounding() -> None:
    """The baselines report: each verdict's mean (C10 test) and difference to the published
    row are its table's (93.24 and 91.70 (-1.71) once read 93.23 and 91.69 (-1.72))."""
    readme = (REPO / "reports" / "cpu-n1" / "baselines" / "README.md").read_text(encoding="utf-8")
    verdicts = [line for line in readme.splitlines() if line.startswith("- **") and "—" in line]
    assert len(verdicts) == 8
    for line in verdicts:
        label = line[4 : line.index("**", 4)]
        mean = re.search(r"\. (\d+\.\d\d) \[", line)[1]
        c10_test = _bold_cells(readme, label)[1].split("±")[0]
        assert mean == c10_test, label
        diff = re.search(r"; ([+-]\d+\.\d\d) against the published", line)[1]
        row = next(r for r in readme.splitlines() if r.startswith(f"| ours − published: {label} |"))
        assert row.split("|")[3].strip() == diff, label
    assert "91.70" in readme and "91.69" not in readme
