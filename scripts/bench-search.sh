#!/usr/bin/env bash
# Search at scale on the embedded default: `emporium seed --products N`
# (generated, deterministic, with variants) into SQLite and the Bleve index,
# a full `emporium reindex` of the same catalog, then SearchProducts through
# `serve --services=product` with wrk: a two-word query with a typo in each
# word and facets, first with one connection (latency), then with 8
# (throughput), reporting latencies and the server's CPU time per search
# (from /proc, the figure to compare on a shared machine) with the load
# average. Writes its section of docs/benchmarks.md (between the
# bench-search markers; the rest of the file is kept).
#
#   bash scripts/bench-search.sh           100,000 products, 10 s per run (go tool task bench-search)
#   bash scripts/bench-search.sh --smoke   2,000 products, 2 s per run; writes bin/bench-search-smoke.md
#
# Environment (all optional):
#   BENCH_PRODUCTS   products to generate (default 100000; --smoke: 2000)
#   BENCH_DURATION   seconds per measured run (default 10; --smoke: 2)
#   BENCH_OUTPUT     where the report goes (default docs/benchmarks.md; --smoke: bin/bench-search-smoke.md)
#
# The catalog lives in a temporary directory removed at the end; every
# process the script starts is stopped when it exits, however it exits. Any
# non-2xx answer or socket error fails the script (exit 1), and docs/ is
# then left untouched.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { awk 'NR == 1 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "$0"; }
log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench-search.sh: %s\n' "$*" >&2; exit 1; }

smoke=0
case "${1:-}" in
  --smoke) smoke=1 ;;
  -h | --help) usage; exit 0 ;;
  "") ;;
  *) usage >&2; exit 2 ;;
esac
products=${BENCH_PRODUCTS:-$([ $smoke = 1 ] && echo 2000 || echo 100000)}
duration=${BENCH_DURATION:-$([ $smoke = 1 ] && echo 2 || echo 10)}
out=${BENCH_OUTPUT:-$([ $smoke = 1 ] && echo bin/bench-search-smoke.md || echo docs/benchmarks.md)}
bin=bin/emporium
[ -x "$bin" ] || die "$bin is missing: run go tool task build first"
if ! command -v wrk >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  log "installing wrk (apt-get)"
  apt-get install -y -q -o DPkg::Lock::Timeout=300 wrk >/dev/null ||
    { apt-get update -q >/dev/null && apt-get install -y -q -o DPkg::Lock::Timeout=300 wrk >/dev/null; } || true
fi
command -v wrk >/dev/null || die "wrk is not installed (Debian: apt-get install wrk)"
command -v curl >/dev/null || die "curl is not installed"

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# elapsed CMD…: runs CMD, its output to the terminal, and sets $took (seconds, 0.1 s).
elapsed() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
}

data="$work/data"
log "seeding $products products into SQLite and Bleve"
elapsed "$bin" seed --data-dir "$data" --products "$products" --log-level warn
seed_s=$took
log "reindexing them"
elapsed "$bin" reindex --data-dir "$data" --log-level warn
reindex_s=$took
index_mb=$(du -sm "$data/search" | cut -f1)

port=$(( 20000 + RANDOM % 10000 ))
log "serving the product service on 127.0.0.1:$port"
"$bin" serve --services product --listen "127.0.0.1:$port" --database-url "sqlite:$data/product.db" \
  --search-path "$data/search" --internal-token bench-search-internal --jwks-url "http://127.0.0.1:1/jwks.json" \
  --log-level warn >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || die "serve exited: $(cat "$work/serve.log")"
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || die "serve did not become healthy: $(cat "$work/serve.log")"

url="http://127.0.0.1:$port/emporium.product.v1.ProductService/SearchProducts"
# Two words, a typo in each ("waterproof jacket"), with the facets every
# search returns (category, brand, price band) and a page of 24.
body='{"query":"waterprof jakcet","pageSize":24}'
answer=$(curl -fsS -H 'Content-Type: application/json' -d "$body" "$url") || die "SearchProducts failed"
hits=$(printf '%s' "$answer" | sed -n 's/.*"totalSize":"\{0,1\}\([0-9]*\).*/\1/p')
facets=$(printf '%s' "$answer" | grep -o '"facets"' | wc -l)
[ -n "$hits" ] && [ "$hits" -gt 0 ] || die "the query found nothing: $answer"
[ "$facets" -gt 0 ] || die "the answer has no facets: $answer"
log "\"waterprof jakcet\" finds $hits products"

# cpu_ticks: user + system CPU time of the server so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)

