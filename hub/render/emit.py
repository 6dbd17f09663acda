"""Printing rendered objects as a YAML stream, byte for byte the way `kubectl kustomize` prints them.

kustomize turns each object into JSON and then into YAML with go-yaml v2 (sigs.k8s.io/yaml's JSONToYAML).
That path decides everything visible in the output, and this module reproduces it:

- map keys sorted in go-yaml v2's "natural" order (digit runs compare as numbers, `a9` before `a10`); where
  that order is not transitive (`v10`, `v1beta1`, `v2alpha1`) kustomize's own output varies from run to run
  (Go's random map order feeds its sort), and we print one of its orders;
- numbers as JSON has them: a float with an integral value prints as an integer (`1.0` -> `1`), other
  floats in Go's shortest `%g` form (`1e-06`, `1.2345675e+06`), integers beyond 64 bits as floats;
- a string that YAML 1.1 would read as something else (`"yes"`, `"0123"`, `"1.5"`, `""`, `"null"`,
  `"2024-01-01"`, `"1:20"`) in double quotes; a string the emitter cannot write plain in single quotes
  (`'*'`, `'a: b'`); a string holding a line break as a literal block (`|`, `|-`, `|+`, `|2`);
- block style, sequences not indented below their key, empty maps and lists as `{}` and `[]`,
  lines folded at 80 columns, non-ASCII text written as is;
- `---` between documents.

The emitter itself is PyYAML's, a port of libyaml like go-yaml's; we only feed it events with the scalar
styles go-yaml v2 would choose.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
import unicodedata
from collections.abc import Iterable

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

from fleetline.yamlsafe import Timestamp

_DUMPER = getattr(yaml, "CDumper", yaml.Dumper)

# -- how go-yaml v2 would read a plain scalar (its resolver), to know which strings need quotes ----------

_YAML11_WORDS = frozenset({
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False",
    "FALSE", "on", "On", "ON", "off", "Off", "OFF", "", "~", "null", "Null", "NULL", ".nan", ".NaN", ".NAN",
    ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
})
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_DOT_FLOAT = re.compile(r"^\.[0-9]+([eE][-+]?[0-9]+)?$")
_BASE60 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_GO_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[0-9]+)$")
_BINARY = re.compile(r"^-?0b[01]+$")
_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:([Tt]|[ ])[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?(?:Z|[-+][0-9]{2}:[0-9]{2})?)?$")
_INT64 = (-(2 ** 63), 2 ** 63 - 1)
_UINT64_MAX = 2 ** 64 - 1


def _is_go_timestamp(text: str) -> bool:
    """Whether go-yaml v2 reads `text` as a timestamp (its formats: date, RFC 3339 with short fields,
    or date and time separated by a space without a zone)."""
    match = _TIMESTAMP.match(text)
    if match is None:
        return False
    sep = match.group(1)
    if sep == " " and (text.endswith("Z") or re.search(r"[-+][0-9]{2}:[0-9]{2}$", text)):
        return False  # the space-separated form takes no zone
    if sep in ("T", "t") and not (text.endswith("Z") or re.search(r"[-+][0-9]{2}:[0-9]{2}$", text)):
        return False  # the T form needs a zone
    return _valid_date_time(text)


def _valid_date_time(text: str) -> bool:
    numbers = [int(part) for part in re.findall(r"[0-9]+", text[:19])]
    try:
        datetime.date(numbers[0], numbers[1], numbers[2])
    except ValueError:
        return False
    if len(numbers) >= 6:
        hour, minute, second = numbers[3], numbers[4], numbers[5]
        if hour > 23 or minute > 59 or second > 59:
            return False
    return True


def _go_parses_as_int(plain: str) -> bool:
    """strconv.ParseInt / ParseUint with base 0 (after go-yaml removed underscores)."""
    if not _GO_INT.match(plain):
        return False
    digits = plain.lstrip("+-")
    if len(digits) > 1 and digits[0] == "0" and digits[1] in "xXoObB":
        value = int(digits[2:], {"x": 16, "o": 8, "b": 2}[digits[1].lower()])
    elif len(digits) > 1 and digits[0] == "0":
        if any(ch in "89" for ch in digits):
            return False
        value = int(digits, 8)
    else:
        value = int(digits)
    if plain.startswith("-"):
        return -value >= _INT64[0]
    return value <= _UINT64_MAX


def resolves_to_non_string(text: str) -> bool:
    """Whether go-yaml v2 would read `text`, written plain, as anything but that string (so it must be
    quoted): YAML 1.1 booleans and nulls, numbers in Go's notations, timestamps, and base-60 numbers."""
    if text in _YAML11_WORDS:
        return True
    first = text[0]
    if first == ".":
        return bool(_DOT_FLOAT.match(text)) and math.isfinite(float(text))
    if not (first.isdigit() and first.isascii()) and first not in "+-":
        return False
    if _BASE60.match(text):
        return True
    if _is_go_timestamp(text):
        return True
    plain = text.replace("_", "")
    if _go_parses_as_int(plain):
        return True
    if _FLOAT.match(plain) and math.isfinite(float(plain)):  # Go's ParseFloat fails when out of range
        return True
    return bool(_BINARY.match(plain))


