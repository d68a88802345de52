"""Command line: ``python -m isdarts <verb> ...`` (also installed as ``isdarts``).

This module also names the job kinds the workflow runs (below).

A thin layer over the package's functions; each verb's parser lives beside the layer it
drives and is registered here by name. User errors (``IsdartsError``) print one line,
``isdarts: error: <message>``, and exit with status 2.

Job kinds and the run profile each reads (``workflow/rules/common.smk`` loads profiles through
:func:`load_job_profile`, so a bad profile stops the workflow before any job starts):

==========  ====================================  =====================================
job kind    profile file                          dataclass
==========  ====================================  =====================================
``nb201``   ``config/profiles/<name>.yaml``       :class:`isdarts.spaces.nb201.profile.Profile`
``darts``   ``darts-search-<name>.yaml``          :class:`isdarts.spaces.darts.profile.DartsSearchProfile`
``train``   ``darts-train-<name>.yaml``           :class:`isdarts.train.profile.TrainProfile`
==========  ====================================  =====================================
"""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path
from typing import Any

from isdarts import verify as verify_cli
from isdarts.bench import cli as bench_cli
from isdarts.bench import surrogate_cli
from isdarts.config import profiles
from isdarts.data import cli as data_cli
from isdarts.errors import IsdartsError
from isdarts.report import cli as report_cli
from isdarts.search import cli as search_cli
from isdarts.spaces.darts import cli as genotype_cli
from isdarts.spaces.darts.profile import DartsSearchProfile
from isdarts.spaces.nb201.profile import Profile
from isdarts.train import cli as train_cli
from isdarts.train.profile import TrainProfile

# In help order. A verb module's own imports are light (torch and friends are imported by the
# handlers), so an import error here is a bug to see, not a verb to hide.
VERBS = (
    data_cli,
    bench_cli,
    search_cli,
    train_cli,
    genotype_cli,
    surrogate_cli,
    report_cli,
    verify_cli,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="isdarts", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    for verb in VERBS:
        verb.add_parser(sub)
    return parser


def _os_message(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"{where}no space left on device (free some space; a run resumes from its last checkpoint)"
    return f"{where}{exc.strerror or exc}"


def one_line(message: str) -> str:
    """The message with line breaks and other control characters escaped: a path or value
    holding a newline cannot make the error two lines (or forge a second one)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message.strip())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except IsdartsError as exc:
        print(f"isdarts: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # a path that cannot be read or written: one line naming it
        print(f"isdarts: error: {one_line(_os_message(exc))}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as exc:
        print(f"isdarts: error: an input file is not UTF-8 text ({exc.reason})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("isdarts: interrupted", file=sys.stderr)
        return 130


JOB_PROFILES: dict[str, tuple[str, type]] = {
    "nb201": ("search-nb201", Profile),
    "darts": ("search-darts", DartsSearchProfile),
    "train": ("train", TrainProfile),
}


def job_profile_path(job: str, name: str, root: Path) -> Path:
    """The file of profile ``name`` for a job of kind ``job`` in the checkout ``root``."""
    prefix = profiles.KINDS[JOB_PROFILES[job][0]][0]
    return root / profiles.PROFILE_DIR / f"{prefix}{name}.yaml"


def load_job_profile(job: str, name_or_path: str | Path) -> Any:
    """The checked profile (a name or a file) of a job of kind ``job``."""
    kind, cls = JOB_PROFILES[job]
    return profiles.load(cls, kind, name_or_path)
