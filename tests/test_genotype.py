"""Genotype validation, JSON round trip, the DARTS text form and the reference cells."""

from __future__ import annotations

import json

import pytest

from isdarts.errors import IsdartsError
from isdarts.spaces.darts.names import (
    REFERENCE_GENOTYPES,
    Genotype,
    genotype_from_dict,
    load_genotype,
)


@pytest.mark.parametrize("name", sorted(REFERENCE_GENOTYPES))
def test_reference_round_trip(name: str, tmp_path) -> None:
    g = REFERENCE_GENOTYPES[name]
    path = tmp_path / "g.json"
    path.write_text(g.to_json())
    assert load_genotype(path) == g
    text = tmp_path / "g.txt"
    text.write_text(str(g))
    assert load_genotype(text) == g
    assert load_genotype(name) is g


def test_reference_cells_match_spec() -> None:
    v2 = REFERENCE_GENOTYPES["darts_v2"]
    assert v2.normal[4:6] == (("sep_conv_3x3", 1), ("skip_connect", 0))
    assert v2.reduce[2:4] == (("skip_connect", 2), ("max_pool_3x3", 1))
    pub = REFERENCE_GENOTYPES["isdarts_published"]
    assert pub.normal[2] == ("dil_conv_5x5", 0)
    assert pub.reduce[2:4] == (("dil_conv_5x5", 2), ("sep_conv_5x5", 2))
    assert pub.normal_concat == pub.reduce_concat == (2, 3, 4, 5)


def test_darts_repository_text_with_range(tmp_path) -> None:
    g = REFERENCE_GENOTYPES["darts_v2"]
    text = str(g).replace("[2, 3, 4, 5]", "range(2, 6)")
    path = tmp_path / "g.txt"
    path.write_text(text)
    assert load_genotype(path) == g


def test_search_result_json_is_accepted(tmp_path) -> None:
    g = REFERENCE_GENOTYPES["isdarts_published"]
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"method": "isdarts", "genotype": g.to_dict()}))
    assert load_genotype(path) == g


def _bad(**change) -> dict:
    d = REFERENCE_GENOTYPES["darts_v2"].to_dict()
    d.update(change)
    return d


@pytest.mark.parametrize(
    "obj, needle",
    [
        (_bad(normal=[["conv_7x7", 0]] + _bad()["normal"][1:]), "unknown op 'conv_7x7'"),
        (_bad(reduce=[["none", 0]] + _bad()["reduce"][1:]), "op 'none'"),
        (
            _bad(normal=_bad()["normal"][:2] + [["sep_conv_3x3", 3]] + _bad()["normal"][3:]),
            "bad input index 3 in normal[2]",
        ),
        (_bad(normal=[["sep_conv_3x3", -1]] + _bad()["normal"][1:]), "bad input index -1"),
        (_bad(normal=_bad()["normal"][:3]), "two per intermediate node"),
        (_bad(normal_concat=[2, 3, 9]), "normal_concat"),
        (_bad(extra=1), "unknown key 'extra'"),
        ([1, 2], "expected an object"),
    ],
)
def test_validation_names_the_problem(obj, needle: str) -> None:
    with pytest.raises(IsdartsError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        genotype_from_dict(obj, "g.json")


def test_unknown_name_or_missing_file() -> None:
    with pytest.raises(IsdartsError, match="neither a file nor a reference name"):
        load_genotype("darts_v3")


def test_bad_json_file(tmp_path) -> None:
    path = tmp_path / "g.json"
    path.write_text("{nope")
    with pytest.raises(IsdartsError, match="not valid JSON"):
        load_genotype(path)


def test_str_is_darts_notation() -> None:
    g = REFERENCE_GENOTYPES["darts_v2"]
    assert str(g).startswith("Genotype(normal=[('sep_conv_3x3', 0), ")
    assert isinstance(g, Genotype) and g.steps == 4
