#!/usr/bin/env bash
# Builds flashvox and the relay benchmark, then runs the default load
# (10 publishers × 10 subscribers, 20 s per server) against flashvox and
# nginx-rtmp side by side. Extra arguments go to the benchmark, e.g.
#   bench/relay.sh -p 20 -s 100 -duration 20s
#   bench/relay.sh -p 10 -s 30 -duration 15s -idle 0 -players -rounds 3
# The benchmark bounds itself (-timeout per round, 3 minutes by default);
# the outer timeout covers -rounds 10.
# Needs Go, nginx and libnginx-mod-rtmp (apt-get install -y nginx-light libnginx-mod-rtmp).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
mkdir -p bin
go build -o bin/flashvox ./cmd/flashvox
go build -o bin/bench-relay ./bench/relay
exec timeout 1900 bin/bench-relay -flashvox bin/flashvox "$@"
