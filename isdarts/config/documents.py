"""YAML and JSON files checked against a JSON Schema of ``isdarts/config/schemas``: the first
problem becomes one line naming the file, the field and what was expected.

A schema's ``description`` of a field is what the message says was expected; without one,
jsonschema's own message (shortened) is used.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import yaml

from isdarts._optional import optional
from isdarts.errors import IsdartsError

SCHEMA_DIR = Path(__file__).parent / "schemas"


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """``schemas/<name>.schema.yaml``."""
    return yaml.safe_load((SCHEMA_DIR / f"{name}.schema.yaml").read_text())


def field_name(path: Any) -> str:
    """``nb201.rows[0].id`` from jsonschema's absolute path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f"{'.' if out else ''}{part}"
    return out


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def problem(error: Any) -> str:
    """One line: the field and what was expected."""
    where = field_name(error.absolute_path)
    at = f"'{where}'" if where else "the top level"
    if error.validator == "required":
        missing = next(k for k in error.validator_value if k not in error.instance)
        prefix = f"{where}." if where else ""
        return f"missing key '{prefix}{missing}'"
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(k for k in error.instance if k not in known)[0]
        prefix = f"{where}." if where else ""
        return f"unknown key '{prefix}{unknown}' (expected one of {', '.join(known)})"
    if not where and error.validator == "type":
        return f"expected a mapping of keys to values, not {_short(error.instance)}"
    expected = error.schema.get("description") if isinstance(error.schema, dict) else None
    if expected:
        return f"bad value {_short(error.instance)} for {at} (expected {expected})"
    return f"bad value for {at}: {_short(error.message, 160)}"


def check_document(path: str | os.PathLike, doc: Any, name: str) -> None:
    """``doc`` (read from ``path``) against ``schemas/<name>.schema.yaml``; IsdartsError with the
    first problem (the shallowest, then in file order) as one line."""
    jsonschema = optional("jsonschema", "config documents are not schema-checked")
    if jsonschema is None:
        return
    validator = jsonschema.Draft202012Validator(schema(name))
    errors = sorted(
        validator.iter_errors(doc),
        key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path]),
    )
    if errors:
        raise IsdartsError(f"{path}: {problem(errors[0])}")
