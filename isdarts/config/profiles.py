"""Run profiles: YAML files of settings under ``config/profiles/``, found by name or path,
checked against their kind's JSON Schema (``isdarts/config/schemas/profiles.schema.yaml``) and loaded
into the kind's frozen dataclass, whose defaults are the paper's settings.

=================  ==================================  =====================================
kind               file                                dataclass
=================  ==================================  =====================================
``search-nb201``   ``config/profiles/<name>.yaml``     :class:`isdarts.spaces.nb201.profile.Profile`
``search-darts``   ``darts-search-<name>.yaml``        :class:`isdarts.spaces.darts.profile.DartsSearchProfile`
``train``          ``darts-train-<name>.yaml``         :class:`isdarts.train.profile.TrainProfile`
=================  ==================================  =====================================

Both search kinds have one shape: the shared settings at the top level, the network's size
(``cells_per_stage`` or ``layers``), and the first-order DARTS baseline's settings in a nested
``darts:`` mapping. A wrong key or value is an :class:`IsdartsError` naming it and the file.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml

from isdarts._io import read_yaml
from isdarts._optional import optional
from isdarts.config import REPO_ROOT
from isdarts.errors import IsdartsError

PROFILE_DIR = Path("config") / "profiles"
SCHEMA_FILE = Path(__file__).parent / "schemas" / "profiles.schema.yaml"
# kind -> (file name prefix, the profile in words, an example file)
KINDS: dict[str, tuple[str, str, str]] = {
    "search-nb201": ("", "profile", "config/profiles/paper.yaml"),
    "search-darts": (
        "darts-search-",
        "DARTS-space search profile",
        "config/profiles/darts-search-paper.yaml",
    ),
    "train": ("darts-train-", "training profile", "config/profiles/darts-train-paper.yaml"),
}
P = TypeVar("P")


@dataclass(frozen=True)
class DartsSettings:
    """First-order DARTS as the NAS-Bench-201 authors released it (AutoDL-Projects' DARTS-V1
    search); the network's settings come from the profile."""

    epochs: int = 50
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    weight_decay: float = 5e-4
    # The NAS-Bench-201 authors' search scripts (DARTS-V1.py, DARTS-V2.py, GDAS.py)
    # clip the gradient norm of all the network's parameters, alpha included, and alpha's
    # gradient then holds the last architecture step's plus the weight step's; their loaders pair
    # every training batch with valid images drawn with replacement. Off here by default: the
    # committed DARTS runs used the weights-only clip and passes over the valid half, and their
    # recorded settings must rebuild them; the `paper` profile and the GDAS and SETN blocks say
    # what the released scripts do (SETN.py clips nothing).
    clip_alpha: bool = False  # the gradient clip covers alpha too
    valid_sampling: str = "passes"  # passes (without replacement) | replacement


@dataclass(frozen=True)
class OriginalDartsSettings(DartsSettings):
    """The original first-order DARTS search (Liu et al., ICLR 2019, and its released
    ``train_search.py``), the DARTS-space baseline whose rows the DARTS-space tables print.
    Defaults: its settings."""

    weight_decay: float = 3e-4
    nesterov: bool = False  # the supernet's SGD: momentum without Nesterov
    arch_step_first: bool = True  # each step: alpha first, then the weights
    split: str = "halves"  # halves: the first and the last half of the training set | file
    pool_bn: bool = True  # a batch norm (no affine) after each pooling candidate


@dataclass(frozen=True)
class RunProfile:
    """What every kind of run names alike (the schema's ``shared`` group): the network's
    width, the SGD run, the data subset and the CPU settings. Defaults: the paper's
    NAS-Bench-201 search."""

    name: str
    channels: int = 16
    batch_size: int = 64
    epochs: int = 30
    lr: float = 0.025
    lr_min: float = 0.001
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    train_subset: int | None = None  # images of the training set used (None: all)
    threads: int | None = None  # torch.set_num_threads (None: torch's default)
    channels_last: bool = True


@dataclass(frozen=True)
class SearchProfile(RunProfile):
    """What a supernet search needs besides the network's size (each space adds that).
    Shrink steps follow epochs ``range(E - S*I, E, I)`` (E = ``epochs``)."""

    space: ClassVar[str]  # the search space the profile is for
    # a baseline's block (a nested mapping) -> its settings class (the DARTS space's
    # `darts:` block: the original DARTS search's; NAS-Bench-201: also the other baselines')
    blocks: ClassVar[dict[str, type]] = {"darts": DartsSettings}
    shrink_steps: int = 4  # S
    shrink_interval: int = 2  # I
    order: str = "shuffle"  # shuffle | fixed (the authors' released setting)
    darts: DartsSettings = field(default_factory=DartsSettings)


MAX_PROFILE_BYTES = 256_000


