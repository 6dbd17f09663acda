"""The approvals of production changes: who approved which revision of which application in which environment.

Approvals belong to one (environment, application, revision): a newer revision needs approvals of its own. An
approval may be given for one region's clusters only (`region`; "" is the whole environment): it counts for
that region's clusters alone. Approvals are counted per distinct approver (compared without regard to case, so
"Alice" and "alice" are one person); a second approval by the same person changes nothing.

There is one book: the hub's store (the `approvals` table of hub.store). `ApprovalBook` writes every approval
there before it counts, and keeps the same approvals in memory so that the gates can ask on every tick without
a query. Hubs before the store kept approvals in a JSON file (`<data-dir>/pipeline/approvals.json`);
`ApprovalBook.open(store, legacy=...)` moves such a file's approvals into the store once, then renames the file
`approvals.json.migrated` (kept for reference, never read again). A legacy file that cannot be read is renamed
`approvals.json.corrupt` with a warning, and nothing of it is imported.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hub.store import ApprovalRecord, AsyncStore, Store
from hub.store.timefmt import parse_time, rfc3339

log = logging.getLogger(__name__)

LEGACY_VERSION = 1
MIGRATED_SUFFIX = ".migrated"


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


_Book = dict[tuple[str, str], dict[str, dict[str, list[Approval]]]]  # (environment, region) -> app -> rev -> list


class ApprovalBook:
    """The approvals, written to `store` (None: kept in memory only) and counted from memory; see the module
    docstring. Make it with `await ApprovalBook.open(store)` to read what the store holds."""

    def __init__(self, store: AsyncStore | None = None) -> None:
        self.store = store
        self._book: _Book = {}

    @classmethod
    async def open(cls, store: AsyncStore, legacy: str | Path | None = None) -> ApprovalBook:
        """The book of `store`, after moving the approvals of a legacy JSON file `legacy` (if there is one) into
        it."""
        if legacy is not None:
            await migrate_legacy_file(store, Path(legacy))
        book = cls(store)
        for record in await store.call(lambda s: s.approvals()):
            try:
                at = parse_time(record.at)
            except ValueError:
                log.warning(f"event=approval_time_unreadable environment={record.environment} "
                            f"app={record.application} revision={record.revision} at={json.dumps(record.at)}")
                continue
            book._remember(record.environment, record.region, record.application, record.revision,
                           Approval(record.approver, at))
        return book

    async def approve(self, environment: str, application: str, revision: str, approver: str, now: datetime, *,
                      required: int = 0, region: str = "") -> ApprovalState:
        """Record `approver`'s approval of `revision` (for `region`'s clusters only, when given), durably in the
        store first, and return the revision's state against `required`.

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
        if not self._has(names, region, who):
            if self.store is not None:
                await self.store.add_approval(ApprovalRecord(names[0], names[1], names[2], who, rfc3339(now),
                                                             region))
            if not self._has(names, region, who):  # another call may have added it while the store wrote
                self._remember(names[0], region, names[1], names[2], Approval(who, now))
        if region:  # what counts for that region's clusters: the environment's approvals and the region's
            return self.state_for(names[0], region, names[1], names[2], required)
        return self.state(*names, required=required)

    def state(self, environment: str, application: str, revision: str, required: int = 0,
              region: str = "") -> ApprovalState:
        """The approvals `revision` has in `environment` for `application` (those given for `region` only, when
        a region is named), against `required` approvals."""
        if required < 0:
            raise ValueError(f"required approvals must be 0 or more, got {required}")
        approvals = list(self._book.get((environment, region), {}).get(application, {}).get(revision, []))
        approvers = [entry.approver for entry in approvals]
        return ApprovalState(approvers=approvers, required=required, satisfied=len(approvers) >= required,
                             approvals=approvals)

    def state_for(self, environment: str, region: str, application: str, revision: str,
                  required: int = 0) -> ApprovalState:
        """The approvals that count for a cluster of `region`: the whole environment's and its region's, each
        person once."""
        whole = self.state(environment, application, revision, required)
        approvals = list(whole.approvals)
        if region:
            for entry in self.state(environment, application, revision, required, region=region).approvals:
                if all(entry.approver.casefold() != known.approver.casefold() for known in approvals):
                    approvals.append(entry)
        approvers = [entry.approver for entry in approvals]
        return ApprovalState(approvers=approvers, required=required, satisfied=len(approvers) >= required,
                             approvals=approvals)

    def revisions(self, environment: str, application: str, region: str = "") -> list[str]:
        """The revisions of `application` in `environment` that have approvals, in the order first approved."""
        revisions = self._book.get((environment, region), {}).get(application, {})
        return sorted(revisions, key=lambda revision: revisions[revision][0].at)

    def last_approved(self, environment: str, application: str, required: int, region: str = "") -> str | None:
        """The revision that most recently reached `required` distinct approvals (at least one), or None.

        What a gated application keeps enforcing while a newer revision waits for its approvals."""
        best: tuple[datetime, str] | None = None
        for revision, approvals in self._book.get((environment, region), {}).get(application, {}).items():
            needed = max(required, 1)
            if len(approvals) >= needed:
                reached = approvals[needed - 1].at
                if best is None or reached >= best[0]:
                    best = (reached, revision)
        return None if best is None else best[1]

    async def forget_superseded(self, environment: str, application: str, keep: Iterable[str],
                                region: str = "") -> int:
        """Drop the approvals of every revision of `application` in `environment` (and `region`) not in `keep`
        (typically the revision being enforced and the one waiting for approval), from the store and the book;
        the number of revisions dropped."""
        kept = set(keep)
        revisions = self._book.get((environment, region), {}).get(application)
        if not revisions:
            return 0
        dropped = [revision for revision in revisions if revision not in kept]
        if dropped and self.store is not None:
            await self.store.remove_approvals(environment, application, dropped, region)
        for revision in dropped:
            revisions.pop(revision, None)
        if not revisions:
            applications = self._book[(environment, region)]
            applications.pop(application, None)
            if not applications:
                del self._book[(environment, region)]
        return len(dropped)

    def _has(self, names: tuple[str, str, str], region: str, who: str) -> bool:
        approvals = self._book.get((names[0], region), {}).get(names[1], {}).get(names[2], [])
        return any(entry.approver.casefold() == who.casefold() for entry in approvals)

    def _remember(self, environment: str, region: str, application: str, revision: str, approval: Approval) -> None:
        approvals = self._book.setdefault((environment, region), {}).setdefault(application, {}).setdefault(
            revision, [])
        if all(entry.approver.casefold() != approval.approver.casefold() for entry in approvals):
            approvals.append(approval)


