"""Atomic writes: a reader never sees a half-written output file."""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from isdarts.errors import IsdartsError


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it over ``path``."""
    path = Path(path)
    if path.exists() and not path.is_file():  # a folder, a device, a FIFO: never replaced
        raise IsdartsError(f"{path}: exists and is not a regular file (expected a file to write)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise IsdartsError(f"{path}: cannot write ({exc.strerror or exc})") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; give the usual mode
        write(tmp_path)
        os.replace(tmp_path, path)
    except OSError as exc:  # named by the path asked for, not the temporary file
        tmp_path.unlink(missing_ok=True)
        raise IsdartsError(f"{path}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    return write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def _read_text(path: Path) -> str:
    """The UTF-8 text of ``path``; other bytes, or a path that is not a regular file (a device
    or a FIFO would be read without end), are one line naming it."""
    if path.exists() and not path.is_file():
        raise IsdartsError(f"{path}: not a regular file (expected a text file)")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise IsdartsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _value_detail(exc: ValueError) -> str:
    """The first line of a parser's ValueError, worded for a number past Python's 4300-digit
    limit for ``int()``."""
    detail = str(exc).strip().splitlines()[0]
    return "a number with too many digits" if "integer string conversion" in detail else detail


class DuplicateKey(ValueError):
    """A mapping names one key twice (lines 1-based; 0 where unknown)."""

    def __init__(self, key: Any, first: int, second: int) -> None:
        super().__init__(key)
        self.key, self.first, self.second = key, first, second

    def message(self, where: str) -> str:
        lines = f" (lines {self.first} and {self.second})" if self.first and self.second else ""
        return f"{where}: key {self.key!r} given twice{lines}; expected each key once"


@functools.cache
def _unique_key_loader() -> type:
    """PyYAML's safe loader, refusing a mapping that names a key twice (PyYAML keeps the later
    value silently). Merge keys (``<<: *anchor``) may still be overridden by explicit keys."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    if key in seen:
                        raise DuplicateKey(key, seen[key], line)
                    seen[key] = line
                except TypeError:  # an unhashable key: PyYAML's own error follows
                    continue
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def read_yaml(path: str | os.PathLike) -> Any:
    """The YAML document in ``path``; a syntax error or a key given twice in one mapping becomes
    one line naming the file, line and column (PyYAML's own message spans several lines and
    names ``<unicode string>``)."""
    import yaml

    path = Path(path)
    text = _read_text(path)
    try:
        return yaml.load(text, Loader=_unique_key_loader())  # noqa: S506 - a safe loader
    except DuplicateKey as exc:
        raise IsdartsError(exc.message(str(path))) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise IsdartsError(f"{path}{where}: not valid YAML ({problem})") from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise IsdartsError(f"{path}: not valid YAML (collections nested too deeply)") from None
    except (ValueError, TypeError, LookupError, AttributeError) as exc:
        # PyYAML's constructors on a scalar they cannot convert: int() of a 5000-digit number,
        # a date 2020-13-45 (ValueError), an empty `!!int` (IndexError) or `!!bool` (KeyError)
        detail = _value_detail(exc) if isinstance(exc, ValueError) else ""
        raise IsdartsError(
            f"{path}: not valid YAML (a value it cannot convert{': ' * bool(detail)}{detail})"
        ) from None


# What a pickle the harness reads may name (data sets' pickle batches, NATS-Bench's files):
# numpy arrays, their dtypes and scalars (numpy 1 and 2 names, Python 2 and 3 pickles) and
# ordered dicts. Anything else (a function, a class) would be code to run: refused unlooked-up.
PICKLE_ALLOWED = frozenset(
    {
        (module, name)
        for prefix in ("numpy.core", "numpy._core")
        for module, name in (
            (f"{prefix}.multiarray", "_reconstruct"),
            (f"{prefix}.multiarray", "scalar"),
            (f"{prefix}.numeric", "_frombuffer"),
        )
    }
    | {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}
    | {("collections", "OrderedDict")}
)


