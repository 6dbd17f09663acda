"""The documented jq subset: every supported form selects the paths jq's path() would; the rest is refused."""

from __future__ import annotations

import pytest

from agent.diff.jq import JqError, parse

DOC = {
    "metadata": {"annotations": {"example.com/owner": "ml", "plain": "x"}},
    "spec": {
        "replicas": 3,
        "template": {"spec": {"containers": [
            {"name": "server", "image": "a:1", "ports": [{"containerPort": 8080}]},
            {"name": "istio-proxy", "image": "proxy:1", "ready": True},
            {"name": "exporter", "image": "e:1", "ready": 1},
        ]}},
    },
    "webhooks": [{"name": "a", "clientConfig": {"caBundle": "Q0E="}}, {"name": "b", "clientConfig": {}}],
}


@pytest.mark.parametrize(("expression", "expected"), [
    (".", [()]),
    (".spec.replicas", [("spec", "replicas")]),
    (".spec.missing.deeper", [("spec", "missing", "deeper")]),  # like jq: a path, whether or not it exists
    ('.metadata.annotations."example.com/owner"', [("metadata", "annotations", "example.com/owner")]),
    ('.metadata.annotations["example.com/owner"]', [("metadata", "annotations", "example.com/owner")]),
    ('."spec".replicas', [("spec", "replicas")]),
    (".webhooks[].clientConfig.caBundle", [("webhooks", 0, "clientConfig", "caBundle"),
                                          ("webhooks", 1, "clientConfig", "caBundle")]),
    (".webhooks[]?.clientConfig.caBundle", [("webhooks", 0, "clientConfig", "caBundle"),
                                           ("webhooks", 1, "clientConfig", "caBundle")]),
    (".absent[]?.x", []),
    (".spec.replicas[]", []),  # iterating a number selects nothing (jq would stop with an error)
    (".metadata.annotations[]", [("metadata", "annotations", "example.com/owner"),
                                 ("metadata", "annotations", "plain")]),
    (".spec.template.spec.containers[1].image", [("spec", "template", "spec", "containers", 1, "image")]),
    (".spec.template.spec.containers[-1].name", [("spec", "template", "spec", "containers", 2, "name")]),
    ('.spec.template.spec.containers[] | select(.name == "istio-proxy")',
     [("spec", "template", "spec", "containers", 1)]),
    ('.spec.template.spec.containers[]|select(.name=="server")|.image',
     [("spec", "template", "spec", "containers", 0, "image")]),
    ('.spec.template.spec.containers[] | select(.name != "server") | .image',
     [("spec", "template", "spec", "containers", 1, "image"), ("spec", "template", "spec", "containers", 2, "image")]),
    (".spec.template.spec.containers[] | select(.ready == true) | .name",
     [("spec", "template", "spec", "containers", 1, "name")]),  # true is not 1
    (".spec.template.spec.containers[] | select(.ready == 1)", [("spec", "template", "spec", "containers", 2)]),
    (".spec.template.spec.containers[] | select(.ready == null) | .name",
     [("spec", "template", "spec", "containers", 0, "name")]),
    (".spec.template.spec.containers[] | select(.ports[].containerPort == 8080) | .ports",
     [("spec", "template", "spec", "containers", 0, "ports")]),
    ('.spec.template.spec.containers[].name | select(. == "exporter")',
     [("spec", "template", "spec", "containers", 2, "name")]),
])
def test_supported_forms(expression: str, expected: list[tuple]) -> None:
    assert parse(expression).paths(DOC) == expected


@pytest.mark.parametrize(("expression", "problem"), [
    ("", "expected a path"),
    ("spec.replicas", "expected a path"),
    (".spec | length", "expected a path"),
    ("..", "recursive descent"),
    (".spec.template[1:2]", "expected ']' at position 16"),
    (".a and .b", "unexpected 'a'"),
    ('.a[] | select(.n > 1)', "expected == or != in select()"),
    ('.a[] | select(.n == "x"', "expected ')'"),
    ('.a[] | select(.n == [1])', "only scalar literals"),
    ('.a[] | select(.n == x)', "expected a JSON literal"),
    (".a.", "expected a field name"),
    ('.a["b', "expected a JSON literal"),
    (".a | ", "expected a path"),
])
def test_outside_the_subset_is_refused_clearly(expression: str, problem: str) -> None:
    with pytest.raises(JqError) as error:
        parse(expression)
    message = str(error.value)
    assert repr(expression) in message
    assert problem in message
    assert "supported: paths like .a.b" in message and "select(.key ==" in message
