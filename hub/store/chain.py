"""The audit log's hash chain: how an entry is hashed, and `verify`, which walks the whole chain.

Each entry's `hash` is `sha256:<hex>` of `fleetline.identity.canonical_json` of all its other fields:

    {"actor", "application", "at", "cluster", "data", "environment", "kind", "prev_hash", "region", "revision",
     "seq"}

`prev_hash` is the previous entry's `hash` (`GENESIS`, 64 zeros, for entry 1), and `seq` counts from 1 without
gaps. `encode` builds that canonical text field by field, splicing in the stored `data_json` (itself canonical
JSON), which gives the same bytes as canonical_json of the whole map without parsing `data` again; a test holds
the two equal.

`verify` reads the entries in `seq` order, one at a time (constant memory), and stops at the first one that does
not hold, naming it: a seq gap (deleted entries), content that does not match its hash (changed after it was
written), a link that does not match the previous entry's hash (the previous entry was changed and its hash
recomputed), or an end that disagrees with the head the store keeps beside the log (entries removed from, or
added to, the end). A chain rewritten wholesale from some entry on, hashes and head included, still verifies:
only a hash kept elsewhere (each report prints the last hash it covers) proves that; `expect` checks one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from hub.store.base import Store
from hub.store.records import AuditEntry

GENESIS = "sha256:" + "0" * 64
_dump = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def encode(seq: int, at: str, kind: str, region: str, environment: str, cluster: str, application: str,
           actor: str, revision: str, data_json: str, prev_hash: str) -> bytes:
    """The canonical JSON of an entry's fields but `hash` (keys sorted, no whitespace, UTF-8)."""
    return "".join((
        '{"actor":', _dump(actor), ',"application":', _dump(application), ',"at":', _dump(at),
        ',"cluster":', _dump(cluster), ',"data":', data_json, ',"environment":', _dump(environment),
        ',"kind":', _dump(kind), ',"prev_hash":', _dump(prev_hash), ',"region":', _dump(region),
        ',"revision":', _dump(revision), ',"seq":', str(int(seq)), "}")).encode("utf-8")


def entry_hash(seq: int, at: str, kind: str, region: str, environment: str, cluster: str, application: str,
               actor: str, revision: str, data_json: str, prev_hash: str) -> str:
    """`sha256:<hex>` of `encode(...)`."""
    return "sha256:" + hashlib.sha256(encode(seq, at, kind, region, environment, cluster, application, actor,
                                             revision, data_json, prev_hash)).hexdigest()


def hash_of(entry: AuditEntry) -> str:
    """The hash `entry`'s content should have (compare with `entry.hash`)."""
    return entry_hash(entry.seq, entry.at, entry.kind, entry.region, entry.environment, entry.cluster,
                      entry.application, entry.actor, entry.revision, entry.data_json, entry.prev_hash)


@dataclass(frozen=True)
class VerifyResult:
    """The chain's verdict. `entries`: how many entries hold, from the first; `last_seq`/`last_hash`: the last of
    those (0 and GENESIS when none); `first_broken`: the seq of the first entry that does not hold (None when
    the chain holds); `reason`: a sentence saying what is wrong (or what was checked)."""

    ok: bool
    entries: int
    last_seq: int
    last_hash: str
    first_broken: int | None
    reason: str

    def to_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "last_seq": self.last_seq, "last_hash": self.last_hash,
                "first_broken": self.first_broken, "reason": self.reason}


def verify(store: Store, expect: tuple[int, str] | None = None) -> VerifyResult:
    """Verify the whole audit log of `store` (one consistent snapshot, streamed); see the module docstring."""
    with store.snapshot():
        return verify_entries(store.audit_entries(), store.audit_head(), expect)


def verify_entries(entries: Iterable[AuditEntry], head: tuple[int, str] | None = None,
                   expect: tuple[int, str] | None = None) -> VerifyResult:
    """Walk `entries` (in seq order) as the module docstring says; `head` is the (seq, hash) the store recorded as
    its last append (None: not kept), `expect` a (seq, hash) known from elsewhere that must be in the chain."""
    count, last_seq, last_hash = 0, 0, GENESIS
    before_last = GENESIS  # the hash of the entry before the last one that held
    hash_at_head = before_head = GENESIS  # the hash of the entry the head names, and of the one before it
    expect_seen = False

    def broken(seq: int, reason: str, held: int | None = None, held_hash: str | None = None) -> VerifyResult:
        held = count if held is None else held
        return VerifyResult(False, held, held, last_hash if held_hash is None else held_hash, seq, reason)

    for entry in entries:
        seq = entry.seq
        if seq != last_seq + 1:
            missing = f"entry {last_seq + 1} is" if seq == last_seq + 2 else f"entries {last_seq + 1} to {seq - 1} are"
            return broken(last_seq + 1, f"{missing} missing: the log jumps from entry {last_seq} to {seq} "
                                        "(deleted, or renumbered)")
        if hash_of(entry) != entry.hash:
            return broken(seq, f"entry {seq} ({entry.kind} at {entry.at}) was changed after it was written: its "
                               "content does not match its hash")
        if entry.prev_hash != last_hash:
            if seq == 1:
                return broken(1, f"entry 1 ({entry.kind} at {entry.at}) was changed and its hash recomputed: it "
                                 f"links to {entry.prev_hash}, not to the start of the chain")
            return broken(seq - 1, f"entry {seq - 1} was changed and its hash recomputed: it now hashes to "
                                   f"{last_hash}, but entry {seq} recorded {entry.prev_hash}",
                          count - 1, before_last)
        if expect is not None and seq == expect[0]:
            if entry.hash != expect[1]:
                return broken(seq, f"entry {seq} has hash {entry.hash}, not the expected {expect[1]}: the chain was "
                                   f"rewritten from entry {seq} or earlier")
            expect_seen = True
        count, last_seq, last_hash, before_last = count + 1, seq, entry.hash, entry.prev_hash
        if head is not None and seq == head[0]:
            hash_at_head, before_head = entry.hash, entry.prev_hash
    if head is not None:
        head_seq, head_hash = head
        if head_seq > last_seq:
            missing = f"entry {head_seq} is" if head_seq == last_seq + 1 else \
                f"entries {last_seq + 1} to {head_seq} are"
            return broken(last_seq + 1, f"{missing} missing: the log ends at entry {last_seq} but the store "
                                        f"recorded entry {head_seq} as its last (deleted from the end)")
        if hash_at_head != head_hash:
            return broken(head_seq, f"entry {head_seq} was changed and its hash recomputed: it hashes to "
                                    f"{hash_at_head}, but the store recorded {head_hash} when it was appended",
                          head_seq - 1, before_head)
        if head_seq < last_seq:
            return broken(head_seq + 1, f"entries {head_seq + 1} to {last_seq} were not appended by the store: its "
                                        f"last append was entry {head_seq} (added behind its back)",
                          head_seq, hash_at_head)
    if expect is not None and not expect_seen:
        return broken(expect[0], f"entry {expect[0]} (expected hash {expect[1]}) is not in the log, which ends at "
                                 f"entry {last_seq}")
    if count == 0:
        return VerifyResult(True, 0, 0, GENESIS, None, "the audit log is empty")
    return VerifyResult(True, count, last_seq, last_hash, None,
                        f"all {count:,} entries hold: every hash matches its content and links to the one before")