def load_pickle(file: Any, **options: Any) -> Any:
    """``pickle.load(file, **options)`` allowing only :data:`PICKLE_ALLOWED`; anything else
    raises ``pickle.UnpicklingError`` naming it, before it is imported."""
    import pickle

    class Restricted(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if (module, name) not in PICKLE_ALLOWED:
                raise pickle.UnpicklingError(
                    f"refused: it names {module}.{name} (only arrays and plain values are read)"
                )
            return super().find_class(module, name)

    return Restricted(file, **options).load()


def _not_a_number(text: str) -> float:
    raise ValueError(f"{text} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]} is beyond the range of a float")
    return value


def unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict; a key given twice is an error (json keeps the last)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key, 0, 0)
        out[key] = value
    return out


def _json_lines(exc: DuplicateKey, text: str) -> DuplicateKey:
    """The error with the lines of the key's first two occurrences as an object key (the
    parser's hook does not see positions)."""
    import re

    pattern = re.escape(json.dumps(exc.key)) + r"\s*:"
    lines = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(pattern, text)]
    if len(lines) >= 2:
        return DuplicateKey(exc.key, lines[0], lines[1])
    return exc


def parse_json(text: str, where: str, *, finite: bool = False) -> Any:
    """The JSON document ``text`` (read from ``where``); every way it can be malformed becomes one
    line naming ``where``: bad syntax, a number past Python's 4300-digit limit, nesting too deep
    for the parser. With ``finite``, ``NaN``, ``Infinity`` and numbers beyond a float's range (a
    result file's values are finite) are refused too."""
    strict = {"parse_constant": _not_a_number, "parse_float": _finite_float} if finite else {}
    try:
        return json.loads(text, object_pairs_hook=unique_pairs, **strict)
    except DuplicateKey as exc:
        raise IsdartsError(_json_lines(exc, text).message(where)) from None
    except json.JSONDecodeError as exc:
        raise IsdartsError(f"{where}: not valid JSON ({exc})") from None
    except RecursionError:  # arrays or objects nested ~10^4 deep
        raise IsdartsError(f"{where}: not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # int() past Python's digit limit, or a constant refused above
        raise IsdartsError(f"{where}: not valid JSON ({_value_detail(exc)})") from None


def read_json(path: str | os.PathLike, *, finite: bool = False) -> Any:
    """The JSON document in ``path`` (:func:`parse_json`); a file that is not UTF-8 text is one
    line naming it. A missing file raises ``FileNotFoundError`` for the caller to name."""
    path = Path(path)
    return parse_json(_read_text(path), str(path), finite=finite)


def check_outputs(
    outputs: dict[str, str | os.PathLike | None], inputs: list[str | os.PathLike] = ()
) -> None:
    """Before a verb writes several files: each output (by its option, ``None`` for one not
    asked for) is a file path not already a folder, not under a file, not another output and
    not one of the ``inputs``; else IsdartsError naming the option. (A verb that found out only
    when writing its second file would leave the first behind.)"""
    given = {Path(p).resolve(): str(p) for p in inputs}
    seen: dict[Path, str] = {}
    for option, out in outputs.items():
        if out is None:
            continue
        path = Path(out)
        if path.is_dir():
            raise IsdartsError(f"{option} {out}: a folder (expected a file to write)")
        above = next((p for p in path.parents if p.exists()), None)
        if above is not None and not above.is_dir():
            raise IsdartsError(f"{option} {out}: {above} is a file, not a folder")
        resolved = path.resolve()
        if resolved in seen:
            raise IsdartsError(f"{option} {out}: the same file as {seen[resolved]}")
        if resolved in given:
            raise IsdartsError(
                f"{option} {out}: the input file {given[resolved]} (would overwrite it)"
            )
        seen[resolved] = option


def path_arg(text: str) -> str:
    """An argparse ``type=`` for a file or folder option: an empty string is refused (``--out ''``
    would otherwise mean the working directory)."""
    import argparse

    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return text
