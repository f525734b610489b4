#!/usr/bin/env bash
# Runs every Go fuzz target in the module for the given time (default 30s),
# FUZZJOBS targets at a time (default: the number of CPUs), each with one
# fuzzing worker: on 2 cores two targets side by side take half the wall
# time of one target with two workers, for the same fuzzing per target.
# A target that fails only with "context deadline exceeded" (the Go fuzzer
# sometimes reports its own shutdown at -fuzztime as a failure, writing no
# failing input) is run once more; a real finding writes its input under
# testdata/fuzz and fails.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --one ]; then
	# fuzz.sh --one TIME PKG TARGET: one target, its output in one block.
	t=$2 pkg=$3 f=$4
	run() { go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" -parallel 1 "$pkg" 2>&1; }
	if out=$(run); then
		echo "fuzz $pkg $f for $t: $(echo "$out" | tail -1)"
		exit 0
	fi
	if grep -q "context deadline exceeded" <<<"$out" && ! grep -q "Failing input written" <<<"$out"; then
		echo "fuzz $pkg $f: the fuzzer's own deadline, not a finding; running it once more"
		if out=$(run); then
			echo "fuzz $pkg $f for $t: $(echo "$out" | tail -1)"
			exit 0
		fi
	fi
	echo "$out" | tail -20
	echo "FAIL fuzz $pkg $f"
	exit 1
fi

t=${1:-30s}
jobs=${FUZZJOBS:-$(nproc)}
grep -rlE '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' --include='*_test.go' . | sort | while read -r file; do
	for f in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/'); do
		echo "$(dirname "$file") $f"
	done
done | xargs -P "$jobs" -L 1 "$0" --one "$t"
