"""The notifications section of the hub config: the format, defaults for every trigger, and errors that name the
file, the field and the fix without ever showing a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.notify.config import (
    NotificationsConfigError,
    Subscription,
    load_config,
    parse_config,
)
from hub.notify.triggers import TRIGGERS, Notification

SECRET_URL = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX"


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hub.yaml"
    path.write_text(text)
    return path


def test_loads_the_documented_example(tmp_path: Path) -> None:
    (tmp_path / "slack-url").write_text(SECRET_URL + "\n")
    (tmp_path / "hook-secret").write_text("s3cret\n")
    path = write_config(tmp_path, """
listen: 0.0.0.0:8443            # other sections belong to the rest of the hub
notifications:
  link: https://fleet.example.com/clusters/{cluster}/applications/{application}
  disconnectGrace: 2m
  sinks:
    team-slack: {type: slack, urlFile: slack-url, channel: "#fleet"}
    audit-hook:
      type: webhook
      url: https://audit.example.com/fleetline
      headers: {X-Team: platform}
      secretFile: hook-secret
  subscriptions:
    - {trigger: on-sync-failed, sinks: [team-slack], regions: [eu], environments: [prod]}
    - {triggers: [on-deployed, on-rollout-halted], sinks: [audit-hook, team-slack], applications: ["inference-*"]}
  templates:
    on-sync-failed: {title: "Sync failed: {application}", text: "{cluster}: {message}"}
  delivery: {timeout: 5s, initialBackoff: 2s, maxBackoff: 1m, maxAge: 2h, maxQueue: 50, retention: 240h}
""")
    config = load_config(path)
    slack, hook = config.sinks["team-slack"], config.sinks["audit-hook"]
    assert (slack.type, slack.url, slack.channel) == ("slack", SECRET_URL, "#fleet")
    assert (hook.type, hook.url, dict(hook.headers), hook.secret) == (
        "webhook", "https://audit.example.com/fleetline", {"X-Team": "platform"}, b"s3cret")
    assert config.disconnect_grace == 120
    assert (config.delivery.timeout, config.delivery.initial_backoff, config.delivery.max_backoff,
            config.delivery.max_age, config.delivery.max_queue, config.delivery.retention) == (
        5, 2, 60, 7200, 50, 240 * 3600)
    assert set(config.templates) == set(TRIGGERS)  # defaults for every trigger
    assert config.templates["on-sync-failed"].text.source == "{cluster}: {message}"
    assert config.templates["on-sync-failed"].title.source == "Sync failed: {application}"
    assert "{application}" in config.templates["on-deployed"].title.source
    assert config.link is not None
    assert SECRET_URL not in repr(slack) and "s3cret" not in repr(hook)


def test_no_section_means_nothing_is_sent(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, "listen: 0.0.0.0:8443\n"))
    note = Notification("on-sync-failed", "eu-1", "eu", "prod", "inference", "abc", "failed")
    assert config.sinks_for(note) == [] and set(config.templates) == set(TRIGGERS)


def test_every_error_names_the_file_and_field(tmp_path: Path) -> None:
    path = write_config(tmp_path, """
