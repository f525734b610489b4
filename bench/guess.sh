#!/usr/bin/env bash
# Password guessing rate per client address, before and after the
# throttle: builds the current tree and BEFORE (a git commit, default the
# last one without the throttle: f2d2fb0), then guesses alice's password
# over HTTP login and RTMP phone connects from 127.0.0.1 for DURATION per
# phase (default 10s) with 8 concurrent guessers, on the embedded defaults
# (demo users, plaintext) and, for the current tree, with alice hashed.
#   bench/guess.sh [BEFORE] [-duration 10s] [-workers 8]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
before=${1:-f2d2fb0}
[[ $# -gt 0 ]] && shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p bin
go build -o bin/flashvox ./cmd/flashvox
go build -o bin/bench-guess ./bench/guess
git archive "$before" | tar -x -C "$work"
(cd "$work" && go build -o "$work/flashvox-before" ./cmd/flashvox)
printf 'correct horse battery staple\n' | bin/flashvox passwd --user alice >"$work/alice.yaml"
printf 'users:\n  %s\n  - {name: bob, password: bob}\n' "$(cat "$work/alice.yaml")" >"$work/hashed.yaml"
timeout 600 bin/bench-guess -flashvox "$work/flashvox-before" -label "before" "$@"
timeout 600 bin/bench-guess -flashvox bin/flashvox -label "after" "$@"
timeout 600 bin/bench-guess -flashvox bin/flashvox -label "after/hash" -config "$work/hashed.yaml" "$@"
