"""DesiredStateCache: atomic, checksummed, and a corrupt file is discarded with a warning, never an exception."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agent.session.cache import DesiredStateCache
from fleetline.protocol import desired_state_hash
from fleetline.wire import fleet_pb2


def make_state(generation: int = 3) -> fleet_pb2.DesiredState:
    state = fleet_pb2.DesiredState(cluster="us-east-1", generation=generation, revision="abc123")
    state.applications.add(name="inference", namespace="ml", manifests_json=['{"kind": "Deployment"}'])
    state.content_hash = desired_state_hash(state)
    return state


def test_round_trip(tmp_path: Path) -> None:
    cache = DesiredStateCache(tmp_path / "cache")
    assert cache.load() is None
    state = make_state()
    cache.save(state)
    assert cache.load() == state
    newer = make_state(4)
    cache.save(newer)
    assert cache.load() == newer
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["desired-state.bin"]  # no temporary file left


def _corrupt_truncate(raw: bytes) -> bytes:
    return raw[: len(raw) - 5]


def _corrupt_flip(raw: bytes) -> bytes:
    data = bytearray(raw)
    data[-3] ^= 0xFF
    return bytes(data)


def _corrupt_garbage(raw: bytes) -> bytes:
    return b"\x00\xffnot a cache at all" * 10


def _corrupt_empty(raw: bytes) -> bytes:
    return b""


def _corrupt_header_only(raw: bytes) -> bytes:
    return raw[: raw.index(b"\n") + 1]


@pytest.mark.parametrize("corrupt", [_corrupt_truncate, _corrupt_flip, _corrupt_garbage, _corrupt_empty,
                                     _corrupt_header_only])
def test_corrupt_file_is_discarded_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                  corrupt) -> None:
    cache = DesiredStateCache(tmp_path)
    cache.save(make_state())
    cache.path.write_bytes(corrupt(cache.path.read_bytes()))
    with caplog.at_level(logging.WARNING, logger="agent.session.cache"):
        assert cache.load() is None
    assert "cache_discarded" in caplog.text
    assert not cache.path.exists()
    assert cache.path.with_name("desired-state.bin.corrupt").exists()
    # the agent carries on: the next save works and loads
    cache.save(make_state(5))
    assert cache.load().generation == 5


def test_payload_with_valid_checksum_but_not_protobuf_is_discarded(tmp_path: Path) -> None:
    import hashlib

    payload = b"\xff\xff\xff\xff"
    cache = DesiredStateCache(tmp_path)
    cache.path.write_bytes(b"fleetline-desired-state/v1 4 sha256:" + hashlib.sha256(payload).hexdigest().encode()
                           + b"\n" + payload)
    assert cache.load() is None


def test_failed_write_keeps_the_previous_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = DesiredStateCache(tmp_path)
    old = make_state(1)
    cache.save(old)

    def boom(src, dst):  # the crash happens before the rename
        raise OSError("disk full")

    monkeypatch.setattr("agent.session.cache.os.replace", boom)
    with pytest.raises(OSError):
        cache.save(make_state(2))
    monkeypatch.undo()
    assert cache.load() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desired-state.bin"]
