"""Unsigned LEB128 varints, as used by multiformats and CAR framing."""

from __future__ import annotations


_SMALL = [bytes([i]) for i in range(128)]


def encode(value: int) -> bytes:
    if 0 <= value < 128:  # every codec byte and most block lengths: no loop
        return _SMALL[value]
    if value < 0:
        raise ValueError("varint must be non-negative")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Read one varint at ``offset``; return (value, offset after it)."""
    if offset < len(data) and data[offset] < 0x80:  # one byte: codecs, versions, short lengths
        return data[offset], offset + 1
    value = shift = 0
    while True:
        if offset >= len(data):
            raise ValueError("truncated varint")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, offset
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")