declare -A p50 p99 rps cpu
for conns in 1 8; do
  threads=$(( conns < 2 ? 1 : 2 ))
  WRK_METHOD=POST WRK_BODY="$body" wrk -t"$threads" -c"$conns" -d1s --timeout 5s -s bench/wrk/report.lua "$url" >/dev/null
  ticks0=$(cpu_ticks)
  WRK_METHOD=POST WRK_BODY="$body" wrk -t"$threads" -c"$conns" -d"${duration}s" --timeout 5s --latency \
    -s bench/wrk/report.lua "$url" >"$work/wrk.out" || die "wrk failed: $(cat "$work/wrk.out")"
  ticks1=$(cpu_ticks)
  line=$(grep '^BENCH ' "$work/wrk.out") || die "no summary from wrk"
  get() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  errs=$(( $(get err_status) + $(get err_connect) + $(get err_read) + $(get err_write) + $(get err_timeout) ))
  [ "$errs" = 0 ] || die "$conns connections: $errs errors: $line"
  p50[$conns]=$(awk -v u="$(get p50_us)" 'BEGIN { printf "%.1f", u / 1000 }')
  p99[$conns]=$(awk -v u="$(get p99_us)" 'BEGIN { printf "%.1f", u / 1000 }')
  rps[$conns]=$(awk -v n="$(get requests)" -v d="$(get duration_us)" 'BEGIN { printf "%.0f", n / (d / 1e6) }')
  # The server's CPU time per search: what a search costs, whatever else
  # runs on the machine (latency is not; see the load average).
  cpu[$conns]=$(awk -v t=$(( ticks1 - ticks0 )) -v hz="$hz" -v n="$(get requests)" 'BEGIN { printf "%.1f", t / hz * 1000 / n }')
  log "$conns connection(s): p50 ${p50[$conns]} ms, p99 ${p99[$conns]} ms, ${rps[$conns]} req/s, ${cpu[$conns]} ms CPU/search"
done

load=$(uptime | sed 's/.*load average: //')
verdict() { awk -v v="$1" -v aim="$2" 'BEGIN { print (v + 0 <= aim + 0) ? "met" : "**not met**" }'; }
start='<!-- bench-search:start — scripts/bench-search.sh rewrites this section; the rest of the file is kept. -->'
end='<!-- bench-search:end -->'
section="$work/section.md"
{
  echo "$start"
  echo "## Search at scale: $products products on Bleve ($(date -u '+%Y-%m-%d %H:%M') UTC)"
  echo
  echo "Written by \`go tool task bench-search\` (scripts/bench-search.sh) on $(nproc) cores, $(go version | cut -d' ' -f3), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)."
  echo "The catalog: \`emporium seed --products $products\` (generated, deterministic, with variants) into SQLite and the"
  echo "Bleve index ($index_mb MB on disk); the query: SearchProducts \`$body\` over Connect JSON (two words, a typo in each,"
  echo "with the category, brand and price facets every search answers; it finds $hits products), against"
  echo "\`serve --services=product\`, closed loop, after 1 s of warm-up, ${duration} s per run. Load average at the end"
  echo "(\`uptime\`, 1/5/15 min): $load; on a machine busy with other work the latencies grow, the CPU per search much less."
  echo
  echo "| measure | result | aim | |"
  echo "|---|---:|---:|---|"
  echo "| seed (database + index, one pass) | ${seed_s} s ($(awk -v n="$products" -v s="$seed_s" 'BEGIN { printf "%.0f", n / s }') products/s) | | |"
  echo "| full \`emporium reindex\` (progress bar) | ${reindex_s} s ($(awk -v n="$products" -v s="$reindex_s" 'BEGIN { printf "%.0f", n / s }') products/s) | under 120 s | $(verdict "$reindex_s" 120) |"
  echo "| server CPU per search (user + system), 1 / 8 connections | ${cpu[1]} / ${cpu[8]} ms | | |"
  echo "| SearchProducts p50, 1 connection | ${p50[1]} ms | under 10 ms | $(verdict "${p50[1]}" 10) |"
  echo "| SearchProducts p99, 1 connection | ${p99[1]} ms | under 50 ms | $(verdict "${p99[1]}" 50) |"
  echo "| SearchProducts, 8 connections | ${rps[8]} req/s, p50 ${p50[8]} ms, p99 ${p99[8]} ms | | |"
  echo
  echo "Commands: \`emporium seed --data-dir D --products $products\`, \`emporium reindex --data-dir D\`, and"
  echo "\`WRK_METHOD=POST WRK_BODY='$body' wrk -t1 -c1 -d${duration}s --latency -s bench/wrk/report.lua http://127.0.0.1:P/emporium.product.v1.ProductService/SearchProducts\`"
  echo "(then -t2 -c8)."
  echo "$end"
} >"$section"

mkdir -p "$(dirname "$out")"
if [ -f "$out" ] && grep -qF "$start" "$out"; then
  awk -v s="$start" -v e="$end" -v f="$section" '
    $0 == s { while ((getline l < f) > 0) print l; skip = 1; next }
    $0 == e { skip = 0; next }
    !skip { print }' "$out" >"$work/out.md"
else
  { [ -f "$out" ] && cat "$out" && echo; cat "$section"; } >"$work/out.md"
fi
cp "$work/out.md" "$out"
log "wrote $out"