async def migrate_legacy_file(store: AsyncStore, path: Path) -> int:
    """Move the approvals of an earlier hub's JSON file into `store` once: import them (an approval the store
    already holds is kept as it is), then rename the file `<name>.migrated`. A file that cannot be read is
    renamed `<name>.corrupt` with a warning. The number of approvals imported; 0 when there is no file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    try:
        records = _parse_legacy(json.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, ValueError) as exc:
        aside = _set_aside(path, ".corrupt")
        log.warning(f"event=approvals_file_corrupt file={json.dumps(str(path))} set_aside={json.dumps(str(aside))} "
                    f"error={json.dumps(str(exc))} action=\"nothing imported into the store; repair the file and "
                    "move it back to import its approvals at the next start\"")
        return 0

    def add_all(s: Store) -> int:
        return sum(bool(s.add_approval(record)) for record in records)

    added = await store.call(add_all)
    moved = _set_aside(path, MIGRATED_SUFFIX)
    log.info(f"event=approvals_file_migrated file={json.dumps(str(path))} approvals={len(records)} added={added} "
             f"store={json.dumps(store.store.where)} moved_to={json.dumps(str(moved))}")
    return added


def _set_aside(path: Path, suffix: str) -> Path:
    aside = path.with_name(path.name + suffix)
    number = 0
    while aside.exists():
        number += 1
        aside = path.with_name(f"{path.name}{suffix}.{number}")
    path.rename(aside)
    return aside


def _check_names(environment: str, application: str, revision: str) -> tuple[str, str, str]:
    for what, value in (("environment", environment), ("application", application), ("revision", revision)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"an approval needs a non-empty {what}, got {value!r}")
    return environment, application, revision


def _parse_legacy(document: object) -> list[ApprovalRecord]:
    """The approvals of a legacy file's JSON document, in file order (an environment key `env@region` held the
    approvals given for one region); ValueError saying what is wrong with its shape."""
    if not isinstance(document, dict) or document.get("version") != LEGACY_VERSION:
        raise ValueError(f"expected an object with \"version\": {LEGACY_VERSION}")
    records: list[ApprovalRecord] = []
    for book, applications in _mapping(document.get("approvals"), "approvals").items():
        environment, _, region = str(book).partition("@")
        for application, revisions in _mapping(applications, f"approvals.{book}").items():
            for revision, entries in _mapping(revisions, f"approvals.{book}.{application}").items():
                where = f"approvals.{book}.{application}.{revision}"
                if not isinstance(entries, list):
                    raise ValueError(f"{where}: expected a list of approvals")
                for index, entry in enumerate(entries):
                    who, at = _legacy_approval(entry, f"{where}[{index}]")
                    records.append(ApprovalRecord(environment, application, revision, who, rfc3339(at), region))
    return records


def _mapping(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object")
    return value


def _legacy_approval(entry: object, where: str) -> tuple[str, datetime]:
    if not isinstance(entry, dict) or not isinstance(entry.get("approver"), str) or not entry["approver"].strip():
        raise ValueError(f"{where}: expected {{\"approver\": name, \"at\": time}}")
    try:
        at = datetime.fromisoformat(entry.get("at"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{where}.at: expected an ISO 8601 time, found {entry.get('at')!r}") from None
    if at.tzinfo is None:
        raise ValueError(f"{where}.at: the time {entry['at']!r} has no time zone")
    return entry["approver"].strip(), at
