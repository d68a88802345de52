"""Property-based tests (hypothesis) of the parsers of user input: NAS-Bench-201 cell strings,
DARTS-space genotypes (dict, JSON, the DARTS text form, files, the ``genotype`` verb's
arguments), run profiles and seeds.

The contract: a valid input round-trips; any other input of a type a user can supply (text from
the command line or a file, YAML/JSON values) is refused with an :class:`IsdartsError` whose
message is one line naming the input, never another exception. ``parse_seed`` is an argparse
``type=`` function, so its refusal is the ``ValueError`` argparse turns into a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import math
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from isdarts.cli import load_job_profile
from isdarts.config import profiles
from isdarts.config.seeds import MAX_SEED, parse_seed
from isdarts.errors import IsdartsError
from isdarts.spaces.darts import cli as genotype_cli
from isdarts.spaces.darts.names import (
    PRIMITIVES,
    REFERENCE_GENOTYPES,
    Genotype,
    genotype_from_dict,
    load_genotype,
    parse_darts_text,
)
from isdarts.spaces.nb201 import names as nb201

FAST = settings(max_examples=150, deadline=None)
FILES = settings(max_examples=60, deadline=None)  # file IO: no deadline


def _refused(call, *args):
    """``call(*args)``'s result, or None when it raised a one-line IsdartsError."""
    try:
        return call(*args)
    except IsdartsError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg and "\r" not in msg, repr(msg)
        return None


