"""Canonical form and hash of requests."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.bounds import BoundSpec
from privacy.budget import Rho
from privacy.request import CanonicalFormError, canonical_json, request_hash


def test_known_bytes():
    request = {"measure": "absence_rate", "group_by": ["province"], "budget": Rho.of("0.05"),
               "dry_run": False, "filters": {"sector": "PO", "year": 2024}, "note": None}
    assert canonical_json(request) == (
        b'{"budget":"1/20","dry_run":false,"filters":{"sector":"PO","year":2024},'
        b'"group_by":["province"],"measure":"absence_rate","note":null}'
    )
    assert request_hash(request) == hashlib.sha256(canonical_json(request)).hexdigest()


def test_key_order_and_whitespace_do_not_matter():
    a = {"b": 1, "a": {"y": [1, 2], "x": "é"}}
    b = {"a": {"x": "e\u0301", "y": (1, 2)}, "b": 1}  # combining accent, tuple
    assert canonical_json(a) == canonical_json(b)
    assert canonical_json({"x": "é"}).decode("utf-8") == '{"x":"é"}'


def test_exact_numbers_agree_across_types():
    assert canonical_json(0.1) == canonical_json(Fraction(1, 10)) == canonical_json(Decimal("0.1"))
    assert canonical_json(Rho.of("0.1")) == canonical_json(Fraction(1, 10)) == b'"1/10"'
    assert canonical_json(2.0) == b'"2"' and canonical_json(2) == b"2"


def test_different_requests_hash_differently():
    base = {"measure": "pupils", "group_by": ["province"], "budget": "0.05"}
    variants = [
        {**base, "measure": "chronic"},
        {**base, "group_by": ["province", "sector"]},
        {**base, "group_by": ["sector", "province"]},  # list order is meaningful
        {**base, "budget": "0.06"},
        {**base, "dry_run": True},
        {**base, "budget": 0.05},  # a number is not the same thing as a string
    ]
    hashes = {request_hash(v) for v in variants} | {request_hash(base)}
    assert len(hashes) == len(variants) + 1


def test_sets_and_dataclasses():
    assert canonical_json({3, 1, 2}) == b"[1,2,3]"
    assert canonical_json(frozenset({"b", "a"})) == b'["a","b"]'
    assert canonical_json(BoundSpec(0, 300, 2)) == b'{"lower":0,"max_cells":2,"upper":300}'
    # a cap is part of the spec; without one the form is what it was before caps existed
    assert canonical_json(BoundSpec(0, 300, 2, total_cap=400)) == \
        b'{"lower":0,"max_cells":2,"total_cap":400,"upper":300}'


@pytest.mark.parametrize(
    "bad",
    [float("nan"), float("inf"), {1: "x"}, {"a": object()}, Decimal("NaN"), b"bytes",
     {"e\u0301": 1, "é": 2}],
)
def test_values_without_a_canonical_form_are_refused(bad):
    with pytest.raises(CanonicalFormError):
        canonical_json(bad)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.fractions(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@settings(deadline=None)  # the property is exact; only timing could fail it
@given(json_values)
def test_canonical_json_is_stable_and_compact(value):
    first = canonical_json(value)
    assert canonical_json(value) == first
    assert b"\n" not in first and b": " not in first
    assert len(request_hash(value)) == 64
