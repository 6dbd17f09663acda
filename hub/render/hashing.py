"""kustomize's content-hash name suffix for generated ConfigMaps and Secrets.

Owns `content_hash` (the 10-character suffix kustomize v5.5 computes) and `add_hash_suffixes` (the last
renaming step of a build, run once at the top-level kustomization, before name references are fixed).

What kustomize hashes (api/hasher): the JSON encoding, keys sorted, of
- a ConfigMap: `{"kind": "ConfigMap", "name": ..., "data": ...}` plus `binaryData` when it is a mapping;
- a Secret: `{"kind": "Secret", "type": ..., "name": ..., "data": ...}` plus `stringData` when it is a mapping;
a field that is absent counts as the empty string. kustomize looks the name up with the single path element
`metadata/name`, which never exists, so the name is always hashed as "": the suffix depends on the content
only (and renaming the generator does not change it). Labels and annotations do not take part. The
SHA-256 of that JSON, first 10 hex digits, with 0 1 3 a e replaced by g h k m t, is the suffix.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from hub.render.resource import Resource

_SUBSTITUTE = str.maketrans("013ae", "ghkmt")
# Go's encoding/json escapes these where Python's json module does not.
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def content_hash(obj: dict) -> str:
    """The 10-character suffix kustomize appends to the name of a generated `obj`."""
    kind = obj.get("kind")
    if kind == "ConfigMap":
        encoded: dict[str, Any] = {"kind": "ConfigMap", "name": "", "data": _field(obj, "data")}
        if isinstance(obj.get("binaryData"), dict):
            encoded["binaryData"] = obj["binaryData"]
    elif kind == "Secret":
        encoded = {"kind": "Secret", "type": _field(obj, "type"), "name": "", "data": _field(obj, "data")}
        if isinstance(obj.get("stringData"), dict):
            encoded["stringData"] = obj["stringData"]
    else:
        # kustomize hashes its internal YAML node structure here; only generators ask for a hash, and they
        # make ConfigMaps and Secrets, so this is reached only if a patch changed a generated object's kind.
        encoded = obj
    digest = hashlib.sha256(go_json(encoded).encode("utf-8")).hexdigest()
    return digest[:10].translate(_SUBSTITUTE)


def add_hash_suffixes(resources: list[Resource]) -> None:
    """Append `-<content hash>` to the name of every resource that needs it (generated, hash not disabled).

    The previous id is recorded (for name references) and `needs_hash` is cleared."""
    for res in resources:
        if res.needs_hash:
            res.rename(name=f"{res.name}-{content_hash(res.obj)}")
            res.needs_hash = False


def _field(obj: dict, key: str) -> Any:
    """A top-level field as kustomize reads it for hashing: scalars as their text, absent or null as ""."""
    value = obj.get(key)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return value
    return scalar_text(value)


def scalar_text(value: Any) -> str:
    """The YAML text of a scalar value (what kustomize sees as the node's value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    return str(value)


def go_json(value: Any) -> str:
    """`json.Marshal` as Go writes it: keys sorted, no spaces, `<>&` and U+2028/9 escaped, Go float format."""
    if isinstance(value, dict):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{_go_string(k)}:{go_json(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        # kustomize round-trips the data through map[string]interface{}: numbers become float64
        return _go_float(float(value)) if abs(value) > 2**53 else str(value)
    if isinstance(value, float):
        return _go_float(value)
    return _go_string(str(value))


def _go_string(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    if any(ch in text for ch in _GO_ESCAPES):
        encoded = "".join(_GO_ESCAPES.get(ch, ch) for ch in encoded)
    return encoded


def _go_float(value: float) -> str:
    """Go's encoding/json float64 format: shortest repr, `%f` style unless the exponent is < -6 or >= 21."""
    if math.isnan(value) or math.isinf(value):
        return "null"  # Go refuses to encode these; kustomize would fail, we degrade
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        exp = int(exponent)
        if -7 < exp < 21:
            return format(value, "f").rstrip("0").rstrip(".")
        return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp)}"
    return text
