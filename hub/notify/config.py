"""The `notifications` section of the hub's configuration file: sinks, subscriptions, templates, delivery.

    notifications:
      link: https://fleet.example.com/clusters/{cluster}/applications/{application}   # the {url} field
      disconnectGrace: 5m               # on-agent-disconnected fires after this long without a session
      sinks:
        team-slack: {type: slack, urlFile: /etc/fleetline/slack-url}            # or url: https://hooks...
        audit-hook: {type: webhook, url: https://audit.example.com/fleetline,
                     headers: {X-Team: platform}, secretFile: /etc/fleetline/hook-secret}
      subscriptions:
        - {trigger: on-sync-failed, sinks: [team-slack], regions: [eu], environments: [prod]}
        - {triggers: [on-deployed, on-rollout-halted], sinks: [audit-hook], applications: ["inference-*"]}
      templates:
        on-sync-failed: {title: "Sync failed: {application}", text: "{cluster}: {message}"}
      delivery: {timeout: 10s, initialBackoff: 1s, maxBackoff: 5m, maxAge: 1h, maxQueue: 1000, retention: 720h}

Every problem of the section is collected and raised together as one `NotificationsConfigError`, each naming
the file and the field path. Secret values (sink URLs, which carry Slack's token, and HMAC secrets) never
appear in an error, a log line or a repr. Files named by `urlFile` and `secretFile` are read once, at load;
relative paths are relative to the configuration file's directory. The format is described for users in
docs/notifications.md.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from fleetline.yamlsafe import YamlError, load_one
from hub.fleet.reader import DNS_LABEL, Reader, child, did_you_mean
from hub.notify.templates import FIELDS, Template, TemplateError
from hub.notify.triggers import (
    ON_AGENT_DISCONNECTED,
    ON_APPROVAL_REQUIRED,
    ON_DEPLOYED,
    ON_DRIFT_DETECTED,
    ON_HEALTH_DEGRADED,
    ON_ROLLOUT_HALTED,
    ON_SYNC_FAILED,
    ON_SYNC_LOOP,
    TRIGGERS,
    Notification,
)

SECTION = "notifications"
SLACK, WEBHOOK = "slack", "webhook"
SINK_TYPES = (SLACK, WEBHOOK)
_SECTION_FIELDS = ("link", "disconnectGrace", "sinks", "subscriptions", "templates", "delivery")
_SINK_FIELDS = {SLACK: ("type", "url", "urlFile", "channel", "username"),
                WEBHOOK: ("type", "url", "urlFile", "headers", "secretFile")}
_SUBSCRIPTION_FIELDS = ("trigger", "triggers", "sinks", "regions", "environments", "clusters", "applications")
_DELIVERY_FIELDS = ("timeout", "initialBackoff", "maxBackoff", "maxAge", "maxQueue", "retention")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

DEFAULT_TEMPLATES: dict[str, tuple[str, str]] = {
    ON_DEPLOYED: ("Deployed {application} {revision_short} to {cluster}",
                  "{application} synced revision {revision_short} on {cluster} (region {region}, environment "
                  "{environment}): {message}"),
    ON_SYNC_FAILED: ("Sync failed: {application} on {cluster}",
                     "The sync of {application} at {revision_short} failed on {cluster} (region {region}, "
                     "environment {environment}): {message}"),
    ON_HEALTH_DEGRADED: ("Degraded: {application} on {cluster}",
                         "{application} at {revision_short} is Degraded on {cluster} (region {region}, environment "
                         "{environment}): {message}"),
    ON_DRIFT_DETECTED: ("Drift: {application} on {cluster}",
                        "{application} on {cluster} (region {region}, environment {environment}) differs from Git "
                        "at {revision_short}: {message}"),
    ON_SYNC_LOOP: ("Sync loop: {application} on {cluster}",
                   "{application} on {cluster} (region {region}, environment {environment}) fights another "
                   "controller: {message}"),
    ON_ROLLOUT_HALTED: ("Rollout halted: {application} {revision_short} in {environment}",
                        "The rollout of {application} to {revision_short} in environment {environment} halted: "
                        "{message}"),
    ON_AGENT_DISCONNECTED: ("Agent disconnected: {cluster}",
                            "The agent of {cluster} (region {region}, environment {environment}) has had no session "
                            "with the hub since {time}: {message}"),
    ON_APPROVAL_REQUIRED: ("Approval required: {application} {revision_short} in {environment}",
                           "{application} at {revision_short} waits for approval in environment {environment}: "
                           "{message}. Approve with: fleetline approve {environment} {application} {revision}"),
}


class NotificationsConfigError(ValueError):
    """Every problem of the notifications section, one per line (`file: field: what is wrong`)."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass(frozen=True)
