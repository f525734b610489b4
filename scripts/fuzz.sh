#!/usr/bin/env bash
# Runs every Go fuzz target in the module for the given time (default 30s).
set -euo pipefail
t=${1:-30s}
cd "$(dirname "$0")/.."
status=0
while read -r file; do
	pkg=./$(dirname "$file")
	for f in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/'); do
		echo "fuzz $pkg $f for $t"
		if ! go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg"; then
			echo "FAIL fuzz $pkg $f"
			status=1
		fi
	done
done < <(grep -rlE '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' --include='*_test.go' . | sort)
exit $status