# ---------------------------------------------------------------------------- value strategies
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),  # inf and nan included
    st.text(max_size=20),
)
# what json.load / yaml.safe_load give: scalars, lists, string-keyed mappings
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# YAML mappings may also have null, bool, int or float keys
yaml_keys = st.one_of(st.text(max_size=12), st.none(), st.booleans(), st.integers(), st.floats())
yaml_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(yaml_keys, inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """One folder for the file-reading properties (function-scoped tmp_path is not reset
    between hypothesis examples)."""
    return tmp_path_factory.mktemp("parsers")


# ------------------------------------------------------------------------- NAS-Bench-201 cells
cells = st.lists(st.sampled_from(nb201.OPS), min_size=len(nb201.EDGES), max_size=len(nb201.EDGES))


@FAST
@given(cells)
def test_nb201_every_cell_round_trips(ops):
    text = nb201.to_str(ops)
    assert nb201.parse(text) == ops
    assert nb201.to_str(nb201.parse(text)) == text
    assert nb201.parse(f"  {text}\n") == ops  # a trailing newline (a line of a file) is fine


def test_nb201_bench_reexports_are_the_parsers():
    from isdarts import bench

    assert bench.parse is nb201.parse and bench.to_str is nb201.to_str


# text near the cell grammar reaches every branch; plain text covers the rest
cell_text = st.one_of(
    st.text(),
    st.lists(
        st.sampled_from([*nb201.OPS, "|", "~", "+", "0", "1", "2", "3", " ", "\n", "x", "'"]),
        max_size=30,
    ).map("".join),
)


@FAST
@given(cell_text)
@example("|nor_conv_3x3~0|\n+|none~0|none~1|+|none~0|none~1|none~2|")  # were messages
@example("|x\n~0|+|none~0|none~1|+|none~0|none~1|none~2|")  # broken over two lines
def test_nb201_any_text_parses_to_a_canonical_cell_or_is_refused(text):
    ops = _refused(nb201.parse, text)
    if ops is not None:
        assert len(ops) == len(nb201.EDGES) and set(ops) <= set(nb201.OPS)
        assert nb201.to_str(ops) == text.strip()


@FAST
@given(json_values.filter(lambda v: not isinstance(v, str)))
@example([])
@example(None)  # to_str: was a TypeError
def test_nb201_non_strings_are_refused(value):
    assert _refused(nb201.parse, value) is None
    ops = _refused(nb201.to_str, value)  # a list of 6 op names is the only valid value
    assert ops is None or (isinstance(value, list) and nb201.parse(ops) == value)


def _mutations(draw, text: str) -> str:
    kind = draw(st.sampled_from(["drop|", "drop~", "drop+", "index", "op", "space"]))
    if kind in ("drop|", "drop~", "drop+"):
        where = [i for i, c in enumerate(text) if c == kind[-1]]
        i = draw(st.sampled_from(where))
        return text[:i] + text[i + 1 :]
    if kind == "index":
        where = [i + 1 for i, c in enumerate(text) if c == "~"]
        i = draw(st.sampled_from(where))
        wrong = draw(st.sampled_from([d for d in "0123456789" if d != text[i]]))
        return text[:i] + wrong + text[i + 1 :]
    if kind == "op":  # one op name replaced by any other text without the separators
        m = draw(st.sampled_from(list(re.finditer(r"[^|~+]+(?=~)", text))))
        bad = draw(
            st.text(st.characters(blacklist_characters="|~+"), max_size=12).filter(
                lambda s: s not in nb201.OPS
            )
        )
        return text[: m.start()] + bad + text[m.end() :]
    i = draw(st.integers(1, len(text) - 1))  # whitespace inside the string
    return text[:i] + draw(st.sampled_from([" ", "\t", "\n"])) + text[i:]


@FAST
@given(cells, st.data())
def test_nb201_mutated_strings_are_refused(ops, data):
    text = nb201.to_str(ops)
    bad = _mutations(data.draw, text)
    assert bad != text
    assert _refused(nb201.parse, bad) is None, bad


# ---------------------------------------------------------------------------- DARTS genotypes
REAL_OPS = [op for op in PRIMITIVES if op != "none"]


@st.composite
def genotypes(draw, steps=None):
    steps = steps or draw(st.integers(1, 5))

    def cell():
        pairs = []
        for node in range(steps):
            for _ in range(2):
                pairs.append((draw(st.sampled_from(REAL_OPS)), draw(st.integers(0, node + 1))))
        concat = draw(st.permutations(range(2, 2 + steps)))
        size = draw(st.integers(1, steps))
        return tuple(pairs), tuple(concat[:size])

    normal, normal_concat = cell()
    reduce, reduce_concat = cell()
    return Genotype(normal, normal_concat, reduce, reduce_concat)


@FAST
@given(genotypes())
def test_genotype_round_trips_through_dict_json_and_text(g):
    assert genotype_from_dict(g.to_dict()) == g
    assert genotype_from_dict(json.loads(g.to_json())) == g
    assert parse_darts_text(str(g), "g") == g
    if g.steps == 4 and g.normal_concat == (2, 3, 4, 5):
        text = str(g).replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(2, 6)")
        assert parse_darts_text(text, "g") == g


def test_reference_genotypes_round_trip():
    for name, g in REFERENCE_GENOTYPES.items():
        assert load_genotype(name) is g
        assert genotype_from_dict(g.to_dict()) == g == parse_darts_text(str(g), name)


@FILES
@given(genotypes(steps=4), st.sampled_from(["json", "result", "text"]))
def test_genotype_files_round_trip(workdir, g, form):
    path = workdir / "g.json"
    text = {
        "json": g.to_json(),
        "result": json.dumps({"method": "isdarts", "genotype": g.to_dict()}),
        "text": str(g) + "\n",
    }[form]
    path.write_text(text)
    assert load_genotype(path) == g


def _valid_or_refused_dict(value):
    g = _refused(genotype_from_dict, value, "where")
    if g is not None:
        assert genotype_from_dict(g.to_dict()) == g
    return g


@FAST
@given(json_values)
def test_genotype_any_json_value_is_a_genotype_or_refused(value):
    _valid_or_refused_dict(value)


@FAST
@given(st.dictionaries(yaml_keys, yaml_values, max_size=5))
@example({1: None, "a": None})  # was a TypeError: sorted() of str and int keys
@example({"\r": None})  # was a two-line message
@example({"a\nb": 1})
def test_genotype_any_mapping_is_a_genotype_or_refused(value):
    _valid_or_refused_dict(value)


@FAST
@given(genotypes(steps=4), st.data())
def test_genotype_one_bad_entry_is_refused_or_still_valid(g, data):
    """A valid dict with one entry (a key, a pair, an op, an input) replaced by anything."""
    obj = g.to_dict()
    key = data.draw(st.sampled_from([*obj, "extra"]))
    target = data.draw(st.sampled_from(["whole", "item", "op", "input"]))
    value = data.draw(yaml_values)
    if key in ("normal", "reduce") and target != "whole":
        k = data.draw(st.integers(0, len(obj[key]) - 1))
        if target == "item":
            obj[key][k] = value
        else:
            obj[key][k][0 if target == "op" else 1] = value
    else:
        obj[key] = value
    _valid_or_refused_dict(obj)


# Python-literal text in the slots of the DARTS text form
literal_text = st.one_of(
    st.text(max_size=30),
    st.builds(repr, json_values),
    st.sampled_from(
        [
            "range(2, 6)",
            "range(6)",
            "range(2, 6, 0)",
            "range('a')",
            "range(100000000)",
            "range(2, 1000000000000000000000000000000)",
            "range(-1000000000000000000000000000000, 1000000000000000000000000000000, 3)",
            "list()",
            "-" * 200 + "1",
            "[" * 150 + "]" * 150,
            "1" * 5000,
            "{'a': 1}",
            "{1, 2}",
            "b'x'",
            "1j",
        ]
    ),
)


ONE_NODE = (
    "Genotype(normal=[('skip_connect', 0), ('skip_connect', 1)], normal_concat={}, "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])"
)


