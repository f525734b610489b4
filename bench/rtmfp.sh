#!/usr/bin/env bash
# Builds flashvox, rtmfp-cpp's tools (once, into the user cache) and the RTMFP
# benchmark, then runs it: flashvox and tcserver side by side (handshakes/s,
# CPU for 200 players of one voice stream, memory per idle session).
# Extra arguments go to the benchmark, e.g. bench/rtmfp.sh -players 100 -window 10s
# Needs Go, ffmpeg, g++ make libssl-dev (apt-get install -y ffmpeg g++ make libssl-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
tools="${FLASHVOX_RTMFP_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/flashvox/rtmfp-tools}"
command -v ffmpeg >/dev/null || { echo "ffmpeg is missing: apt-get install -y ffmpeg" >&2; exit 1; }
internal/test/testpeer/rtmfp/rtmfp-tools.sh "$tools"
mkdir -p bin
go build -o bin/flashvox ./cmd/flashvox
go build -o bin/bench-rtmfp ./bench/rtmfp
exec timeout 300 bin/bench-rtmfp -flashvox bin/flashvox -tools "$tools" "$@"
