#!/usr/bin/env bash
# Runs every Go fuzz target in the module for the given time (default 30s).
# A target that fails only with "context deadline exceeded" (the Go fuzzer
# sometimes reports its own shutdown at -fuzztime as a failure, writing no
# failing input) is run once more; a real finding writes its input under
# testdata/fuzz and fails.
set -euo pipefail
t=${1:-30s}
cd "$(dirname "$0")/.."
status=0
run() { go test -run '^$' -fuzz "^$2\$" -fuzztime "$t" "$1" 2>&1; }
while read -r file; do
	pkg=./$(dirname "$file")
	for f in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/'); do
		echo "fuzz $pkg $f for $t"
		if out=$(run "$pkg" "$f"); then
			echo "$out" | tail -1
			continue
		fi
		echo "$out" | tail -20
		if grep -q "context deadline exceeded" <<<"$out" && ! grep -q "Failing input written" <<<"$out"; then
			echo "fuzz $pkg $f: the fuzzer's own deadline, not a finding; running it once more"
			if out=$(run "$pkg" "$f"); then
				echo "$out" | tail -1
				continue
			fi
			echo "$out" | tail -20
		fi
		echo "FAIL fuzz $pkg $f"
		status=1
	done
done < <(grep -rlE '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' --include='*_test.go' . | sort)
exit $status