def test_darts_text_range_is_not_listed_whole():
    """range(100000000) took 7 s and 4 GB before it was refused (it was listed whole)."""
    with pytest.raises(IsdartsError, match=r"bad 'normal_concat' range\(0, 100000000\)"):
        parse_darts_text(ONE_NODE.format("range(100000000)"), "g")
    assert parse_darts_text(ONE_NODE.format("range(2, 3)"), "g").normal_concat == (2,)


@st.composite
def darts_texts(draw):
    """The DARTS text form of a reference cell with one slot (or an extra keyword) replaced by
    Python-literal text, sometimes cut short or under another name."""
    slots = {k: repr(v) for k, v in REFERENCE_GENOTYPES["darts_v2"].to_dict().items()}
    key = draw(st.sampled_from([*slots, "other", None]))
    if key is not None:
        slots[key] = draw(literal_text)
    body = ", ".join(f"{k}={v}" for k, v in slots.items())
    return draw(st.sampled_from([f"Genotype({body})", f"Genotype({body}", f"X({body})", body]))


@FAST
@given(darts_texts())
@example(ONE_NODE.format("range(1000000000000)"))  # was a MemoryError
@example(ONE_NODE.format("range(100000000000000000000)"))  # was an OverflowError
@example(ONE_NODE.format("range(2, 3, x=1)"))  # range's keywords were ignored
def test_darts_text_is_a_genotype_or_refused(text):
    g = _refused(parse_darts_text, text, "where")
    if g is not None:
        assert genotype_from_dict(g.to_dict()) == g


@FAST
@given(st.text())
@example("Genotype(normal=range(10**30))")
@example("Genotype(**{'normal': 1})")  # was "unknown key 'None'"
@example("Genotype(\n\tnormal=1)")
def test_darts_text_any_text_is_a_genotype_or_refused(text):
    _refused(parse_darts_text, text, "where")


# contents of a genotype file: valid JSON of anything, near-JSON text, raw bytes
file_contents = st.one_of(
    st.builds(lambda v: json.dumps(v).encode(), json_values),
    st.text().map(str.encode),
    st.binary(max_size=64),
    st.builds(lambda s: ("Genotype(" + s).encode(), st.text(max_size=40)),
    st.sampled_from(
        [
            b"{" + b'"a":[' * 50_000,
            b'{"genotype": ' + b"1" * 5000 + b"}",
            b"NaN",
            b"\xff\xfe{}",
            b"",
        ]
    ),
)


@FILES
@given(file_contents)
@example(b"[" * 100_000)  # was a RecursionError
@example(b"1" * 5000)  # was a ValueError: past the 4300-digit limit of int()
@example(b"\x80")  # was a UnicodeDecodeError
def test_genotype_file_contents_give_a_genotype_or_one_line_error(workdir, content):
    path = workdir / "arbitrary.json"
    path.write_bytes(content)
    _refused(load_genotype, path)


@FAST
@given(st.text())
@example("a" * 300)  # was an OSError: file name too long
@example("x/" * 3000)
@example("a\x00b")
@example("")
def test_genotype_name_is_a_reference_a_file_or_refused(name):
    g = _refused(load_genotype, name)
    assert g is None or name in REFERENCE_GENOTYPES or Path(name).is_file()


