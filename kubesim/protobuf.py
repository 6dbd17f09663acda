"""The one protobuf request body kubesim decodes: `DeleteOptions`, which kubectl's typed clients send on DELETE
(`kubectl drain` deletes Pods this way). Other protobuf bodies are refused with 415.

Kubernetes' protobuf envelope is the magic `k8s\\0` then a `runtime.Unknown` message whose field 2 (`raw`)
holds the object's own encoding. Only the wire types DeleteOptions uses are read: varints and
length-delimited fields.
"""

from __future__ import annotations

MAGIC = b"k8s\x00"
PROTOBUF = "application/vnd.kubernetes.protobuf"


class ProtobufError(ValueError):
    """The body is not a well-formed Kubernetes protobuf message."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs: ints for varints, bytes for length-delimited fields."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError("truncated field")
            out.append((number, data[pos:pos + length]))
            pos += length
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
    return out


def _text(value: int | bytes) -> str:
    if not isinstance(value, bytes):
        raise ProtobufError("expected a string field")
    return value.decode("utf-8", errors="replace")


def decode_delete_options(body: bytes) -> dict:
    """A protobuf DeleteOptions body as the JSON-shaped dict the JSON path produces."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf magic prefix")
    raw = b""
    for number, value in _fields(body[len(MAGIC):]):
        if number == 2 and isinstance(value, bytes):
            raw = value
    options: dict = {}
    for number, value in _fields(raw):
        if number == 1 and isinstance(value, int):
            options["gracePeriodSeconds"] = value
        elif number == 2:
            pre = {}
            for sub, sub_value in _fields(value if isinstance(value, bytes) else b""):
                pre["uid" if sub == 1 else "resourceVersion"] = _text(sub_value)
            options["preconditions"] = pre
        elif number == 3 and isinstance(value, int):
            options["orphanDependents"] = bool(value)
        elif number == 4:
            options["propagationPolicy"] = _text(value)
        elif number == 5:
            options.setdefault("dryRun", []).append(_text(value))
    return options
