"""Generate the wire stubs in fleetline/wire/ from proto/fleetline/v1/fleet.proto (`make proto`).

Runs grpcio-tools' protoc (messages, gRPC service, type stubs) into DEST (default fleetline/wire), then makes
the service module import its messages from the package (protoc writes a top-level `import fleet_pb2`).
tests/test_wire_stubs.py regenerates into a temporary directory and fails when the committed stubs differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto" / "fleetline" / "v1"
GENERATED = ("fleet_pb2.py", "fleet_pb2.pyi", "fleet_pb2_grpc.py")


def generate(dest: Path) -> list[Path]:
    from grpc_tools import protoc

    dest.mkdir(parents=True, exist_ok=True)
    code = protoc.main(["protoc", f"-I{PROTO_DIR}", f"--python_out={dest}", f"--pyi_out={dest}",
                        f"--grpc_python_out={dest}", str(PROTO_DIR / "fleet.proto")])
    if code != 0:
        raise SystemExit(f"protoc failed with exit status {code}")
    service = dest / "fleet_pb2_grpc.py"
    text = service.read_text()
    package_import = "from fleetline.wire import fleet_pb2 as fleet__pb2"
    service.write_text(text.replace("import fleet_pb2 as fleet__pb2", package_import))
    return [dest / name for name in GENERATED]


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "fleetline" / "wire"
    for path in generate(target):
        print(f"generated {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