# -- map key order: go-yaml v2's keyList.Less ------------------------------------------------------------

def _is_letter(ch: str) -> bool:
    return ch.isalpha()


def _is_digit(ch: str) -> bool:
    return unicodedata.category(ch) == "Nd"


def _key_less(a: str, b: str) -> bool:
    """go-yaml v2's natural order of two string keys (the fork in sigs.k8s.io/yaml): at the first
    difference, two letters compare by code point, a letter sorts after a non-letter, and otherwise the
    runs of digits starting there compare as numbers (then the shorter run first)."""
    for i in range(min(len(a), len(b))):
        ca, cb = a[i], b[i]
        if ca == cb:
            continue
        la, lb = _is_letter(ca), _is_letter(cb)
        if la and lb:
            return ca < cb
        if la or lb:
            return lb
        an, ai = _digit_run(a, i)
        bn, bi = _digit_run(b, i)
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ca < cb
    return len(a) < len(b)


def _digit_run(text: str, start: int) -> tuple[int, int]:
    """The value of the digits from `start` (as Go's int64 computes it) and the index after them."""
    value, end = 0, start
    while end < len(text) and _is_digit(text[end]):
        value = _wrap64(value * 10 + ord(text[end]) - ord("0"))
        end += 1
    return value, end


def _wrap64(value: int) -> int:
    """Go's int64 arithmetic wraps around: so does the digit-run value of a very long number."""
    return (value + 2 ** 63) % 2 ** 64 - 2 ** 63


def _key_compare(a: str, b: str) -> int:
    if _key_less(a, b):
        return -1
    if _key_less(b, a):
        return 1
    return 0


_KEY_ORDER = functools.cmp_to_key(_key_compare)


def sorted_keys(mapping: dict) -> list[str]:
    """The keys of a map in the order kustomize prints them."""
    if all(key.isascii() and key.isalpha() for key in mapping):  # letters only: the order is plain (fast path)
        return sorted(mapping)
    return sorted(mapping, key=_KEY_ORDER)


# -- numbers as they come out of JSON and go-yaml v2 -----------------------------------------------------

def json_number(value: float) -> int | float:
    """What a float becomes in kustomize's output: Go's JSON encoder writes an integral value below 1e21 as
    an integer, which go-yaml then reads back as one (when it fits 64 bits); others stay floats."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e21:
        as_int = int(value)
        if _INT64[0] <= as_int <= _UINT64_MAX:
            return as_int
    return value


_GO_TIMESTAMP = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:([Tt ])(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?"
                           r"(Z|[+-]\d{2}:\d{2})?)?$")


def go_timestamp(text: str) -> str | None:
    """The RFC 3339 text kustomize's JSON round trip gives an unquoted YAML timestamp (go-yaml's layouts:
    `2006-1-2`, `2006-1-2T15:4:5.999999999Z07:00` with `T` or `t`, `2006-1-2 15:4:5.999999999`), or None
    when go-yaml would not read `text` as one (the text is kept then): a date becomes midnight UTC, `t`
    becomes `T`, fractions lose trailing zeros, UTC (a zero offset, or none after a space) becomes `Z`."""
    match = _GO_TIMESTAMP.match(text)
    if match is None:
        return None
    year, month, day, separator, hour, minute, second, fraction, zone = match.groups()
    if separator is not None and (separator == " ") == (zone is not None):
        return None  # T/t needs a zone, a space allows none
    try:
        datetime.date(int(year), int(month), int(day))
    except ValueError:
        return None
    if separator is None:
        return f"{year}-{int(month):02d}-{int(day):02d}T00:00:00Z"
    if int(hour) > 23 or int(minute) > 59 or int(second) > 59:
        return None
    fraction = (fraction or "").rstrip("0")
    if zone in (None, "+00:00", "-00:00"):
        zone = "Z"
    return (f"{year}-{int(month):02d}-{int(day):02d}T{int(hour):02d}:{int(minute):02d}:{int(second):02d}"
            f"{'.' + fraction if fraction else ''}{zone}")


def normalize_numbers(value: object) -> object:
    """`value` with every float replaced by `json_number` of it and every YAML timestamp by `go_timestamp` of
    it, in place where it is a map or list (so that rendered objects compare equal to kustomize's parsed
    output: `cpu: 1.0` is `cpu: 1` there, `date: 2024-01-01` is "2024-01-01T00:00:00Z")."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, float | int | dict | list | Timestamp):
                value[key] = normalize_numbers(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, float | int | dict | list | Timestamp):
                value[index] = normalize_numbers(item)
    elif isinstance(value, float):
        return json_number(value)
    elif isinstance(value, Timestamp):
        return go_timestamp(value) or str(value)
    elif isinstance(value, int) and not isinstance(value, bool) and not _INT64[0] <= value <= _UINT64_MAX:
        return json_number(float(value))  # beyond 64 bits kustomize's YAML decoder already made it a float
    return value