notifications:
  sinks:
    team-slack: {type: slak, url: https://x}
    audit: {type: webhook, url: https://a.example.com, urlFile: u}
    missing-file: {type: webhook, urlFile: nowhere}
    signed-slack: {type: slack, url: https://s.example.com, secretFile: x}
  subscriptions:
    - {trigger: on-sync-fail, sinks: [audit, team-slak]}
    - {trigger: on-deployed, triggers: [on-deployed], sinks: [audit]}
    - {triggers: [on-deployed], sinks: []}
  templates:
    on-sync-failed: {text: "{aplication} failed {"}
    on-deploy: {title: x}
  disconnectGrace: soon
  delivery: {maxBackoff: 1ms, maxQueue: 0}
""")
    with pytest.raises(NotificationsConfigError) as caught:
        load_config(path)
    errors = caught.value.errors
    text = str(caught.value)
    expected = [
        'notifications.sinks.team-slack.type: expected one of: slack, webhook, found \'slak\' (did you mean "slack"?)',
        "notifications.sinks.audit: set exactly one of url and urlFile",
        "notifications.sinks.missing-file.urlFile: cannot read",
        'notifications.sinks.signed-slack.secretFile: unknown field "secretFile"',
        'notifications.subscriptions[0].trigger: unknown trigger "on-sync-fail" (did you mean "on-sync-failed"?)',
        'notifications.subscriptions[0].sinks[1]: unknown sink "team-slak" (did you mean "team-slack"?)',
        "notifications.subscriptions[1]: set exactly one of trigger and triggers",
        "notifications.subscriptions[2].sinks: expected a non-empty list of sink names",
        'notifications.templates.on-sync-failed.text: unknown field "{aplication}" (did you mean "application"?)',
        'notifications.templates.on-deploy: unknown field "on-deploy" (did you mean "on-deployed"?)',
        "notifications.disconnectGrace: expected a duration",
        "notifications.delivery.maxQueue: expected an integer, found 0 (the minimum is 1)",
    ]
    for fragment in expected:
        assert any(fragment in error for error in errors), f"{fragment!r} not in:\n{text}"
    assert all(error.startswith(f"{path}: notifications") for error in errors), text
    assert len([e for e in errors if "notifications.sinks.signed-slack" in e]) == 1, text  # one error per problem


def test_a_bad_url_is_reported_without_showing_it(tmp_path: Path) -> None:
    (tmp_path / "slack-url").write_text("hooks.slack.com/services/T000/B000/XXXXSECRETXXXX")
    with pytest.raises(NotificationsConfigError) as caught:
        parse_config({"sinks": {"s": {"type": "slack", "urlFile": "slack-url"},
                                "t": {"type": "webhook", "url": "ftp://x/XXXXSECRETXXXX"}}},
                     "hub.yaml", tmp_path)
    assert "XXXXSECRETXXXX" not in str(caught.value)
    assert "hub.yaml: notifications.sinks.s.urlFile: expected an http:// or https:// URL" in str(caught.value)
    assert "hub.yaml: notifications.sinks.t.url: expected an http:// or https:// URL" in str(caught.value)


def test_unreadable_yaml_and_wrong_shapes(tmp_path: Path) -> None:
    with pytest.raises(NotificationsConfigError, match=r"hub.yaml:\d+: invalid YAML"):
        load_config(write_config(tmp_path, "notifications:\n  sinks: [\n"))
    with pytest.raises(NotificationsConfigError, match=r"hub.yaml: notifications: expected a mapping, found a list"):
        load_config(write_config(tmp_path, "notifications: [1]\n"))
    with pytest.raises(NotificationsConfigError, match=r"cannot read the hub configuration"):
        load_config(tmp_path / "absent.yaml")


def note(**changes: str) -> Notification:
    fields = {"trigger": "on-sync-failed", "cluster": "eu-prod-1", "region": "eu", "environment": "prod",
              "application": "inference-server", "revision": "abc", "message": "m"}
    return Notification(**{**fields, **changes})


def test_subscription_filters() -> None:
    eu_prod = Subscription(("on-sync-failed",), ("s",), regions=("eu",), environments=("prod",),
                           applications=("inference-*",))
    assert eu_prod.matches(note())
    assert not eu_prod.matches(note(region="us-east"))
    assert not eu_prod.matches(note(environment="staging"))
    assert not eu_prod.matches(note(application="trainer"))
    assert not eu_prod.matches(note(trigger="on-deployed"))
    by_cluster = Subscription(("on-sync-failed",), ("s",), clusters=("eu-prod-*",))
    assert by_cluster.matches(note()) and not by_cluster.matches(note(cluster="us-east-1"))
    halted = Notification("on-rollout-halted", "", "eu, us-east", "prod", "inference-server", "abc", "m",
                          regions=("eu", "us-east"))
    assert Subscription(("on-rollout-halted",), ("s",), regions=("us-east",)).matches(halted)
    assert not Subscription(("on-rollout-halted",), ("s",), regions=("us-west",)).matches(halted)


def test_sinks_for_collects_each_sink_once(tmp_path: Path) -> None:
    config = parse_config({"sinks": {"a": {"type": "webhook", "url": "http://127.0.0.1:1/a"},
                                     "b": {"type": "slack", "url": "http://127.0.0.1:1/b"}},
                           "subscriptions": [{"trigger": "on-sync-failed", "sinks": ["b", "a"]},
                                             {"trigger": "on-sync-failed", "sinks": ["a"], "regions": ["eu"]},
                                             {"trigger": "on-deployed", "sinks": ["a"]}]}, "hub.yaml", tmp_path)
    assert config.sinks_for(note()) == ["b", "a"]
    assert config.sinks_for(note(trigger="on-deployed")) == ["a"]
    assert config.sinks_for(note(trigger="on-sync-loop")) == []
