"""The approvals of production changes: who approved which revision of which application in which environment.

Approvals belong to one (environment, application, revision): a newer revision needs approvals of its own.
They are counted per distinct approver (compared without regard to case, so "Alice" and "alice" are one
person); a second approval by the same person changes nothing. The book is one JSON file, replaced atomically
on every change, and read once when the book is opened (one hub process owns it):

    {"version": 1,
     "approvals": {"<environment>": {"<application>": {"<revision>": [
         {"approver": "alice", "at": "2026-12-01T09:30:00+00:00"}, ...]}}}}

A file that cannot be read as such (not JSON, another shape, another version) is renamed aside to
`<file>.corrupt` (`.corrupt.1`, ... when taken) with a warning, and the book starts empty: nothing is lost
and the hub keeps running, but the approvals in it must be given again (or the file repaired and restored).
Superseded revisions are dropped by `forget_superseded`, which the planner calls as revisions move on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from fleetline.atomicfile import atomic_write

log = logging.getLogger(__name__)

VERSION = 1


@dataclass(frozen=True)
class Approval:
    """One approval: who gave it and when."""

    approver: str
    at: datetime


@dataclass
class ApprovalState:
    """The approvals of one revision: its distinct approvers in the order they approved, and whether they are
    enough (`required` 0: no approval is needed)."""

    approvers: list[str]
    required: int
    satisfied: bool
    approvals: list[Approval] = field(default_factory=list)

    @property
    def missing(self) -> int:
        """How many more distinct approvers are needed."""
        return max(0, self.required - len(self.approvers))


class ApprovalBook:
    """The approvals kept in the JSON file `path` (created on the first approval)."""

    def __init__(self, path: str | Path, *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._book: dict[str, dict[str, dict[str, list[Approval]]]] = self._load()

    def approve(self, environment: str, application: str, revision: str, approver: str, now: datetime, *,
                required: int = 0) -> ApprovalState:
        """Record `approver`'s approval of `revision` and return the revision's state against `required`.

        ValueError for an empty approver, environment, application or revision, or a naive `now`."""
        names = _check_names(environment, application, revision)
        who = approver.strip() if isinstance(approver, str) else ""
        if not who:
            raise ValueError(f"approval of {application} revision {revision} in {environment}: the approver is "
                             "empty; name the person approving (e.g. their user name or e-mail address)")
        if any(char in who for char in "\r\n\t"):
            raise ValueError(f"approval of {application} revision {revision} in {environment}: approver {who!r} "
                             "contains a line break or tab; give a single-line name")
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"approval by {who}: the time {now.isoformat()} has no time zone; pass an aware time")
        approvals = self._book.setdefault(names[0], {}).setdefault(names[1], {}).setdefault(names[2], [])
        if all(entry.approver.casefold() != who.casefold() for entry in approvals):
            approvals.append(Approval(who, now))
            try:
                self._save()
            except BaseException:
                approvals.pop()  # the book in memory stays what the file says
                raise
        return self.state(*names, required=required)

    def state(self, environment: str, application: str, revision: str, required: int = 0) -> ApprovalState:
        """The approvals `revision` has in `environment` for `application`, against `required` approvals."""
        if required < 0:
            raise ValueError(f"required approvals must be 0 or more, got {required}")
        approvals = list(self._book.get(environment, {}).get(application, {}).get(revision, []))
        approvers = [entry.approver for entry in approvals]
        return ApprovalState(approvers=approvers, required=required, satisfied=len(approvers) >= required,
                             approvals=approvals)

    def revisions(self, environment: str, application: str) -> list[str]:
        """The revisions of `application` in `environment` that have approvals, in the order first approved."""
        revisions = self._book.get(environment, {}).get(application, {})
        return sorted(revisions, key=lambda revision: revisions[revision][0].at)

    def last_approved(self, environment: str, application: str, required: int) -> str | None:
        """The revision that most recently reached `required` distinct approvals (at least one), or None.

        What a gated application keeps enforcing while a newer revision waits for its approvals."""
        best: tuple[datetime, str] | None = None
        for revision, approvals in self._book.get(environment, {}).get(application, {}).items():
            needed = max(required, 1)
            if len(approvals) >= needed:
                reached = approvals[needed - 1].at
                if best is None or reached >= best[0]:
                    best = (reached, revision)
        return None if best is None else best[1]

    def forget_superseded(self, environment: str, application: str, keep: Iterable[str]) -> int:
        """Drop the approvals of every revision of `application` in `environment` not in `keep` (typically the
        revision being enforced and the one waiting for approval); the number of revisions dropped."""
        kept = set(keep)
        revisions = self._book.get(environment, {}).get(application)
        if not revisions:
            return 0
        dropped = [revision for revision in revisions if revision not in kept]
        for revision in dropped:
            del revisions[revision]
        if not revisions:
            del self._book[environment][application]
            if not self._book[environment]:
                del self._book[environment]
        if dropped:
            self._save()
        return len(dropped)

    def _load(self) -> dict[str, dict[str, dict[str, list[Approval]]]]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            return _parse(json.loads(data.decode("utf-8")))
        except (UnicodeDecodeError, ValueError) as exc:
            aside = self._set_aside()
            log.warning(f"event=approvals_file_corrupt file={json.dumps(str(self.path))} "
                        f"set_aside={json.dumps(str(aside))} error={json.dumps(str(exc))} "
                        "action=\"starting with no approvals; repair the file and move it back to restore them\"")
            return {}

    def _set_aside(self) -> Path:
        aside = self.path.with_name(self.path.name + ".corrupt")
        number = 0
        while aside.exists():
            number += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt.{number}")
        self.path.rename(aside)
        return aside

    def _save(self) -> None:
        document = {"version": VERSION, "approvals": {
            environment: {application: {revision: [{"approver": entry.approver, "at": entry.at.isoformat()}
                                                   for entry in approvals]
                                        for revision, approvals in revisions.items()}
                          for application, revisions in applications.items()}
            for environment, applications in self._book.items()}}
        atomic_write(self.path, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode(), fsync=self.fsync)


def _check_names(environment: str, application: str, revision: str) -> tuple[str, str, str]:
    for what, value in (("environment", environment), ("application", application), ("revision", revision)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"an approval needs a non-empty {what}, got {value!r}")
    return environment, application, revision


def _parse(document: object) -> dict[str, dict[str, dict[str, list[Approval]]]]:
    """The book in a loaded JSON document; ValueError saying what is wrong with its shape."""
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise ValueError(f"expected an object with \"version\": {VERSION}")
    book: dict[str, dict[str, dict[str, list[Approval]]]] = {}
    for environment, applications in _mapping(document.get("approvals"), "approvals").items():
        for application, revisions in _mapping(applications, f"approvals.{environment}").items():
            for revision, entries in _mapping(revisions, f"approvals.{environment}.{application}").items():
                where = f"approvals.{environment}.{application}.{revision}"
                if not isinstance(entries, list):
                    raise ValueError(f"{where}: expected a list of approvals")
                approvals: list[Approval] = []
                for index, entry in enumerate(entries):
                    approval = _approval(entry, f"{where}[{index}]")
                    if all(seen.approver.casefold() != approval.approver.casefold() for seen in approvals):
                        approvals.append(approval)
                book.setdefault(environment, {}).setdefault(application, {})[revision] = approvals
    return book


def _mapping(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object")
    return value


def _approval(entry: object, where: str) -> Approval:
    if not isinstance(entry, dict) or not isinstance(entry.get("approver"), str) or not entry["approver"].strip():
        raise ValueError(f"{where}: expected {{\"approver\": name, \"at\": time}}")
    try:
        at = datetime.fromisoformat(entry.get("at"))
    except (TypeError, ValueError):
        raise ValueError(f"{where}.at: expected an ISO 8601 time, found {entry.get('at')!r}") from None
    if at.tzinfo is None:
        raise ValueError(f"{where}.at: the time {entry['at']!r} has no time zone")
    return Approval(entry["approver"], at)
