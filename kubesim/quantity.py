"""Kubernetes resource quantities (`500m`, `1.5Gi`, `1e3`), parsed exactly into `Fraction`s.

Follows apimachinery's `resource.ParseQuantity`: a signed decimal number (`1`, `1.5`, `.5`, `5.`)
followed by a decimal SI suffix (`n u m "" k M G T P E`), a binary suffix (`Ki Mi Gi Ti Pi Ei`) or a
decimal exponent (`e3`, `E-2`). Like kube-apiserver, a non-zero amount finer than one nano is rounded up
(away from zero) to the nano, and a binary-suffixed amount is capped at 2^63-1.

The integer views the scheduler uses (`milli_value`, `int_value`) round up away from zero, like
`Quantity.MilliValue()` and `Quantity.Value()`. This module is pure: no I/O, no kubesim state.
"""

from __future__ import annotations

import functools
import math
import re
from fractions import Fraction

DECIMAL_SUFFIXES: dict[str, int] = {
    "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}
BINARY_SUFFIXES: dict[str, int] = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}

_NANO = Fraction(1, 10**9)
_MAX_BINARY = Fraction(2**63 - 1)
# A bound on `e<exponent>` so that hostile input cannot make us build astronomically large integers.
_MAX_EXPONENT = 1000

_NUMBER = re.compile(r"(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?P<suffix>.*)", re.DOTALL)
_EXPONENT = re.compile(r"[eE](?P<exp>[+-]?[0-9]+)")

_EXPECTED = "expected a number with an optional suffix, like 500m, 2, 1.5Gi, 10M or 1e3"


def parse_quantity(value: str | int | float) -> Fraction:
    """The exact value of a Kubernetes quantity, as written in a manifest (string) or by YAML (number).

    Raises `ValueError` naming the offending input on anything kube-apiserver would refuse
    (plus a bare sign, which it quietly reads as zero).
    """
    text = _as_text(value)
    # The scheduler parses the same few quantities for every pod it places; short texts are memoized.
    return _parse_short(text) if len(text) <= 64 else _parse(text)


def _parse(text: str) -> Fraction:
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid quantity {text!r}: {_EXPECTED}")
    sign, number, suffix = match.group("sign", "number", "suffix")
    amount = Fraction(number)
    binary = False
    if suffix in DECIMAL_SUFFIXES:
        amount *= Fraction(10) ** DECIMAL_SUFFIXES[suffix]
    elif suffix in BINARY_SUFFIXES:
        amount *= 2 ** BINARY_SUFFIXES[suffix]
        binary = True
    else:
        exponent = _EXPONENT.fullmatch(suffix)
        if exponent is None:
            raise ValueError(
                f"invalid quantity {text!r}: unknown suffix {suffix!r} (decimal: n, u, m, k, M, G, T, P, E; "
                f"binary: Ki, Mi, Gi, Ti, Pi, Ei; or an exponent such as e3)"
            )
        power = int(exponent.group("exp"))
        if abs(power) > _MAX_EXPONENT:
            raise ValueError(f"invalid quantity {text!r}: exponent {power} is out of range")
        amount *= Fraction(10) ** power
    if amount % _NANO:
        amount = math.ceil(amount / _NANO) * _NANO  # round up to the nano, as kube-apiserver does
    if binary and amount > _MAX_BINARY:
        amount = _MAX_BINARY
    return -amount if sign == "-" else amount


_parse_short = functools.lru_cache(maxsize=4096)(_parse)


def _as_text(value: object) -> str:
    # bool is an int subclass, but `cpu: true` is a mistake, not the quantity 1.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        kind = type(value).__name__
        raise ValueError(f"invalid quantity {value!r}: expected a string or a number, got {kind}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"invalid quantity {value!r}: not a finite number")
        return repr(value)  # the shortest decimal that round-trips, e.g. 0.1 -> "0.1", 1e-07 -> "1e-07"
    return str(value)


def milli_value(quantity: str | int | float | Fraction) -> int:
    """The quantity in thousandths, rounded up away from zero (`Quantity.MilliValue()`): `"1.5"` -> 1500."""
    return _round_up(_exact(quantity) * 1000)


def int_value(quantity: str | int | float | Fraction) -> int:
    """The quantity as an integer, rounded up away from zero (`Quantity.Value()`): `"1.5Gi"` -> 1610612736."""
    return _round_up(_exact(quantity))


def _exact(quantity: str | int | float | Fraction) -> Fraction:
    return quantity if isinstance(quantity, Fraction) else parse_quantity(quantity)


def _round_up(amount: Fraction) -> int:
    return math.ceil(amount) if amount >= 0 else -math.ceil(-amount)


def format_quantity(amount: Fraction | int, *, binary: bool = False) -> str:
    """The canonical Kubernetes spelling of `amount`: `1500m`, `2`, `10k`, or with `binary=True` `1536Mi`.

    Decimal form uses the largest SI suffix (a power of 1000) that keeps the mantissa whole; binary form
    uses the largest power of 1024 that divides a whole amount of at least 1024, and falls back to the
    decimal form otherwise, as `Quantity.String()` does. Amounts finer than a nano are rounded up.
    """
    amount = Fraction(amount)
    sign = "-" if amount < 0 else ""
    magnitude = math.ceil(abs(amount) / _NANO) * _NANO
    if magnitude == 0:
        return "0"
    if binary and magnitude.denominator == 1 and magnitude >= 1024:
        whole = magnitude.numerator
        for suffix, bits in reversed(BINARY_SUFFIXES.items()):
            if whole % (1 << bits) == 0:
                return f"{sign}{whole >> bits}{suffix}"
        return f"{sign}{whole}"
    for suffix, power in sorted(DECIMAL_SUFFIXES.items(), key=lambda item: -item[1]):
        scaled = magnitude / Fraction(10) ** power
        if scaled.denominator == 1:
            return f"{sign}{scaled.numerator}{suffix}"
    raise AssertionError("unreachable: every amount rounded to the nano is whole in nanos")


def format_cpu_millis(millis: int) -> str:
    """A CPU amount in millicores as kubectl shows it: 1500 -> `1500m`, 2000 -> `2`, 250 -> `250m`."""
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def format_bytes(amount: int) -> str:
    """A byte count in its canonical binary spelling: 1073741824 -> `1Gi`, 1536 -> `1536`, 512 -> `512`."""
    return format_quantity(amount, binary=True)