class Sink:
    """Where notifications go. `url` and `secret` are secret: never logged, never shown (see __repr__)."""

    name: str
    type: str
    url: str = field(repr=False)
    headers: Mapping[str, str] = field(default_factory=dict)
    secret: bytes = field(default=b"", repr=False)  # HMAC-SHA256 key of the webhook sink (b"": unsigned)
    channel: str = ""  # Slack: an override of the webhook's channel (honoured by Slack-compatible servers)
    username: str = ""


@dataclass(frozen=True)
class Subscription:
    """Which notifications go to which sinks. A filter that is None accepts everything; `clusters` and
    `applications` are shell-style patterns (`inference-*`)."""

    triggers: tuple[str, ...]
    sinks: tuple[str, ...]
    regions: tuple[str, ...] | None = None
    environments: tuple[str, ...] | None = None
    clusters: tuple[str, ...] | None = None
    applications: tuple[str, ...] | None = None

    def matches(self, notification: Notification) -> bool:
        if notification.trigger not in self.triggers:
            return False
        if self.regions is not None and not set(notification.all_regions()) & set(self.regions):
            return False
        if self.environments is not None and notification.environment not in self.environments:
            return False
        if self.clusters is not None and not _any_match(notification.cluster, self.clusters):
            return False
        return self.applications is None or _any_match(notification.application, self.applications)


def _any_match(value: str, patterns: tuple[str, ...]) -> bool:
    return bool(value) and any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)


@dataclass(frozen=True)
class MessageTemplate:
    """A trigger's title and text."""

    title: Template
    text: Template


@dataclass(frozen=True)
class DeliverySettings:
    """Delivery settings, in seconds: per-request `timeout`; retries back off exponentially (with jitter) from
    `initial_backoff` up to `max_backoff` and give up `max_age` after the notification was made; at most
    `max_queue` notifications wait per sink (the oldest are dropped beyond); de-duplication records are kept
    for `retention`."""

    timeout: float = 10.0
    initial_backoff: float = 1.0
    max_backoff: float = 300.0
    max_age: float = 3600.0
    max_queue: int = 1000
    retention: float = 30 * 86400.0


def default_templates() -> dict[str, MessageTemplate]:
    return {trigger: MessageTemplate(Template.parse(title, _TITLE_FIELDS), Template.parse(text))
            for trigger, (title, text) in DEFAULT_TEMPLATES.items()}


_TITLE_FIELDS = tuple(f for f in FIELDS if f != "title")
_LINK_FIELDS = tuple(f for f in FIELDS if f not in ("title", "url", "message"))


@dataclass(frozen=True)
class NotificationsConfig:
    """The parsed section (an empty one sends nothing). `templates` holds every trigger."""

    sinks: Mapping[str, Sink] = field(default_factory=dict)
    subscriptions: tuple[Subscription, ...] = ()
    templates: Mapping[str, MessageTemplate] = field(default_factory=default_templates)
    link: Template | None = None
    disconnect_grace: float = 300.0
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    source: str = ""

    def sinks_for(self, notification: Notification) -> list[str]:
        """The names of the sinks the notification goes to (each once, in configuration order)."""
        names: dict[str, None] = {}
        for subscription in self.subscriptions:
            if subscription.matches(notification):
                names.update(dict.fromkeys(subscription.sinks))
        return list(names)


