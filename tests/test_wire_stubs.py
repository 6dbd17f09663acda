"""The wire stubs in fleetline/wire/ are what `make proto` generates from proto/fleetline/v1/fleet.proto."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_committed_stubs_match_the_proto(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("gen_proto", ROOT / "scripts" / "gen_proto.py")
    assert spec is not None and spec.loader is not None
    gen_proto = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_proto)
    stale = [path.name for path in gen_proto.generate(tmp_path)
             if path.read_bytes() != (ROOT / "fleetline" / "wire" / path.name).read_bytes()]
    assert not stale, f"fleetline/wire/{', '.join(stale)} differ from proto/fleetline/v1/fleet.proto: run `make proto`"


def test_stubs_import_and_round_trip() -> None:
    from fleetline.wire import fleet_pb2, fleet_pb2_grpc

    hello = fleet_pb2.AgentMessage(hello=fleet_pb2.Hello(cluster="eu-west-1", protocol=fleet_pb2.ProtocolVersion(
        major=1, minor=0), applied_generation=7))
    again = fleet_pb2.AgentMessage.FromString(hello.SerializeToString())
    assert again.WhichOneof("body") == "hello" and again.hello.cluster == "eu-west-1"
    assert hasattr(fleet_pb2_grpc, "FleetHubStub") and hasattr(fleet_pb2_grpc, "FleetHubServicer")