def format_float(value: float) -> str:
    """A float the way it reaches kustomize's output: through Go's JSON encoder (integral values below
    1e21 print as integers) and go-yaml v2 (`strconv.FormatFloat(f, 'g', -1, 64)`)."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    number = json_number(value)
    if isinstance(number, int):
        return str(number)
    return _go_format_g(value)


def _go_format_g(value: float) -> str:
    """Go's strconv.FormatFloat(value, 'g', -1, 64): shortest digits, exponent form when the decimal
    exponent is below -4 or at least 6 (Python's repr switches at 16, so it cannot be used as is)."""
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + (int(exponent) if exponent else 0)  # position of the point in whole+fraction
    if whole.strip("0") == "":  # 0.000123: leading zeros of the fraction move the point left
        point -= len(whole + fraction) - len((whole + fraction).lstrip("0"))
    digits = digits.rstrip("0") or "0"
    exp = point - 1
    if exp < -4 or exp >= 6:
        tail = f".{digits[1:]}" if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{tail}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


# -- events ------------------------------------------------------------------------------------------------

def _scalar(value: str, style: str | None = None) -> ScalarEvent:
    return ScalarEvent(None, None, (True, True), value, style=style)


def _string_event(text: str) -> ScalarEvent:
    return _scalar(text, _string_style(text))


@functools.lru_cache(maxsize=4096)
def _string_style(text: str) -> str | None:
    """The style go-yaml v2 asks for: double quotes, a literal block, or None (plain if the emitter can)."""
    if _has_astral(text):
        return '"'
    if "\n" in text:
        return "|"
    if resolves_to_non_string(text):
        return '"'
    return None


def _has_astral(text: str) -> bool:
    """go-yaml counts characters beyond the Basic Multilingual Plane (emoji) as unprintable: such a string
    is double-quoted with `\\U` escapes, where PyYAML would write it plain."""
    return any(ord(ch) > 0xFFFF for ch in text)


def _events(value: object, out: list) -> None:
    if isinstance(value, dict):
        out.append(MappingStartEvent(None, None, True, flow_style=not value))
        for key in sorted_keys(value):
            out.append(_string_event(key))
            _events(value[key], out)
        out.append(MappingEndEvent())
    elif isinstance(value, list):
        out.append(SequenceStartEvent(None, None, True, flow_style=not value))
        for item in value:
            _events(item, out)
        out.append(SequenceEndEvent())
    elif isinstance(value, str):
        out.append(_string_event(value))
    elif value is None:
        out.append(_scalar("null"))
    elif isinstance(value, bool):
        out.append(_scalar("true" if value else "false"))
    elif isinstance(value, int):
        in_range = _INT64[0] <= value <= _UINT64_MAX
        out.append(_scalar(str(value) if in_range else format_float(float(value))))
    elif isinstance(value, float):
        out.append(_scalar(format_float(value)))
    else:
        raise TypeError(f"cannot print a value of type {type(value).__name__} as YAML")


def object_to_yaml(obj: object) -> str:
    """One object as a YAML document, without a `---` line."""
    events: list = [StreamStartEvent(), DocumentStartEvent(explicit=False)]
    _events(obj, events)
    events += [DocumentEndEvent(explicit=False), StreamEndEvent()]
    text = yaml.emit(events, Dumper=_DUMPER, allow_unicode=True, width=80, indent=2, line_break="\n")
    if text.endswith("\n...\n"):  # PyYAML closes a document ending in a `|+` block with `...`; go-yaml not
        text = text[:-4]
    if _has_astral(text):  # only ever inside double quotes (see _string_event): escape them as go-yaml does
        text = "".join(f"\\U{ord(ch):08X}" if ord(ch) > 0xFFFF else ch for ch in text)
    return text


def to_yaml(objects: Iterable[object]) -> str:
    """The YAML stream `kubectl kustomize` prints for these objects (empty string for none)."""
    return "---\n".join(object_to_yaml(obj) for obj in objects)