def load_config(path: str | Path) -> NotificationsConfig:
    """The notifications section of the hub configuration file at `path` (an empty config when the file has
    none). NotificationsConfigError names the file and every field at fault."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotificationsConfigError([f"{path}: cannot read the hub configuration: {exc.strerror}"]) from exc
    try:
        document = load_one(data, str(path))
    except YamlError as exc:
        raise NotificationsConfigError([str(exc)]) from exc
    if document is None:
        return NotificationsConfig(source=str(path))
    if not isinstance(document, dict):
        raise NotificationsConfigError([f"{path}: expected a mapping at the top of the hub configuration"])
    return parse_config(document.get(SECTION), str(path), path.parent)


def parse_config(section: object, source: str, base_dir: str | Path = ".") -> NotificationsConfig:
    """Parse the value of the `notifications` key of `source` (None: nothing configured); files named in it are
    read relative to `base_dir`."""
    reader = Reader(source)
    raw = reader.fields(section, SECTION, _SECTION_FIELDS)
    if raw is None:
        raise NotificationsConfigError([e.describe() for e in reader.errors])
    base = Path(base_dir)
    sinks = _sinks(reader, raw.get("sinks"), child(SECTION, "sinks"), base)
    declared = [str(name) for name in raw["sinks"]] if isinstance(raw.get("sinks"), dict) else []
    subscriptions = _subscriptions(reader, raw.get("subscriptions"), child(SECTION, "subscriptions"), declared)
    templates = _templates(reader, raw.get("templates"), child(SECTION, "templates"))
    link = _template(reader, raw.get("link"), child(SECTION, "link"), _LINK_FIELDS)
    _, grace = reader.duration(raw.get("disconnectGrace"), child(SECTION, "disconnectGrace"), "5m",
                               bare_seconds=True)
    delivery = _delivery(reader, raw.get("delivery"), child(SECTION, "delivery"))
    if reader.errors:
        raise NotificationsConfigError([e.describe() for e in reader.errors])
    return NotificationsConfig(sinks=sinks, subscriptions=subscriptions, templates=templates, link=link,
                               disconnect_grace=grace if grace is not None else 300.0, delivery=delivery,
                               source=source)


def _sinks(reader: Reader, value: object, where: str, base: Path) -> dict[str, Sink]:
    sinks: dict[str, Sink] = {}
    if value is None:
        return sinks
    if not isinstance(value, dict):
        reader.error(where, "expected a mapping of sink names to sinks, e.g. {team-slack: {type: slack, url: ...}}")
        return sinks
    for name, spec in value.items():
        path = child(where, str(name))
        if not isinstance(name, str) or not DNS_LABEL.match(name) or len(name) > 63:
            reader.error(path, "a sink name must be lower-case letters, digits and '-' (e.g. team-slack)")
            continue
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind not in SINK_TYPES:
            if isinstance(spec, dict):
                reader.error(child(path, "type"), f"expected one of: {', '.join(SINK_TYPES)}, found "
                             f"{kind!r}{did_you_mean(str(kind), SINK_TYPES)}")
            else:
                reader.error(path, "expected a mapping such as {type: slack, urlFile: /etc/fleetline/slack-url}")
            continue
        fields = reader.fields(spec, path, _SINK_FIELDS[kind])
        if fields is None:
            continue
        url = _url(reader, fields, path, base)
        headers = reader.string_map(fields.get("headers"), child(path, "headers"),
                                    key_check=lambda k: None if _HEADER_NAME.match(k) else "not an HTTP header name")
        secret = b""
        if kind == WEBHOOK and fields.get("secretFile") is not None:
            secret = _read_secret(reader, fields.get("secretFile"), child(path, "secretFile"), base)
        channel = reader.string(fields.get("channel"), child(path, "channel"))
        username = reader.string(fields.get("username"), child(path, "username"))
        sinks[name] = Sink(name=name, type=kind, url=url, headers=headers, secret=secret, channel=channel,
                           username=username)
    return sinks


def _url(reader: Reader, fields: dict, path: str, base: Path) -> str:
    """The sink's URL, from `url` or the file `urlFile` (exactly one). Never echoed: it may hold a token."""
    inline, from_file = fields.get("url"), fields.get("urlFile")
    if (inline is None) == (from_file is None):
        reader.error(path, "set exactly one of url and urlFile (urlFile keeps a secret URL out of this file)")
        return ""
    if inline is not None:
        where = child(path, "url")
        if not isinstance(inline, str):
            reader.error(where, "expected an http:// or https:// URL (a string)")
            return ""
        url = inline.strip()
    else:
        where = child(path, "urlFile")
        url = _read_secret(reader, from_file, where, base).decode("utf-8", "replace")
        if not url:
            return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        reader.error(where, "expected an http:// or https:// URL with a host (the value is not shown: it may be "
                            "secret)")
        return ""
    return url


def _read_secret(reader: Reader, value: object, where: str, base: Path) -> bytes:
    if not isinstance(value, str) or not value:
        reader.error(where, "expected the path of a file (a string)")
        return b""
    path = base / value
    try:
        data = path.read_bytes().strip()
    except OSError as exc:
        reader.error(where, f"cannot read {path}: {exc.strerror}")
        return b""
    if not data:
        reader.error(where, f"{path} is empty")
    return data