def _genotype_args(argv: list[str]):
    """The genotype verb's parsed arguments, or None after argparse's usage error (status 2)."""
    parser = argparse.ArgumentParser(prog="isdarts")
    genotype_cli.add_parser(parser.add_subparsers(dest="verb"))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            return parser.parse_args(["genotype", *argv])
        except SystemExit as exc:
            assert exc.code == 2
            last = err.getvalue().strip().splitlines()[-1]
            assert last.startswith("isdarts genotype: error: argument --"), last
            return None


@FAST
@given(st.sampled_from(["--channels", "--layers"]), st.text(max_size=12) | st.integers().map(str))
@example("--channels", "0")
@example("--layers", "0")
@example("--layers", "2")
@example("--channels", "-3")
def test_genotype_size_arguments_are_checked_when_parsed(flag, value):
    args = _genotype_args(["darts_v2", f"{flag}={value}"])
    if args is not None:
        assert isinstance(args.channels, int) and args.channels >= 1
        assert isinstance(args.layers, int) and args.layers >= 3


# ----------------------------------------------------------------------------------- profiles
JOBS = ("darts", "nb201", "train")  # isdarts.cli.JOB_PROFILES


def _unit(lo, hi, *, lo_open=False, hi_open=False):
    return st.floats(lo, hi, exclude_min=lo_open, exclude_max=hi_open, allow_nan=False)


SHARED = {
    "channels": st.integers(1, 64),
    "batch_size": st.integers(2, 512),
    "epochs": st.integers(1, 1000),
    "lr": _unit(0, 10, lo_open=True),
    "lr_min": _unit(0, 10),
    "momentum": _unit(0, 1, hi_open=True),
    "nesterov": st.booleans(),
    "weight_decay": _unit(0, 1),
    "grad_clip": _unit(0, 100, lo_open=True),
    "train_subset": st.none() | st.integers(2, 50_000),
    "threads": st.none() | st.integers(1, 64),
    "channels_last": st.booleans(),
}
DARTS_KEYS = {
    "epochs": st.integers(1, 100),
    "arch_lr": _unit(0, 1, lo_open=True),
    "arch_betas": st.lists(_unit(0, 1, hi_open=True), min_size=2, max_size=2),
    "arch_weight_decay": _unit(0, 1),
    "weight_decay": _unit(0, 1),
}
SEARCH = {
    "shrink_interval": st.integers(1, 5),
    "order": st.sampled_from(["shuffle", "fixed"]),
    "darts": st.none() | st.fixed_dictionaries({}, optional=DARTS_KEYS),
}
KEYS = {
    "nb201": {
        **SHARED,
        **SEARCH,
        "cells_per_stage": st.integers(1, 5),
        "shrink_steps": st.integers(1, 4),
    },
    "darts": {**SHARED, **SEARCH, "layers": st.integers(3, 20), "shrink_steps": st.integers(1, 8)},
    "train": {
        **SHARED,
        "layers": st.integers(3, 20),
        "auxiliary_weight": _unit(0, 10),
        "drop_path": _unit(0, 1, hi_open=True),
        "warmup_epochs": st.integers(0, 10),
        "cutout": st.integers(0, 32),
        "test_subset": st.none() | st.integers(1, 10_000),
        "eval_batch_size": st.integers(1, 1000),
    },
}
INT_KEYS = {
    k
    for k in set().union(*KEYS.values())
    if k
    in (
        "channels batch_size epochs cells_per_stage shrink_steps shrink_interval layers "
        "warmup_epochs cutout eval_batch_size"
    ).split()
}


def _cls(job):
    from isdarts.cli import JOB_PROFILES

    return JOB_PROFILES[job][1]


@st.composite
def valid_settings(draw, job):
    """A subset of the keys with valid values, the settings that depend on each other made to
    agree (with the dataclass defaults for the keys left out)."""
    raw = draw(st.fixed_dictionaries({}, optional=KEYS[job]))
    defaults = _cls(job)(name="x")

    def get(key):
        return raw.get(key, getattr(defaults, key))

    if job != "train" and get("epochs") <= get("shrink_steps") * get("shrink_interval"):
        raw["epochs"] = get("shrink_steps") * get("shrink_interval") + draw(st.integers(1, 5))
    if job == "train" and get("warmup_epochs") >= get("epochs"):
        raw["epochs"] = get("warmup_epochs") + draw(st.integers(1, 5))
    if get("lr_min") > get("lr"):
        raw["lr_min"] = get("lr") * draw(_unit(0, 1))
    return raw


