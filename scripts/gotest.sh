#!/usr/bin/env bash
# gotest.sh NAME GO-TEST-ARGS... runs go test with the arguments, keeps its
# whole output in bin/test-logs/NAME.log and, when it fails, ends with a
# digest of what failed: every "--- FAIL" line and every message a test
# reported (file_test.go:LINE: …). The suites that run whole processes log
# pages of the processes' output on failure; CI shows the end of the log,
# so the reason has to be there.
set -uo pipefail
name=$1
shift
mkdir -p bin/test-logs
log="bin/test-logs/$name.log"
go test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  printf '\n== %s failed (exit %d); what the tests reported (whole output: %s):\n' "$name" "$status" "$log"
  grep -E '^\s*(--- FAIL|panic:|FAIL\s|[A-Za-z0-9_]+_test\.go:[0-9]+: )' "$log" | cut -c1-400 | tail -n 60
fi
exit "$status"