def read_mapping(path: Path) -> dict[str, Any]:
    """The YAML mapping of settings in ``path``. An empty file is an error: it would silently
    mean the paper's settings (a GPU-scale run)."""
    size = path.stat().st_size
    if size > MAX_PROFILE_BYTES:  # a profile is a few kB; refuse before parsing megabytes
        raise IsdartsError(
            f"{path}: {size:,} bytes (expected a profile of settings, at most "
            f"{MAX_PROFILE_BYTES:,} bytes)"
        )
    raw = read_yaml(path)
    if raw is None:
        raise IsdartsError(
            f"{path}: empty profile (expected a mapping of settings; name every setting, as "
            "config/profiles/paper.yaml does)"
        )
    if not isinstance(raw, dict):
        raise IsdartsError(f"{path}: expected a mapping of settings")
    return raw


def resolve_prefixed(name_or_path: str | os.PathLike, prefix: str, what: str) -> Path:
    """A YAML path as given, else ``config/profiles/<prefix><name>.yaml`` under the current
    directory, then under the repository root."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or _is_file(p, what):
        if _is_file(p, what):
            return p
        raise IsdartsError(f"{what} file {_shown(p)} not found")
    stem = str(name_or_path)
    stem = stem if stem.startswith(prefix) else prefix + stem
    for base in (Path.cwd(), REPO_ROOT):
        cand = base / PROFILE_DIR / f"{stem}.yaml"
        if _is_file(cand, what):
            return cand
    raise IsdartsError(
        f"{what} {str(name_or_path)!r} not found as {_shown(f'./{PROFILE_DIR}/{stem}.yaml')} "
        f"or {_shown(REPO_ROOT / PROFILE_DIR / (stem + '.yaml'))} (names: smoke, cpu, paper)"
    )


def _shown(path: str | os.PathLike) -> str:
    """A path as is, or quoted with repr where it holds a line break or another control
    character (a message stays one line)."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def _is_file(path: Path, what: str) -> bool:
    try:
        return path.is_file()
    except OSError as exc:  # a name too long for the file system, a folder not searchable
        raise IsdartsError(f"{what} {str(path)!r}: {exc.strerror}") from None


@functools.cache
def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one profile kind: its property groups, no other key."""
    doc = yaml.safe_load(SCHEMA_FILE.read_text())
    properties: dict[str, Any] = {}
    for group in doc["kinds"][kind]:
        properties.update(doc["groups"][group])
    return {
        "$schema": doc["$schema"],
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }


def _is_integer(checker: Any, instance: Any) -> bool:
    """JSON Schema counts 30.0 as an integer; a profile's counts must be ints (range(30.0) fails)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


@functools.cache
def _validator_class() -> Any:
    """Draft 2020-12 with ints only as integers (None without jsonschema)."""
    jsonschema = optional("jsonschema", "profile files are not schema-checked")
    if jsonschema is None:
        return None
    draft = jsonschema.Draft202012Validator
    return jsonschema.validators.extend(
        draft, type_checker=draft.TYPE_CHECKER.redefine("integer", _is_integer)
    )


# a number PyYAML (YAML 1.1) reads as text: an exponent without a dot in the mantissa (3e-4)
_EXPONENT_TEXT = re.compile(r"[-+]?[0-9]+[eE][-+]?[0-9]+")


def check(path: Path, raw: dict[str, Any], kind: str) -> None:
    """``raw`` against the kind's schema; the first problem as one line naming the key (keys
    and values quoted with repr, so that a newline in them stays on the line)."""
    validator = _validator_class()
    found = [] if validator is None else validator(schema(kind)).iter_errors(raw)
    errors = sorted(found, key=lambda e: list(e.absolute_path))
    if not errors:  # the schema's bounds let nan through (every comparison with it is false)
        for key, value in _numbers(raw):
            if not _is_finite(value):
                raise IsdartsError(
                    f"{path}: bad value {value!r} for {key!r} (expected a finite number)"
                )
        return
    error = errors[0]
    where = [str(p) for p in error.absolute_path]
    prefix = "".join(f"{p}." for p in where)
    if error.validator == "additionalProperties":
        known = error.schema["properties"]
        unknown = next(k for k in error.instance if k not in known)  # the first in the file
        expected = ", ".join(prefix + k for k in sorted(known))
        raise IsdartsError(
            f"{path}: unknown key {prefix + str(unknown)!r} (expected one of {expected})"
        )
    nested = schema(kind)["properties"].get(where[0], {}).get("type") == "object"  # a block
    key = ".".join(where[:2]) if nested else where[0]
    expected = _description(kind, key) or error.message
    value = _value(raw, key)
    if isinstance(value, str) and _EXPONENT_TEXT.fullmatch(value.strip()):
        expected += f"; YAML reads {value} as text, write a dot in it: {_dotted(value.strip())}"
    example = KINDS[kind][2]
    raise IsdartsError(
        f"{path}: bad value {value!r} for {key!r} (expected {expected}; see {example})"
    )


def _dotted(text: str) -> str:
    mantissa, e, exponent = text.partition("e") if "e" in text else text.partition("E")
    return f"{mantissa}.0{e}{exponent}"


def _is_finite(value: float | int) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int past the float range (10**400): no setting can use it
        return False


