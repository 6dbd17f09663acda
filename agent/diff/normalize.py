"""What the API server normalises, so that a manifest and the object the server stored compare equal.

Owns scalar equality for the diff: resource quantities (`1000m` == `1` == 1, `1Gi` == `1024Mi`), int-or-string
fields (`targetPort: 8080` == `"8080"`), zero values against absent fields (Go's `omitempty` drops `false`, `0`,
`""`, `{}` and `[]`, so `hostNetwork: false` never comes back), booleans never equal to numbers; the
server-populated metadata and annotations that are never compared; and Secrets (`stringData` folded into
`data`, base64 values compared by their bytes). Pure functions on JSON values; no I/O.

Quantities are parsed here rather than imported from `kubesim` (the agent never imports it); the rules are
apimachinery's `ParseQuantity`: a decimal number, then a decimal SI suffix, a binary suffix or an exponent.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from fractions import Fraction
from typing import Any

# metadata fields the API server writes; never compared, never reported
SERVER_METADATA = frozenset({
    "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp",
    "deletionGracePeriodSeconds",
})
# identity, not content: the caller matched desired and live by them
IDENTITY_METADATA = frozenset({"name", "namespace"})
# annotations written by tools rather than declared (kubectl's copy of the last applied manifest)
SERVER_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})

# maps whose values are resource quantities: container/PVC requests and limits, ResourceQuota `hard`, node
# capacity, RuntimeClass overhead, LimitRange min/max/default/defaultRequest/maxLimitRequestRatio
QUANTITY_MAPS = frozenset({
    "limits", "requests", "hard", "capacity", "allocatable", "podFixed", "min", "max", "default",
    "defaultRequest", "maxLimitRequestRatio",
})
# single fields that hold a quantity
QUANTITY_FIELDS = frozenset({"sizeLimit", "storage"})
# fields whose schema is int-or-string (IntOrString in k8s.io/api)
INT_OR_STRING_FIELDS = frozenset({"targetPort", "port", "maxSurge", "maxUnavailable", "minAvailable"})

_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_QUANTITY = re.compile(r"([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)"  # sign, number
                       r"(?:([eE][+-]?[0-9]{1,4})|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?))")  # exponent or suffix
_NANO = Fraction(1, 10**9)


def parse_quantity(value: object) -> Fraction | None:
    """The exact amount of a quantity (`"500m"`, `"1.5Gi"`, `2`, `0.5`, `"1e3"`), rounded up to the nano as
    kube-apiserver does; None when `value` is not a quantity."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = repr(value) if isinstance(value, float) else str(value)
    match = _QUANTITY.fullmatch(text.strip())
    if match is None:
        return None
    sign, number, exponent, suffix = match.groups()
    amount = Fraction(number)
    if exponent:
        amount *= Fraction(10) ** int(exponent[1:])
    elif suffix in _BINARY:
        amount *= 2 ** _BINARY[suffix]
    else:
        amount *= Fraction(10) ** _DECIMAL[suffix or ""]
    if amount % _NANO:
        amount = math.ceil(amount / _NANO) * _NANO
    return -amount if sign == "-" else amount


def is_zero(value: Any) -> bool:
    """A value Go's `omitempty` drops when the server serialises the object: it reads back as absent."""
    if isinstance(value, bool):
        return value is False
    return value is None or value == "" or value == 0 or value == {} or value == []


def scalars_equal(desired: Any, live: Any, field: str = "", parent: str = "") -> bool:
    """Two leaf values as the API server would store them; `field` is the leaf's key, `parent` its map's key."""
    if isinstance(desired, bool) or isinstance(live, bool):
        return type(desired) is type(live) and desired == live
    if desired == live and type(desired) is type(live):
        return True
    if isinstance(desired, int | float) and isinstance(live, int | float):
        return desired == live
    if parent in QUANTITY_MAPS or field in QUANTITY_FIELDS:
        left, right = parse_quantity(desired), parse_quantity(live)
        if left is not None and left == right:
            return True
    if field in INT_OR_STRING_FIELDS:
        return _int_or_string(desired) == _int_or_string(live)
    return False


def _int_or_string(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def values_equal(desired: Any, live: Any, field: str = "", parent: str = "") -> bool:
    """Whole values (an atomic list, map or struct) compared on what `desired` declares: a desired map's keys
    must match (absent equals a zero value), keys only the live side has are defaults and are not compared;
    lists compare item by item in order and must have the same length. A desired null declares nothing."""
    if desired is None:
        return True
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return live is None and all(is_zero(v) for v in desired.values())
        return all(
            values_equal(value, live.get(key), key, field) if key in live else is_zero(value)
            for key, value in desired.items()
        )
    if isinstance(desired, list):
        if not isinstance(live, list):
            return live is None and desired == []
        return len(desired) == len(live) and all(
            values_equal(d, v, field, parent) for d, v in zip(desired, live, strict=True))
    if live is None:
        return is_zero(desired)
    return scalars_equal(desired, live, field, parent)


# -- Secrets -------------------------------------------------------------------------------------------


def is_secret(obj: dict) -> bool:
    return obj.get("kind") == "Secret" and "/" not in str(obj.get("apiVersion", "v1"))


def normalise_secret(obj: dict) -> dict:
    """A Secret as the server stores it: `stringData` base64-encoded into `data` (it wins on a shared key),
    every value re-encoded canonically so two spellings of the same bytes compare equal. A shallow copy."""
    out = dict(obj)
    data = {key: canonical_base64(value) for key, value in (obj.get("data") or {}).items()}
    for key, value in (obj.get("stringData") or {}).items():
        text = "" if value is None else str(value)
        data[key] = base64.b64encode(text.encode()).decode()
    out.pop("stringData", None)
    if data or "data" in obj:
        out["data"] = data
    return out


def canonical_base64(value: Any) -> Any:
    """Base64 re-encoded in its canonical padded form; a value that is not base64 is left as it is."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    raw = decode_base64(value)
    return value if raw is None else base64.b64encode(raw).decode()


def decode_base64(value: str) -> bytes | None:
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
