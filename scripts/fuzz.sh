#!/usr/bin/env bash
# Runs every Go fuzz target (func FuzzXxx in a _test.go file) for a while,
# one after another: `go test -fuzz` takes one target at a time.
#
#   scripts/fuzz.sh              each target for 60 s (go tool task fuzz)
#   scripts/fuzz.sh --smoke      each target for 3 s (inside go tool task test)
#   FUZZTIME=10m scripts/fuzz.sh a longer run
#   scripts/fuzz.sh ./svc/product   only the targets under these packages
#
# A failure stops the run and leaves the failing input in the package's
# testdata/fuzz/<Target>/ directory: commit it as a seed with the fix, so
# plain `go test` checks it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZTIME:-60s}"
if [[ "${1:-}" == "--smoke" ]]; then
  fuzztime="${FUZZTIME:-3s}"
  shift
fi
roots=("${@:-.}")

mapfile -t files < <(grep -rl --include='*_test.go' '^func Fuzz[A-Z0-9]' "${roots[@]}" | sort)
if [[ ${#files[@]} -eq 0 ]]; then
  echo "fuzz: no fuzz targets under ${roots[*]}" >&2
  exit 1
fi
n=0
start=$SECONDS
for f in "${files[@]}"; do
  pkg="./$(dirname "${f#./}")"
  for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
    n=$((n + 1))
    printf 'fuzz: %-40s %s for %s\n' "$target" "$pkg" "$fuzztime"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" | grep -Ev '^fuzz: elapsed' || {
      echo "fuzz: $target in $pkg failed; its input is in $pkg/testdata/fuzz/$target/" >&2
      exit 1
    }
  done
done
echo "fuzz: $n targets passed in $((SECONDS - start)) s"