def _write(workdir: Path, name: str, raw) -> Path:
    path = workdir / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _assert_loaded(prof, raw):
    for key, value in raw.items():
        got = getattr(prof, key)
        if key == "darts":
            for k, v in (value or {}).items():
                assert getattr(got, k) == (tuple(v) if k == "arch_betas" else v), k
        else:
            assert got == value, key
            if key in INT_KEYS:
                assert type(got) is int, key


@FILES
@given(st.sampled_from(JOBS).flatmap(lambda j: st.tuples(st.just(j), valid_settings(j))))
def test_profile_written_from_valid_settings_loads_the_same_values(workdir, job_raw):
    job, raw = job_raw
    path = _write(workdir, "p.yaml", raw)
    prof = load_job_profile(job, path)
    assert prof.name == "p"
    _assert_loaded(prof, raw)
    assert all(math.isfinite(v) for v in _floats(profiles.settings(prof)))


def _floats(v):
    if isinstance(v, dict):
        v = list(v.values())
    if isinstance(v, list):
        return list(itertools.chain.from_iterable(_floats(x) for x in v))
    return [v] if isinstance(v, float) else []


def _load_or_refused(job, path):
    prof = _refused(load_job_profile, job, path)
    if prof is None:
        return None
    assert all(math.isfinite(v) for v in _floats(profiles.settings(prof)))
    for key in INT_KEYS:
        assert type(getattr(prof, key, 0)) is int, key
    return prof


@FILES
@given(st.sampled_from(JOBS), st.dictionaries(yaml_keys, yaml_values, max_size=5))
@example("nb201", {1: 0, "a": 0})
@example("darts", {"darts": {1: 0, "a": 0}})
@example("nb201", {"a\nb": 1})
@example("nb201", {"epochs": 30.0})
@example("darts", {"darts": {"arch_betas": [float("nan"), 0.5]}})
@example("train", {"lr": 10**400})
def test_profile_any_mapping_loads_or_is_refused(workdir, job, raw):
    try:
        path = _write(workdir, "any.yaml", raw)
    except yaml.YAMLError:
        return
    prof = _load_or_refused(job, path)
    if prof is not None:
        _assert_loaded(prof, raw)


@FILES
@given(
    st.sampled_from(JOBS).flatmap(lambda j: st.tuples(st.just(j), valid_settings(j))),
    st.data(),
)
def test_profile_one_bad_setting_is_refused_naming_the_key(workdir, job_raw, data):
    """A valid profile with one key (known, unknown or under ``darts:``) set to anything: it
    loads with that value, or the one-line error names the file and the key."""
    job, raw = job_raw
    keys = sorted(KEYS[job])
    nested = job != "train" and data.draw(st.booleans())
    if nested:
        key = data.draw(st.sampled_from([*DARTS_KEYS, "other"]))
        raw["darts"] = dict(raw.get("darts") or {}, **{key: data.draw(yaml_values)})
        name = f"darts.{key}"
    else:
        key = data.draw(st.sampled_from([*keys, "other", "Epochs"]))
        raw[key] = data.draw(yaml_values)
        name = key
    path = _write(workdir, "one.yaml", raw)
    try:
        prof = load_job_profile(job, path)
    except IsdartsError as exc:
        msg = str(exc)
        assert "\n" not in msg and str(path) in msg, msg
        together = ("epochs", "lr", "lr_min", "shrink_steps", "shrink_interval", "warmup_epochs")
        named = f"'{name}'" in msg or f"'{name}." in msg  # or a key under it: 'darts.x'
        assert named or (not nested and key in together), msg
    else:
        _assert_loaded(prof, raw)


