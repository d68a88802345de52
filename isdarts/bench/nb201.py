"""NAS-Bench-201 look-ups from the compact table of 200-epoch results (mean over seeds).

Columns (NAS-Bench-201 API terms, ``hp="200"``):

============================  =================  =========  ===========================================
column                        data set           set        meaning
============================  =================  =========  ===========================================
``cifar10_valid``             ``cifar10-valid``  x-valid    trained on the 25k train half, on the 25k valid half
``cifar10_test``              ``cifar10``        ori-test   trained on all 50k, on the 10k test set
``cifar100_valid`` / _test    ``cifar100``       x-valid /  the two 5k halves of the CIFAR-100 test set
                                                 x-test
``imagenet16_valid`` / _test  ``ImageNet16-120`` x-valid /  the two 3k halves of the ImageNet16-120 val set
                                                 x-test
============================  =================  =========  ===========================================

These six are the columns of every NAS-Bench-201 table in NAS papers. Loading reads only the
index, string and these six columns; a query is a dict look-up and six array reads.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from isdarts.data.sources import data_root, mirror_root
from isdarts.errors import IsdartsError
from isdarts.spaces.nb201 import names as archmod

COLUMNS: tuple[str, ...] = (
    "cifar10_valid",
    "cifar10_test",
    "cifar100_valid",
    "cifar100_test",
    "imagenet16_valid",
    "imagenet16_test",
)
NUM_ARCHS = 15625
TABLE_NAME = "nb201-200ep-accuracies.csv"
# Dated versions of the table format written into every result that quotes the benchmark.
FORMAT_VERSIONS = {
    "2026-11-28": "isdarts-nb201-v1: 200-epoch mean accuracies, NB201 v1.1 cifar10-valid, NATS tss v1.0 rest",
}
FORMAT_VERSION = "isdarts-nb201-v1"


def default_table() -> Path:
    """``<data root>/nb201/<table>``, else the mirror's copy."""
    local = data_root() / "nb201" / TABLE_NAME
    if local.is_file():
        return local
    mirror = mirror_root()
    if mirror is not None and (mirror / "nb201" / TABLE_NAME).is_file():
        return mirror / "nb201" / TABLE_NAME
    raise IsdartsError(
        f"{local}: NAS-Bench-201 table missing; run `isdarts data prepare nb201` with a mirror, or "
        "download NATS-tss-v1_0-3ffb9-simple and run `isdarts nb201 import --nats PATH`"
    )


class Benchmark:
    """The NAS-Bench-201 topology space: 15,625 cells and their six published accuracies."""

    format_version = FORMAT_VERSION

    def __init__(
        self, indices: list[int], archs: list[str], values: np.ndarray, path: Path | None = None
    ):
        """Rows are (benchmark index, string, six values); a partial table holds fewer than 15,625."""
        self.indices = [int(i) for i in indices]
        self.archs = archs
        self.values = values  # float64 [rows, len(COLUMNS)]
        self.path = path
        self._row_of_arch = {a: r for r, a in enumerate(archs)}
        self._row_of_index = {i: r for r, i in enumerate(self.indices)}
        if len(self._row_of_index) != len(self.indices) or len(self._row_of_arch) != len(archs):
            raise IsdartsError(f"{path}: duplicate benchmark indices or architecture strings")

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> Benchmark:
        path = Path(path) if path is not None else default_table()
        try:
            df = pd.read_csv(path, usecols=["index", "arch_str", *COLUMNS])
        except FileNotFoundError:
            raise IsdartsError(f"{path}: NAS-Bench-201 table missing") from None
        except (ValueError, pd.errors.ParserError) as exc:
            raise IsdartsError(
                f"{path}: not a NAS-Bench-201 table (expected columns index, arch_str, {', '.join(COLUMNS)}): {exc}"
            ) from None
        if df[list(COLUMNS)].isna().any().any():
            raise IsdartsError(f"{path}: missing accuracy values")
        for arch in df["arch_str"].head(1):
            archmod.parse(arch)
        values = df[list(COLUMNS)].to_numpy(dtype=np.float64)
        return cls(df["index"].tolist(), df["arch_str"].tolist(), values, path)

    def __len__(self) -> int:
        return len(self.archs)

    def _row(self, arch: str | int) -> int:
        if isinstance(arch, str) and arch.strip().isdigit():
            arch = int(arch)
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            row = self._row_of_index.get(int(arch))
            if row is None:
                raise IsdartsError(
                    f"architecture index {arch}: not in the benchmark table {self.path} "
                    f"(expected 0..{NUM_ARCHS - 1})"
                )
            return row
        row = self._row_of_arch.get(arch)
        if row is None:
            archmod.parse(arch)  # raises a precise error for malformed strings
            raise IsdartsError(f"architecture '{arch}': not in the benchmark table {self.path}")
        return row

    def index(self, arch: str | int) -> int:
        """Benchmark index of an architecture string (or an index, checked)."""
        return self.indices[self._row(arch)]

    def arch(self, index: int | str) -> str:
        """Benchmark string of an index (or a string, checked)."""
        return self.archs[self._row(index)]

    def query(self, arch: str | int) -> dict:
        """``{index, arch, <six columns>}`` for an architecture string or index."""
        row = self._row(arch)
        out: dict = {"index": self.indices[row], "arch": self.archs[row]}
        out.update({c: float(v) for c, v in zip(COLUMNS, self.values[row])})
        return out

    def metric(self, arch: str | int, column: str) -> float:
        if column not in COLUMNS:
            raise IsdartsError(f"metric '{column}': expected one of {', '.join(COLUMNS)}")
        return float(self.values[self._row(arch), COLUMNS.index(column)])

    def best(self) -> dict[str, float]:
        """The best value of each column over the whole space (the 'optimum' row of tables)."""
        return {c: float(v) for c, v in zip(COLUMNS, self.values.max(axis=0))}
