"""What the API server normalises compares equal: quantities, int-or-string ports, zero values, no bool/int mix."""

from __future__ import annotations

from fractions import Fraction

import pytest

from agent.diff import diff_object
from agent.diff.normalize import is_zero, parse_quantity, scalars_equal, values_equal
from tests.agent.diff.objects import containers, desired_deployment, in_sync_live


@pytest.mark.parametrize(("left", "right"), [
    ("1000m", "1"), ("1000m", 1), ("1", 1.0), ("0.5", "500m"), (0.5, "500m"), ("1Gi", "1024Mi"),
    ("1Ki", 1024), ("1e3", "1k"), ("1E3", "1000"), ("1.5Gi", "1536Mi"), ("100m", "0.1"), ("1M", "1000k"),
])
def test_equal_quantities(left: object, right: object) -> None:
    assert parse_quantity(left) == parse_quantity(right)
    assert scalars_equal(left, right, "cpu", "limits")


@pytest.mark.parametrize("text", ["1x", "Gi", "", "1..5", "1 Gi", "--1", "1e"])
def test_not_a_quantity(text: str) -> None:
    assert parse_quantity(text) is None


def test_quantity_precision() -> None:
    assert parse_quantity("1E") == 10**18  # exa, not an exponent
    assert parse_quantity("0.0000000001") == Fraction(1, 10**9)  # rounded up to the nano
    assert parse_quantity(True) is None


def test_quantities_are_compared_only_where_the_schema_has_quantities() -> None:
    assert scalars_equal("1000m", "1", "cpu", "requests")
    assert scalars_equal("2Gi", "2048Mi", "storage", "requests")
    assert scalars_equal("1Gi", "1024Mi", "sizeLimit", "emptyDir")
    assert not scalars_equal("1000m", "1", "version", "labels")
    assert not scalars_equal("1Gi", "1024Mi", "value", "env")


def test_int_or_string_fields() -> None:
    assert scalars_equal(8080, "8080", "targetPort")
    assert scalars_equal("25%", "25%", "maxSurge")
    assert scalars_equal("1", 1, "maxUnavailable")
    assert not scalars_equal("http", 8080, "targetPort")
    assert not scalars_equal(3, "3", "replicas")  # an int32 field is not int-or-string


def test_booleans_never_equal_numbers() -> None:
    assert not scalars_equal(True, 1)
    assert not scalars_equal(0, False)
    assert scalars_equal(False, False)
    assert scalars_equal(1, 1.0)


def test_zero_values_read_back_as_absent() -> None:
    assert all(is_zero(v) for v in (False, 0, "", {}, [], None))
    assert not any(is_zero(v) for v in (True, 1, "x", {"a": 1}, [0]))


def test_values_equal_on_declared_keys() -> None:
    assert values_equal({"a": 1}, {"a": 1, "defaulted": "x"})
    assert values_equal({"a": 1, "b": False}, {"a": 1})
    assert not values_equal({"a": 1}, {"a": 2})
    assert not values_equal([1, 2], [2, 1])
    assert values_equal([{"limits": {"cpu": "1"}}], [{"limits": {"cpu": "1000m"}}], "resources")


def test_quantities_in_a_deployment_are_in_sync() -> None:
    desired = desired_deployment()
    live = in_sync_live()
    resources = containers(desired)[0]["resources"]
    assert resources["limits"]["cpu"] == "1000m" and containers(live)[0]["resources"]["limits"]["cpu"] == "1"
    assert diff_object(desired, live).in_sync

    containers(live)[0]["resources"]["limits"]["cpu"] = "2"
    result = diff_object(desired, live)
    assert [(f.path, f.desired, f.live) for f in result.fields] == [
        ('/spec/template/spec/containers[name="server"]/resources/limits/cpu', "1000m", "2")]


def test_int_or_string_target_port_in_a_service() -> None:
    desired = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "ml"},
               "spec": {"ports": [{"port": 80, "targetPort": "8080"}], "selector": {"app": "web"}}}
    live = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "ml"},
            "spec": {"ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}], "selector": {"app": "web"},
                     "type": "ClusterIP", "clusterIP": "10.96.0.12", "sessionAffinity": "None"}}
    assert diff_object(desired, live).in_sync
    live["spec"]["ports"][0]["targetPort"] = 9090
    [field] = diff_object(desired, live).fields
    assert field.path == '/spec/ports[port=80,protocol="TCP"]/targetPort'
    assert (field.desired, field.live, field.pointer) == ("8080", 9090, "/spec/ports/0/targetPort")