@pytest.mark.parametrize(
    "job, text, needle",
    [
        ("nb201", "epochs: 30.0\n", "bad value 30.0 for 'epochs' (expected an integer >= 1"),
        ("train", "warmup_epochs: 1.0\n", "for 'warmup_epochs' (expected an integer >= 0"),
        ("darts", "darts:\n  arch_betas: [.nan, 0.5]\n", "nan for 'darts.arch_betas'"),
        ("train", "lr: 1" + "0" * 400 + "\n", "for 'lr' (expected a finite number)"),
        ("nb201", "batch_size: {'': .inf}\n", "for 'batch_size' (expected an integer >= 2"),
        ("nb201", "1: 0\na: 0\n", "unknown key '1'"),
        ("darts", "darts: {1: 0, a: 0}\n", "unknown key 'darts.1'"),
        ("nb201", '"a\\nb": 1\n', "unknown key 'a\\nb'"),
        ("darts", "darts: &x {darts: *x}\n", "unknown key 'darts.darts'"),
        ("nb201", "lr: 3e-4\n", "YAML reads 3e-4 as text, write a dot in it: 3.0e-4"),
        ("nb201", "epochs: 1" + "0" * 5000 + "\n", "a number with too many digits"),
        ("nb201", "a: " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
        ("nb201", "epochs: 2020-13-45\n", "a value it cannot convert: month must be in 1..12"),
        ("nb201", "epochs: !!int\n", "not valid YAML (a value it cannot convert)"),
        ("nb201", "lr: !!float x\n", "a value it cannot convert: could not convert string"),
    ],
)
def test_profile_errors_found_by_the_properties(workdir, job, text, needle):
    """The failing inputs the properties found, each a one-line error naming the key."""
    path = workdir / "found.yaml"
    path.write_text(text)
    with pytest.raises(IsdartsError) as info:
        load_job_profile(job, path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{path}: ") and needle in msg, msg


def test_profile_name_errors_are_one_line():
    for bad in ("\r", "a\nb"):
        with pytest.raises(IsdartsError, match=r"^profile '(\\r|a\\nb)' not found as \S+ or \S+ "):
            load_job_profile("nb201", bad)
    with pytest.raises(IsdartsError, match="File name too long"):
        load_job_profile("nb201", "a" * 300)


YAML_TAGS = "int float bool null str timestamp binary seq map set omap pairs merge value".split()
yaml_texts = st.one_of(
    st.text(max_size=60),
    st.builds(  # a value under an explicit tag: PyYAML then converts text it did not match
        "{}: !!{} {}".format,
        st.sampled_from(["epochs", "lr", "darts", "x"]),
        st.sampled_from(YAML_TAGS),
        st.text(max_size=12).map(json.dumps)
        | st.from_regex(r"[-+0-9a-fx_.:TZ ]{0,24}", fullmatch=True),
    ),
    st.builds(lambda v: yaml.safe_dump(v), yaml_values),
    st.sampled_from(
        [
            "[" * 5000,
            "a: " + "[" * 3000 + "]" * 3000,
            "a: &x [*x]\n",
            "darts: &x {darts: *x}\n",
            "lr: &x {lr: *x}\n",
            "epochs: " + "1" * 5000 + "\n",
            "? [1, 2]\n: 3\n",
            "lr: 3e-4\n",
            "epochs: 2020-01-01\n",
            "darts: [1]\n",
            "darts:\n",
        ]
    ),
)


@FILES
@given(st.sampled_from(JOBS), yaml_texts | st.binary(max_size=40))
def test_profile_any_file_loads_or_is_refused(workdir, job, content):
    path = workdir / "text.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    _load_or_refused(job, path)


@FAST
@given(st.sampled_from(JOBS), st.text(max_size=40))
@example("nb201", "a" * 300)
@example("train", "x\x00")
@example("darts", "")
@example("darts", "smoke")
@example("darts", "\r")  # was a message broken over three lines
def test_profile_name_is_a_profile_or_refused(job, name):
    _load_or_refused(job, name)


# --------------------------------------------------------------------------------------- seeds
@FAST
@given(st.integers(0, MAX_SEED))
def test_seed_in_range_parses(seed):
    assert parse_seed(str(seed)) == seed
    assert parse_seed(f" {seed}\n") == seed


@FAST
@given(st.one_of(st.text(), st.integers().map(str), st.floats().map(str)))
@example(str(MAX_SEED + 1))
@example("-1")
@example("1" * 5000)
@example(str(2**64))
def test_seed_any_text_is_in_range_or_refused(text):
    try:
        seed = parse_seed(text)
    except ValueError as exc:  # argparse's type= protocol: a usage error naming --seed
        assert "\n" not in str(exc) and f"0..{MAX_SEED}" in str(exc)
    else:
        assert type(seed) is int and 0 <= seed <= MAX_SEED