def _numbers(raw: dict) -> Iterator[tuple[str, float | int]]:
    """(key, value) of every number setting of a profile that passed its schema: top-level
    values, the values of the baselines' blocks and the items of ``arch_betas``."""
    for key, value in raw.items():
        inner = value.items() if isinstance(value, dict) else [(None, value)]
        for sub, v in inner:
            name = f"{key}" if sub is None else f"{key}.{sub}"
            for item in v if isinstance(v, list) else [v]:
                if isinstance(item, (int, float)) and not isinstance(item, bool):
                    yield name, item


def _value(raw: dict, key: str) -> Any:
    for part in key.split("."):
        raw = raw[part]
    return raw


def _description(kind: str, key: str) -> str | None:
    props = schema(kind)["properties"]
    head, _, rest = key.partition(".")
    prop = props.get(head, {})
    if rest:
        prop = prop.get("properties", {}).get(rest, {})
    return prop.get("description")


def load(cls: type[P], kind: str, name_or_path: str | os.PathLike) -> P:
    """The profile ``name_or_path`` of ``kind`` as a ``cls`` (a frozen dataclass)."""
    prefix, what, _ = KINDS[kind]
    path = resolve_prefixed(name_or_path, prefix, what)
    raw = read_mapping(path)
    blocks = getattr(cls, "blocks", {})
    for block in blocks:
        if block in raw and raw[block] is None:
            raw[block] = {}  # an empty block: the paper's settings
    check(path, raw, kind)
    named = {block: set(raw[block]) for block in blocks if block in raw}
    for block, settings_cls in blocks.items():
        if block in raw:
            values = dict(raw[block])
            if "arch_betas" in values:
                values["arch_betas"] = tuple(float(b) for b in values["arch_betas"])
            raw[block] = settings_cls(**values)
    prof = cls(name=path.stem.removeprefix(prefix), **raw)
    _check_together(path, prof, named)
    # not a field: what the file left to the defaults (said on stderr by the verbs that run it)
    object.__setattr__(prof, "_defaulted", (path, _missing(cls, raw, named)))
    return prof


def _missing(cls: type, raw: dict[str, Any], named: dict[str, set[str]]) -> tuple[str, ...]:
    """The settings a profile file does not name: top-level keys, whole blocks and the keys of
    the blocks it gives (``named``: the keys each given block names)."""
    out = []
    for f in dataclasses.fields(cls):
        if f.name == "name":
            continue
        if f.name not in raw:
            out.append(f.name)
        elif f.name in named:
            keys = {k.name for k in dataclasses.fields(raw[f.name])}
            out.extend(f"{f.name}.{k}" for k in sorted(keys - named[f.name]))
    return tuple(out)


def defaulted(prof: Any) -> tuple[Path | None, tuple[str, ...]]:
    """(the profile's file, the settings it did not name and took from the defaults)."""
    return getattr(prof, "_defaulted", (None, ()))


def carry_defaulted(new: Any, old: Any) -> Any:
    """``new`` (a ``dataclasses.replace`` of ``old``) with ``old``'s record of defaults."""
    object.__setattr__(new, "_defaulted", defaulted(old))
    return new


def _check_together(path: Path, prof: Any, named: Iterable[str] = ()) -> None:
    """The settings that depend on each other."""
    if hasattr(prof, "shrink_steps"):
        span = prof.shrink_steps * prof.shrink_interval
        if prof.epochs - span < 1:
            raise IsdartsError(
                f"{path}: 'epochs' ({prof.epochs}) must exceed shrink_steps * "
                f"shrink_interval ({span})"
            )
    if hasattr(prof, "warmup_epochs") and prof.warmup_epochs >= prof.epochs:
        raise IsdartsError(
            f"{path}: 'warmup_epochs' ({prof.warmup_epochs}) must be below 'epochs' ({prof.epochs})"
        )
    if prof.lr_min > prof.lr:
        raise IsdartsError(f"{path}: 'lr_min' ({prof.lr_min}) must not exceed 'lr' ({prof.lr})")
    for block in named:  # the blocks the file gives (a default block serves no search here)
        settings = getattr(prof, block, None)
        warmup, epochs = getattr(settings, "warmup_epochs", 0), getattr(settings, "epochs", None)
        if epochs is not None and warmup >= epochs:
            raise IsdartsError(
                f"{path}: '{block}.warmup_epochs' ({warmup}) must be below '{block}.epochs' "
                f"({epochs}): no architecture step would be taken"
            )
        groups = getattr(settings, "partial_channels", 1)
        if prof.channels % groups:
            raise IsdartsError(
                f"{path}: '{block}.partial_channels' ({groups}) must divide 'channels' "
                f"({prof.channels})"
            )


def settings(prof: Any) -> dict[str, Any]:
    """A profile's settings as JSON values (tuples as lists), for result files and identities."""
    return _lists(dataclasses.asdict(prof))


def _lists(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _lists(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_lists(x) for x in v]
    return v
