"""Canonical form and hash of a request: how a repeated query finds its stored release.

Two requests that mean the same thing must serialise to the same bytes, and two that differ
must not. The canonical form is JSON with:

* object keys sorted (by code point), no insignificant whitespace, UTF-8, strings in Unicode
  NFC (so "é" typed precomposed or combining hashes the same);
* integers and booleans as JSON numbers / literals; ``None`` as ``null``;
* floats, :class:`~fractions.Fraction`, :class:`~decimal.Decimal` and :class:`~privacy.budget.Rho`
  as **strings** of their exact value (``0.1`` → ``"1/10"``; ``Rho.of("0.05")`` → ``"1/20"``), so
  ``0.1``, ``"0.1"``-parsed budgets and ``Fraction(1, 10)`` agree and no float formatting
  reaches the hash. NaN and infinities are rejected;
* tuples as lists; sets and frozensets as lists sorted by their members' canonical bytes;
  frozen dataclasses (e.g. :class:`~privacy.bounds.BoundSpec`) as objects of their fields; a
  field added later with ``metadata={OMIT_IF_DEFAULT: True}`` is left out while it holds its
  default, so the requests made before it existed keep their hashes (``BoundSpec.total_cap``).

It is used for hashing and signing; it is not meant to be parsed back into the same types.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import unicodedata
from decimal import Decimal
from fractions import Fraction
from typing import Any

from privacy.budget import Rho

#: Field metadata key: leave the field out of the canonical form while it holds its default.
OMIT_IF_DEFAULT = "canonical_omit_if_default"


class CanonicalFormError(TypeError):
    """A value with no canonical form (NaN, a non-string key, an unknown type)."""

    def __init__(self, value: object, reason: str) -> None:
        self.value_type = type(value).__name__
        self.reason = reason
        super().__init__(f"no canonical form for a {self.value_type}: {reason}")


def _exact_text(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def _normalise(obj: Any) -> Any:
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, str):
        return unicodedata.normalize("NFC", obj)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise CanonicalFormError(obj, "NaN and infinities have no canonical form")
        return _exact_text(Fraction(str(obj)))
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            raise CanonicalFormError(obj, "NaN and infinities have no canonical form")
        return _exact_text(Fraction(obj))
    if isinstance(obj, Fraction):
        return _exact_text(obj)
    if isinstance(obj, Rho):
        return _exact_text(obj.value)
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise CanonicalFormError(key, "object keys must be strings")
            nkey = unicodedata.normalize("NFC", key)
            if nkey in out:
                raise CanonicalFormError(key, "two keys are equal after NFC normalisation")
            out[nkey] = _normalise(value)
        return out
    if isinstance(obj, (list, tuple)):
        return [_normalise(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        items = [_normalise(v) for v in obj]
        return sorted(items, key=_dump)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _normalise(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if not (f.metadata.get(OMIT_IF_DEFAULT) and getattr(obj, f.name) == f.default)}
    raise CanonicalFormError(obj, "unsupported type")


def _dump(normalised: Any) -> bytes:
    return json.dumps(
        normalised, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def canonical_json(obj: Any) -> bytes:
    """The canonical UTF-8 JSON bytes of ``obj`` (see the module docstring).

    >>> canonical_json({"b": 0.1, "a": [1, True, None]})
    b'{"a":[1,true,null],"b":"1/10"}'
    """
    return _dump(_normalise(obj))


def request_hash(obj: Any) -> str:
    """SHA-256 hex digest of :func:`canonical_json` of ``obj``."""
    return hashlib.sha256(canonical_json(obj)).hexdigest()
