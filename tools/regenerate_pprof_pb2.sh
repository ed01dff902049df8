#!/bin/sh
# Regenerate core/formats/pprof_profile_pb2.py(i) from pprof_profile.proto (google/pprof's
# proto/profile.proto, Apache-2.0, unchanged). protoc comes from grpcio-tools 1.74.0, whose
# generated code targets protobuf 6.31.1 -- the floor of the "protobuf" dependency in
# pyproject.toml (newer protoc output would demand a newer runtime).
set -eu
cd "$(dirname "$0")/../core/formats"
venv=$(mktemp -d)
python3 -m venv "$venv"
"$venv/bin/pip" install -q "grpcio-tools==1.74.0"
"$venv/bin/python" -m grpc_tools.protoc -I. --python_out=. --pyi_out=. pprof_profile.proto
rm -rf "$venv"
