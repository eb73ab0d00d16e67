"""A reader of Thrift's compact protocol, the encoding of Parquet's footer and page headers,
bounded for hostile input.

A struct is read into a list of ``Field`` (id, wire type, value) in the order of the bytes,
so that what was read can be written back unchanged (tests/support/parquet_lies.py does, to build
files whose footer lies). Values: integers for the integer types, ``bool``, ``float``,
``bytes`` for binary, a nested list of ``Field`` for a struct, ``Collection`` for a list or
set and ``Mapping`` for a map. Every length is checked against the bytes left and nesting is
capped, so a damaged or hostile header raises :class:`Malformed` instead of allocating or
recursing without end.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

STOP, TRUE, FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(13)
MAX_DEPTH = 32


class Malformed(ValueError):
    """The bytes are not a well-formed compact-protocol struct."""


@dataclass
class Field:
    id: int
    type: int
    value: Any


@dataclass
class Collection:
    """A list or set: its element type and the elements."""

    type: int
    element_type: int
    items: list


@dataclass
class Mapping:
    key_type: int
    value_type: int
    items: list[tuple[Any, Any]]


def field(fields: list[Field], fid: int, default: Any = None) -> Any:
    """The value of field `fid` of a read struct (the last one if repeated), or `default`."""
    found = default
    for f in fields:
        if f.id == fid:
            found = f.value
    return found


class Reader:
    """Reads from `data[pos:end]`; `pos` is where the next read starts."""

    def __init__(self, data: bytes | memoryview, pos: int = 0, end: int | None = None) -> None:
        self.data = memoryview(data)
        self.pos = pos
        self.end = len(self.data) if end is None else min(end, len(self.data))

    def _byte(self) -> int:
        if self.pos >= self.end:
            raise Malformed("ends inside a value")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        out, shift = 0, 0
        while True:
            b = self._byte()
            out |= (b & 0x7F) << shift
            if not b & 0x80:
                return out
            shift += 7
            if shift > 63:
                raise Malformed("a varint longer than 10 bytes")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def _bytes(self, n: int) -> bytes:
        if n < 0 or n > self.end - self.pos:
            raise Malformed("a length beyond the end")
        out = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return out

    def value(self, ttype: int, depth: int, in_collection: bool = False) -> Any:
        if ttype in (TRUE, FALSE):
            return (self._byte() == TRUE) if in_collection else ttype == TRUE
        if ttype == BYTE:
            return self._byte()
        if ttype in (I16, I32, I64):
            return self.zigzag()
        if ttype == DOUBLE:
            return struct.unpack("<d", self._bytes(8))[0]
        if ttype == BINARY:
            return self._bytes(self.varint())
        if ttype in (LIST, SET):
            head = self._byte()
            size, element = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            if size > self.end - self.pos:  # every element takes at least one byte
                raise Malformed("a list longer than the bytes left")
            return Collection(ttype, element,
                              [self.value(element, depth + 1, True) for _ in range(size)])
        if ttype == MAP:
            size = self.varint()
            if size == 0:
                return Mapping(0, 0, [])
            if 2 * size > self.end - self.pos:
                raise Malformed("a map longer than the bytes left")
            kinds = self._byte()
            k, v = kinds >> 4, kinds & 0x0F
            return Mapping(k, v, [(self.value(k, depth + 1, True), self.value(v, depth + 1, True))
                                  for _ in range(size)])
        if ttype == STRUCT:
            return self.struct(depth + 1)
        raise Malformed(f"unknown wire type {ttype}")

    def struct(self, depth: int = 0) -> list[Field]:
        if depth > MAX_DEPTH:
            raise Malformed("nested too deeply")
        fields: list[Field] = []
        last = 0
        while True:
            head = self._byte()
            ttype = head & 0x0F
            if ttype == STOP:
                return fields
            delta = head >> 4
            fid = last + delta if delta else self.zigzag()
            fields.append(Field(fid, ttype, self.value(ttype, depth)))
            last = fid
