"""Generated wire stubs (messages, the FleetHub service, type stubs) from proto/fleetline/v1/fleet.proto.

Never edited by hand: `make proto` regenerates them and tests/test_wire_stubs.py fails when they are stale.
"""
