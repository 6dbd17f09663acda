"""Reading `spec.environments` of fleet.yaml: the Git ref each environment tracks, its sync mode, approvals,
Argo CD-style sync windows (kind, 5-field cron schedule, Go duration, time zone, globs) and signed-commit
verification (`signatures`: required, trusted GPG fingerprints or key ids).

Only parses and validates; whether a window is open at a given time is for `hub.plan` to decide, whether a
commit's signature is trusted for `hub.source`.
"""

from __future__ import annotations

import re
import zoneinfo

from hub.fleet.model import Approvals, Environment, Signatures, SyncWindow
from hub.fleet.reader import (
    GO_DURATION_EXPECTED,
    Reader,
    child,
    describe,
    git_ref_problem,
)

_WINDOW_FIELDS = ("kind", "schedule", "duration", "timeZone", "manualSync", "applications", "clusters",
                  "namespaces", "andOperator", "syncOverrun", "description")
_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
                ("day of week", 0, 6))
_MONTHS = {name: index + 1 for index, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}
_WEEKDAYS = {name: index for index, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_GPG_KEY = re.compile(r"^([0-9A-F]{16}|[0-9A-F]{40})$")
GPG_KEY_EXPECTED = ("a GPG key fingerprint (40 hex digits) or long key id (16 hex digits), as `gpg --list-keys "
                    "--keyid-format long` prints them (a 0x prefix and spaces are ignored)")
_CRON_PART = re.compile(r"^(\*|\?|[A-Za-z0-9]+(-[A-Za-z0-9]+)?)(/(\d+))?$")
CRON_EXPECTED = 'a 5-field cron schedule "minute hour day-of-month month day-of-week" such as "0 22 * * 1-5"'


def read_environments(reader: Reader, raw: object, field: str) -> dict[str, Environment]:
    """`spec.environments`: a mapping from environment name to its settings (an empty value takes the
    defaults)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        reader.error(field, f"expected a mapping from environment name to settings such as "
                            f"{{staging: {{ref: main}}}}, found {describe(raw)}")
        return {}
    environments = {}
    for name, spec in raw.items():
        path = child(field, name)
        if not reader.name(name, path, "an environment name", required=True):
            continue
        environments[name] = _read_environment(reader, name, spec, path)
    return environments


def _read_environment(reader: Reader, name: str, raw: object, field: str) -> Environment:
    spec = reader.fields(raw, field, ("ref", "production", "sync", "approvals", "syncWindows", "signatures"))
    if spec is None:
        return Environment(name=name)
    ref = reader.string(spec.get("ref"), child(field, "ref"), "the Git branch, tag or commit the environment tracks",
                        default="HEAD", check=git_ref_problem)
    production = reader.boolean(spec.get("production"), child(field, "production"))
    default_sync = "manual" if production else "automated"
    sync = reader.string(spec.get("sync"), child(field, "sync"), '"automated" or "manual"', default=default_sync,
                         check=lambda text: None if text in ("automated", "manual") else "unknown sync mode")
    approvals = Approvals()
    approvals_field = child(field, "approvals")
    approvals_spec = reader.fields(spec.get("approvals"), approvals_field, ("required",), "a mapping {required: N}")
    if approvals_spec:
        approvals = Approvals(required=reader.integer(approvals_spec.get("required"), child(approvals_field,
                                                      "required"), 0, minimum=0,
                                                      expected="a number of approvals (0 or more)"))
    windows = []
    for path, entry in reader.items(spec.get("syncWindows"), child(field, "syncWindows"),
                                    "a list of sync windows {kind, schedule, duration, ...}"):
        window = _read_window(reader, entry, path)
        if window is not None:
            windows.append(window)
    signatures = _read_signatures(reader, spec.get("signatures"), child(field, "signatures"))
    return Environment(name=name, ref=ref, production=production, sync=sync, approvals=approvals,
                       sync_windows=tuple(windows), signatures=signatures)


def _read_signatures(reader: Reader, raw: object, field: str) -> Signatures:
    spec = reader.fields(raw, field, ("required", "trustedKeys"), "a mapping {required, trustedKeys}")
    if not spec:
        return Signatures()
    required = reader.boolean(spec.get("required"), child(field, "required"))
    errors_before = len(reader.errors)
    keys = []
    for path, entry in reader.items(spec.get("trustedKeys"), child(field, "trustedKeys"),
                                    "a list of GPG key fingerprints or key ids"):
        if isinstance(entry, int | float) and not isinstance(entry, bool):
            reader.error(path, f"expected {GPG_KEY_EXPECTED}, found {describe(entry)}: quote the key, YAML reads "
                               "0x... and keys of digits only as numbers")
            continue
        keys.append(reader.string(entry, path, GPG_KEY_EXPECTED, required=True, check=_gpg_key_problem))
    trusted = tuple(dict.fromkeys(normalise_gpg_key(key) for key in keys if key))
    if required and not trusted and len(reader.errors) == errors_before:
        reader.error(child(field, "trustedKeys"), "signatures are required but no key is trusted, so no commit "
                                                  "could ever be deployed; expected a list of GPG key fingerprints "
                                                  "(40 hex digits) or long key ids (16 hex digits)")
    return Signatures(required=required, trusted_keys=trusted)


def normalise_gpg_key(key: str) -> str:
    """A fingerprint or key id as upper-case hex digits: without `0x`, and without the spaces `gpg
    --fingerprint` puts between groups of digits."""
    return "".join(key.split()).upper().removeprefix("0X")


def _gpg_key_problem(key: str) -> str | None:
    digits = normalise_gpg_key(key)
    if _GPG_KEY.match(digits):
        return None
    if not all(ch in "0123456789ABCDEF" for ch in digits):
        return "not hexadecimal"
    short = " (short key ids are refused: they are easy to forge)" if len(digits) < 16 else ""
    return f"{len(digits)} hex digits; a fingerprint has 40, a long key id 16{short}"


def _read_window(reader: Reader, raw: object, field: str) -> SyncWindow | None:
    spec = reader.fields(raw, field, _WINDOW_FIELDS, "a mapping {kind, schedule, duration, ...}")
    if spec is None:
        return None
    kind = reader.string(spec.get("kind"), child(field, "kind"), '"allow" or "deny"', required=True,
                         check=lambda text: None if text in ("allow", "deny") else "unknown window kind")
    schedule = reader.string(spec.get("schedule"), child(field, "schedule"), CRON_EXPECTED, required=True,
                             check=cron_problem)
    duration, seconds = reader.duration(spec.get("duration"), child(field, "duration"), "")
    if spec.get("duration") is None:
        reader.error(child(field, "duration"), f"missing required field; expected {GO_DURATION_EXPECTED}")
    elif seconds == 0:
        reader.error(child(field, "duration"), f"expected {GO_DURATION_EXPECTED}, found {describe(duration)}: a "
                                               "window must last longer than 0")
    time_zone = reader.string(spec.get("timeZone"), child(field, "timeZone"),
                              'an IANA time zone such as "UTC" or "Europe/Paris"', default="UTC",
                              check=_time_zone_problem)
    globs = {key: reader.string_list(spec.get(key), child(field, key), "a list of glob patterns such as \"eu-*\"")
             for key in ("applications", "clusters", "namespaces")}
    if not kind or not schedule or not seconds:
        return None
    return SyncWindow(kind=kind, schedule=schedule, duration=duration, duration_seconds=seconds, time_zone=time_zone,
                      manual_sync=reader.boolean(spec.get("manualSync"), child(field, "manualSync")),
                      applications=globs["applications"] or (), clusters=globs["clusters"] or (),
                      namespaces=globs["namespaces"] or (),
                      and_operator=reader.boolean(spec.get("andOperator"), child(field, "andOperator")),
                      sync_overrun=reader.boolean(spec.get("syncOverrun"), child(field, "syncOverrun")),
                      description=reader.string(spec.get("description"), child(field, "description")))


def _time_zone_problem(name: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "unknown time zone"
    return None


def cron_problem(schedule: str) -> str | None:
    """Why `schedule` is not a schedule Argo CD's cron parser accepts (5 fields or a descriptor such as
    @daily), or None when it is."""
    if schedule.startswith("@"):
        return None if schedule in _DESCRIPTORS else f"unknown descriptor; expected one of {', '.join(_DESCRIPTORS)}"
    parts = schedule.split()
    if len(parts) != 5:
        return f"found {len(parts)} fields, expected 5"
    for index, (part, (what, low, high)) in enumerate(zip(parts, _CRON_FIELDS, strict=True)):
        names = _MONTHS if index == 3 else _WEEKDAYS if index == 4 else {}
        for element in part.split(","):
            problem = _cron_element_problem(element, low, high, names)
            if problem is not None:
                return f"{what} field {part!r}: {problem}"
    return None


def _cron_element_problem(element: str, low: int, high: int, names: dict[str, int]) -> str | None:
    match = _CRON_PART.match(element)
    if match is None:
        return f"{element!r} is not a value, range (a-b), list (a,b) or step (*/n)"
    if match.group(4) is not None and int(match.group(4)) < 1:
        return "a step must be at least 1"
    if match.group(1) in ("*", "?"):
        return None
    bounds = match.group(1).split("-")
    values = []
    for bound in bounds:
        value = names.get(bound.lower()) if not bound.isdigit() else int(bound)
        if value is None or not low <= value <= high:
            return f"{bound!r} is outside {low}-{high}"
        values.append(value)
    if len(values) == 2 and values[0] > values[1]:
        return f"range {element!r} runs backwards"
    return None