def _subscriptions(reader: Reader, value: object, where: str, sinks: list[str]) -> tuple[Subscription, ...]:
    result = []
    for path, entry in reader.items(value, where):
        spec = reader.fields(entry, path, _SUBSCRIPTION_FIELDS)
        if spec is None:
            continue
        if ("trigger" in spec) == ("triggers" in spec):
            reader.error(path, f"set exactly one of trigger and triggers (one of: {', '.join(TRIGGERS)})")
            continue
        if "trigger" in spec:
            one = reader.string(spec["trigger"], child(path, "trigger"), required=True)
            triggers: tuple[str, ...] = (one,) if one else ()
            trigger_paths = [child(path, "trigger")]
        else:
            triggers = reader.string_list(spec["triggers"], child(path, "triggers")) or ()
            trigger_paths = [f"{child(path, 'triggers')}[{i}]" for i in range(len(triggers))]
        for trigger, trigger_path in zip(triggers, trigger_paths, strict=False):
            if trigger not in TRIGGERS:
                reader.error(trigger_path, f'unknown trigger "{trigger}"{did_you_mean(trigger, TRIGGERS)}; the '
                                           f"triggers are: {', '.join(TRIGGERS)}")
        names = reader.string_list(spec.get("sinks"), child(path, "sinks")) or ()
        if not names:
            reader.error(child(path, "sinks"), "expected a non-empty list of sink names (from notifications.sinks)")
        for index, name in enumerate(names):
            if name not in sinks:
                known = ", ".join(sinks) or "none defined"
                reader.error(f"{child(path, 'sinks')}[{index}]", f'unknown sink "{name}"'
                             f"{did_you_mean(name, sinks)}; the sinks are: {known}")
        filters = {key: reader.string_list(spec.get(key), child(path, key))
                   for key in ("regions", "environments", "clusters", "applications")}
        result.append(Subscription(triggers=tuple(triggers), sinks=tuple(names), **filters))
    return tuple(result)


def _templates(reader: Reader, value: object, where: str) -> dict[str, MessageTemplate]:
    templates = default_templates()
    raw = reader.fields(value, where, TRIGGERS)
    for trigger, spec in (raw or {}).items():
        if trigger not in TRIGGERS:
            continue  # reported by fields()
        path = child(where, trigger)
        fields = reader.fields(spec, path, ("title", "text"))
        if fields is None:
            continue
        default = templates[trigger]
        title = _template(reader, fields.get("title"), child(path, "title"), _TITLE_FIELDS)
        text = _template(reader, fields.get("text"), child(path, "text"), FIELDS)
        templates[trigger] = MessageTemplate(title or default.title, text or default.text)
    return templates


def _template(reader: Reader, value: object, where: str, fields: tuple[str, ...]) -> Template | None:
    if value is None:
        return None
    if not isinstance(value, str):
        reader.error(where, "expected a template (a string with {field} placeholders)")
        return None
    try:
        return Template.parse(value, fields)
    except TemplateError as exc:
        reader.error(where, str(exc))
        return None


def _delivery(reader: Reader, value: object, where: str) -> DeliverySettings:
    raw = reader.fields(value, where, _DELIVERY_FIELDS)
    if not raw:
        return DeliverySettings()
    default = DeliverySettings()

    def seconds(key: str, fallback: float) -> float:
        _, number = reader.duration(raw.get(key), child(where, key), "", bare_seconds=True)
        return fallback if number is None else number

    delivery = DeliverySettings(timeout=seconds("timeout", default.timeout),
                        initial_backoff=seconds("initialBackoff", default.initial_backoff),
                        max_backoff=seconds("maxBackoff", default.max_backoff),
                        max_age=seconds("maxAge", default.max_age),
                        max_queue=reader.integer(raw.get("maxQueue"), child(where, "maxQueue"), default.max_queue,
                                                 minimum=1),
                        retention=seconds("retention", default.retention))
    if delivery.timeout <= 0:
        reader.error(child(where, "timeout"), "expected a duration above zero")
    if delivery.max_backoff < delivery.initial_backoff:
        reader.error(child(where, "maxBackoff"), "must not be shorter than initialBackoff")
    if delivery.retention < delivery.max_age:
        reader.error(child(where, "retention"), "must not be shorter than maxAge (a notification still being "
                                                "retried would lose its de-duplication record)")
    return delivery
