"""Kubernetes quantities: every suffix family, exponents, signs, rounding, canonical spelling, refusals."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kubesim.quantity import (
    format_bytes,
    format_cpu_millis,
    format_quantity,
    int_value,
    milli_value,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", Fraction(0)),
        ("1", Fraction(1)),
        ("250m", Fraction(1, 4)),
        ("1500m", Fraction(3, 2)),
        ("100n", Fraction(1, 10**7)),
        ("5u", Fraction(5, 10**6)),
        ("2k", Fraction(2000)),
        ("3M", Fraction(3 * 10**6)),
        ("4G", Fraction(4 * 10**9)),
        ("5T", Fraction(5 * 10**12)),
        ("6P", Fraction(6 * 10**15)),
        ("7E", Fraction(7 * 10**18)),
        ("1Ki", Fraction(1024)),
        ("128Mi", Fraction(128 * 2**20)),
        ("1.5Gi", Fraction(3 * 2**29)),
        ("2Ti", Fraction(2 * 2**40)),
        ("1Pi", Fraction(2**50)),
        ("1Ei", Fraction(2**60)),
        ("0.5Ki", Fraction(512)),
        ("1e3", Fraction(1000)),
        ("1E3", Fraction(1000)),
        ("1.5e3", Fraction(1500)),
        ("1e+3", Fraction(1000)),
        ("25e-2", Fraction(1, 4)),
        ("-1", Fraction(-1)),
        ("+2", Fraction(2)),
        ("-500m", Fraction(-1, 2)),
        (".5", Fraction(1, 2)),
        ("5.", Fraction(5)),
        ("1.G", Fraction(10**9)),
        ("007", Fraction(7)),
    ],
)
def test_parses_every_suffix_family(text: str, expected: Fraction) -> None:
    assert parse_quantity(text) == expected


def test_capital_e_alone_is_exa_but_followed_by_digits_is_an_exponent() -> None:
    assert parse_quantity("2E") == 2 * 10**18
    assert parse_quantity("2E2") == 200


@pytest.mark.parametrize(("value", "expected"), [
    (2, Fraction(2)), (0.5, Fraction(1, 2)), (0.1, Fraction(1, 10)), (1e-07, Fraction(1, 10**7)),
    (1e20, Fraction(10**20)),
])
def test_yaml_numbers_parse_as_their_decimal_spelling(value: int | float, expected: Fraction) -> None:
    assert parse_quantity(value) == expected


def test_amounts_finer_than_a_nano_round_up_away_from_zero() -> None:
    assert parse_quantity("0.1n") == Fraction(1, 10**9)
    assert parse_quantity("1.0000000001") == 1 + Fraction(1, 10**9)
    assert parse_quantity("-0.1n") == Fraction(-1, 10**9)
    assert parse_quantity("0.000n") == 0


def test_binary_amounts_are_capped_like_kube_apiserver() -> None:
    assert parse_quantity("100Ei") == 2**63 - 1
    assert parse_quantity("100E") == 100 * 10**18  # decimal amounts are not capped


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "expected a number"),
        ("-", "expected a number"),
        (".", "expected a number"),
        ("abc", "expected a number"),
        ("m", "expected a number"),
        (" 1", "expected a number"),
        ("1 ", "unknown suffix ' '"),
        ("1KB", "unknown suffix 'KB'"),
        ("1ki", "unknown suffix 'ki'"),
        ("1K", "unknown suffix 'K'"),
        ("1e", "unknown suffix 'e'"),
        ("1e1.5", "unknown suffix 'e1.5'"),
        ("1Gi1", "unknown suffix 'Gi1'"),
        ("1..2", "unknown suffix '.2'"),
        ("--1", "expected a number"),
        ("1e99999", "out of range"),
        (True, "got bool"),
        (None, "got NoneType"),
        ([1], "got list"),
        (float("inf"), "not a finite number"),
        (float("nan"), "not a finite number"),
    ],
)
def test_refuses_garbage_with_a_message_naming_it(value: object, fragment: str) -> None:
    with pytest.raises(ValueError, match="invalid quantity") as caught:
        parse_quantity(value)  # type: ignore[arg-type]
    assert fragment in str(caught.value)
    assert repr(value) in str(caught.value)


def test_milli_and_int_values_round_up_away_from_zero() -> None:
    assert milli_value("1.5") == 1500
    assert milli_value("250m") == 250
    assert milli_value("100u") == 1  # 0.1m rounds up, as Quantity.MilliValue() does
    assert milli_value(2) == 2000
    assert int_value("1.5Gi") == 1610612736
    assert int_value("500m") == 1
    assert int_value("-500m") == -1
    assert int_value(Fraction(7, 2)) == 4
    with pytest.raises(ValueError):
        milli_value("lots")


@pytest.mark.parametrize(
    ("amount", "binary", "expected"),
    [
        (Fraction(3, 2), False, "1500m"),
        (Fraction(2), False, "2"),
        (Fraction(1500), False, "1500"),
        (Fraction(1000), False, "1k"),
        (Fraction(5 * 10**6), False, "5M"),
        (Fraction(1, 10), False, "100m"),
        (Fraction(1, 10**7), False, "100n"),
        (Fraction(0), False, "0"),
        (Fraction(-3, 2), False, "-1500m"),
        (Fraction(3 * 2**29), True, "1536Mi"),
        (Fraction(2**30), True, "1Gi"),
        (Fraction(1536), True, "1536"),
        (Fraction(512), True, "512"),
        (Fraction(1, 2), True, "500m"),
    ],
)
def test_format_quantity_spells_canonically(amount: Fraction, binary: bool, expected: str) -> None:
    assert format_quantity(amount, binary=binary) == expected


@pytest.mark.parametrize("text", ["250m", "1500m", "2", "1k", "12345n", "7E", "-3"])
def test_format_round_trips_through_parse(text: str) -> None:
    assert format_quantity(parse_quantity(text)) == text


def test_cpu_and_byte_formatters() -> None:
    assert format_cpu_millis(1500) == "1500m"
    assert format_cpu_millis(2000) == "2"
    assert format_cpu_millis(0) == "0"
    assert format_bytes(2**30) == "1Gi"
    assert format_bytes(16 * 2**30 + 2**20) == "16385Mi"
