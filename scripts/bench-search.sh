#!/usr/bin/env bash
# Search at scale on the embedded default: `emporium seed --products N`
# (generated, deterministic, with variants) into SQLite and the Bleve index,
# a full `emporium reindex` of the same catalog, then SearchProducts through
# `serve --services=product` with wrk: a two-word query with a typo in each
# word and facets, first with one connection (latency), then with 8
# (throughput), reporting latencies and the server's CPU time per search
# (from /proc, the figure to compare on a shared machine) with the load
# average. Then, on the same catalog: ListProducts deep pages (category,
# price and in-stock filters, page 1 against page 1,000, and price and
# in-stock alone at 20 a page), the time `emporium dev` takes from exec to
# its first 200 from /healthz, and dev's memory (VmRSS, VmHWM) after a
# minute of mixed load through the edge (GetProduct, ListProducts,
# SearchProducts; bench/wrk/mixed.lua). Writes its section of
# docs/benchmarks.md (between the bench-search markers; the rest of the
# file is kept).
#
#   bash scripts/bench-search.sh           100,000 products, 10 s per run (go tool task bench-search)
#   bash scripts/bench-search.sh --smoke   2,000 products, 2 s per run, 5 s of mixed load; writes bin/bench-search-smoke.md
#
# Environment (all optional):
#   BENCH_PRODUCTS   products to generate (default 100000; --smoke: 2000)
#   BENCH_DURATION   seconds per measured run (default 10; --smoke: 2)
#   BENCH_OUTPUT     where the report goes (default docs/benchmarks.md; --smoke: bin/bench-search-smoke.md)
#   BENCH_MIXED      seconds of mixed load on dev before its memory is read (default 60; --smoke: 5)
#   BENCH_DATA_DIR   a data directory already seeded with BENCH_PRODUCTS products
#                    (`emporium seed --data-dir D --products N`), used instead of seeding
#                    one: the seed is then not timed. It is written to (the reindex, dev's
#                    databases and keys): point it at a copy, e.g. cp -r SEEDED /tmp/copy.
#
# The catalog lives in a temporary directory removed at the end (unless
# BENCH_DATA_DIR); every
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
mixed=${BENCH_MIXED:-$([ $smoke = 1 ] && echo 5 || echo 60)}
bin=bin/emporium
[ -x "$bin" ] || die "$bin is missing: run go tool task build first"
if ! command -v wrk >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  log "installing wrk (apt-get)"
  apt-get install -y -q -o DPkg::Lock::Timeout=300 wrk >/dev/null ||
    { apt-get update -q >/dev/null && apt-get install -y -q -o DPkg::Lock::Timeout=300 wrk >/dev/null; } || true
fi
command -v wrk >/dev/null || die "wrk is not installed (Debian: apt-get install wrk)"
command -v curl >/dev/null || die "curl is not installed"
# Reading the JSON answers (page tokens, products): jq, else python3.
if command -v jq >/dev/null; then
  page_info() { jq -r '"\(.products // [] | length) \(.nextPageToken // "")"'; }
  product_lines() { jq -r '.products[] | "\(.id)\t\(.slug)\t\(.category)\t\(.title)"'; }
elif command -v python3 >/dev/null; then
  page_info() { python3 -c 'import json, sys; a = json.load(sys.stdin); print(len(a.get("products", [])), a.get("nextPageToken", ""))'; }
  product_lines() { python3 -c 'import json, sys
for p in json.load(sys.stdin).get("products", []): print("\t".join([p["id"], p["slug"], p.get("category", ""), p.get("title", "")]))'; }
else
  die "jq or python3 is needed to read the answers"
fi

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

if [ -n "${BENCH_DATA_DIR:-}" ]; then
  data=$BENCH_DATA_DIR
  [ -f "$data/product.db" ] || die "BENCH_DATA_DIR=$data has no product.db: seed it first"
  log "using the catalog seeded in $data (BENCH_DATA_DIR; it should hold $products products)"
  seed_s=""
else
  data="$work/data"
  log "seeding $products products into SQLite and Bleve"
  elapsed "$bin" seed --data-dir "$data" --products "$products" --log-level warn
  seed_s=$took
fi
log "reindexing them"
elapsed "$bin" reindex --data-dir "$data" --log-level warn
reindex_s=$took
index_mb=$(du -sm "$data/search" | cut -f1)

port=$(( 20000 + RANDOM % 10000 ))
log "serving the product service on 127.0.0.1:$port"
"$bin" serve --services product --listen "127.0.0.1:$port" --database-url "sqlite:$data/product.db" \
  --search-path "$data/search" --internal-token bench-search-internal --jwks-url "http://127.0.0.1:1/jwks.json" \
  --cache-ttl 0 --log-level warn >"$work/serve.log" 2>&1 &
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
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }

# measure NAME CONNS URL [BODY]: 1 s of warm-up, then $duration s of wrk
# (POST BODY, or the requests of $WRK_REQUESTS with bench/wrk/mixed.lua when
# BODY is empty); sets p50, p99 (ms), rps and cpu (server ms per request)
# [NAME,CONNS]. Any non-2xx answer or socket error fails the script.
declare -A p50 p99 rps cpu
measure() {
  local name=$1 conns=$2 url=$3 body=${4:-} secs=${5:-$duration} threads script=bench/wrk/report.lua ticks0 ticks1 line errs
  threads=$(( conns < 2 ? 1 : 2 ))
  [ -n "$body" ] || script=bench/wrk/mixed.lua
  WRK_METHOD=POST WRK_BODY="$body" wrk -t"$threads" -c"$conns" -d1s --timeout 5s -s "$script" "$url" >/dev/null
  ticks0=$(cpu_ticks)
  WRK_METHOD=POST WRK_BODY="$body" wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 5s --latency \
    -s "$script" "$url" >"$work/wrk.out" || die "wrk failed: $(cat "$work/wrk.out")"
  ticks1=$(cpu_ticks)
  line=$(grep '^BENCH ' "$work/wrk.out") || die "no summary from wrk"
  get() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  errs=$(( $(get err_status) + $(get err_connect) + $(get err_read) + $(get err_write) + $(get err_timeout) ))
  [ "$errs" = 0 ] || die "$name, $conns connections: $errs errors: $line"
  p50[$name,$conns]=$(ms "$(get p50_us)")
  p99[$name,$conns]=$(ms "$(get p99_us)")
  rps[$name,$conns]=$(awk -v n="$(get requests)" -v d="$(get duration_us)" 'BEGIN { printf "%.0f", n / (d / 1e6) }')
  # The server's CPU time per request: what a request costs, whatever else
  # runs on the machine (latency is not; see the load average).
  cpu[$name,$conns]=$(awk -v t=$(( ticks1 - ticks0 )) -v hz="$hz" -v n="$(get requests)" 'BEGIN { printf "%.1f", t / hz * 1000 / n }')
  log "$name, $conns connection(s): p50 ${p50[$name,$conns]} ms, p99 ${p99[$name,$conns]} ms, ${rps[$name,$conns]} req/s, ${cpu[$name,$conns]} ms CPU/request"
}

for conns in 1 8; do measure search "$conns" "$url" "$body"; done

# Deep pages of ListProducts, newest first (the default sort), read from the
# database: serve runs with --cache-ttl 0, or a repeated page would be a
# cache hit. The filters: a category, a price range and in stock only; then
# the price range and in stock alone.
list_url="http://127.0.0.1:$port/emporium.product.v1.ProductService/ListProducts"
list() { curl -fsS -H 'Content-Type: application/json' -d "$1" "$list_url" || die "ListProducts $1 failed"; }
list_body() { # FILTERS SIZE [TOKEN]
  if [ -n "${3:-}" ]; then echo "{$1,\"pageSize\":$2,\"pageToken\":\"$3\"}"; else echo "{$1,\"pageSize\":$2}"; fi
}
# count_matches FILTERS: walks every page of 100; prints how many match.
count_matches() {
  local n=0 count token=""
  while :; do
    read -r count token < <(list "$(list_body "$1" 100 "$token")" | page_info)
    [ -n "$count" ] || die "ListProducts {$1} failed"
    n=$(( n + count ))
    [ -n "$token" ] || break
  done
  echo "$n"
}
# token_of FILTERS SIZE PAGE: walks the page tokens to page PAGE; prints its token.
token_of() {
  local i count token=""
  for (( i = 1; i < $3; i++ )); do
    read -r count token < <(list "$(list_body "$1" "$2" "$token")" | page_info)
    [ "$count" = "$2" ] && [ -n "$token" ] || die "page $i of $1 at $2 a page has $count products and no next page"
  done
  echo "$token"
}
lo=10000 hi=30000 category=jackets
declare -A filters matches size deep deep_token
filters[cat]="\"category\":\"$category\",\"minPrice\":\"$lo\",\"maxPrice\":\"$hi\",\"inStockOnly\":true"
filters[all]="\"minPrice\":\"$lo\",\"maxPrice\":\"$hi\",\"inStockOnly\":true"
for q in cat all; do
  matches[$q]=$(count_matches "${filters[$q]}")
  [ "${matches[$q]}" -gt 0 ] || die "no product matches ${filters[$q]}"
  # With the category, the page size that makes at least 1,000 pages (at
  # least 1); without, 20 (ListProducts' default).
  if [ $q = cat ]; then size[$q]=$(( matches[$q] / 1000 > 0 ? matches[$q] / 1000 : 1 )); else size[$q]=20; fi
  # Page 1,000, or the last full page of a smaller (smoke) catalog.
  deep[$q]=$(( matches[$q] / size[$q] < 1000 ? matches[$q] / size[$q] : 1000 ))
  log "{${filters[$q]}}: ${matches[$q]} products; ${size[$q]} a page, walking to page ${deep[$q]}"
  token=$(token_of "${filters[$q]}" "${size[$q]}" "${deep[$q]}")
  for conns in 1 8; do
    measure "$q-first" "$conns" "$list_url" "$(list_body "${filters[$q]}" "${size[$q]}")"
    measure "$q-deep" "$conns" "$list_url" "$(list_body "${filters[$q]}" "${size[$q]}" "$token")"
  done
  deep_token[$q]=$token
done

# A sample of the catalog for the mixed load: 100 products (their ids,
# slugs, categories and titles), the 10th page of 100 of the newest-first
# list (or the last of a smaller catalog).
sample_page=$(( products / 100 < 10 ? (products / 100 > 0 ? products / 100 : 1) : 10 ))
token=$(token_of '"inStockOnly":false' 100 "$sample_page")
list "$(list_body '"inStockOnly":false' 100 "$token")" | product_lines >"$work/sample.tsv"
[ "$(wc -l <"$work/sample.tsv")" -gt 0 ] || die "no products to sample"

# dev: the whole shop in one process on the same catalog, from exec to its
# first 200 from /healthz (polled every 20 ms).
kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""
# dev's two ports come from below the kernel's ephemeral range (32768+ by
# default), as bench.sh's do: from 30000 up, an outgoing connection of the
# run before (wrk's, PostgreSQL's) could hold one when dev binds it, and
# the restart failed so ("address already in use") in a CI rehearsal.
dev_ports() {
  local lo p
  lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  for _ in $(seq 1 100); do
    p=$(( 10000 + RANDOM % (lo - 10001) ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && ! (exec 3<>"/dev/tcp/127.0.0.1/$(( p + 1 ))") 2>/dev/null; then
      echo "$p"; return
    fi
  done
  die "no two free ports found on 127.0.0.1"
}
start_dev() {
  local t0 t1 dport
  dport=$(dev_ports) || exit 1
  dev_url="http://127.0.0.1:$dport"
  admin_url="http://127.0.0.1:$(( dport + 1 ))"
  t0=$(date +%s%N)
  "$bin" dev --data-dir "$data" --listen "127.0.0.1:$dport" --admin-listen "${admin_url#http://}" --rate-limits off \
    --log-level warn >"$work/dev.log" 2>&1 &
  pid=$!
  until curl -fsS --max-time 30 -o /dev/null "$dev_url/healthz" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || die "dev exited: $(cat "$work/dev.log")"
    [ $(( $(date +%s%N) - t0 )) -lt 60000000000 ] || die "dev did not answer /healthz within 60 s: $(cat "$work/dev.log")"
    sleep 0.02
  done
  t1=$(date +%s%N)
  dev_s=$(awk -v n=$(( t1 - t0 )) 'BEGIN { printf "%.2f", n / 1e9 }')
}
log "starting emporium dev on the seeded data directory"
start_dev
dev_first_s=$dev_s
log "dev answered /healthz after ${dev_first_s} s"

# A minute of mixed load through dev's edge, 8 connections: for every two
# GetProduct (by slug, by id), a ListProducts (a category's first page, or
# one of the deep pages above) and, every fourth, a SearchProducts.
svc=/emporium.product.v1.ProductService
declare -a lists=(
  "$(list_body "${filters[cat]}" "${size[cat]}")"
  "$(list_body "${filters[cat]}" "${size[cat]}" "${deep_token[cat]}")"
  "$(list_body "${filters[all]}" 20)"
  "$(list_body "${filters[all]}" 20 "${deep_token[all]}")"
)
i=0
while IFS=$'\t' read -r id slug cat title; do
  if (( i % 2 )); then printf '%s/GetProduct\t{"id":"%s"}\n' "$svc" "$id"; else printf '%s/GetProduct\t{"slug":"%s"}\n' "$svc" "$slug"; fi
  if (( i % 2 )); then
    if (( i % 4 == 1 )); then printf '%s/ListProducts\t{"category":"%s","pageSize":24}\n' "$svc" "$cat"; else printf '%s/ListProducts\t%s\n' "$svc" "${lists[$(( i / 4 % 4 ))]}"; fi
  fi
  (( i % 4 == 3 )) && printf '%s/SearchProducts\t{"query":"%s","pageSize":24}\n' "$svc" "${title//\"/}"
  (( i % 8 == 7 )) && printf '%s/SearchProducts\t%s\n' "$svc" "$body"
  i=$(( i + 1 ))
done <"$work/sample.tsv" >"$work/mixed.tsv"
mix=$(cut -f1 "$work/mixed.tsv" | sed 's|.*/||' | sort | uniq -c | awk '{ printf "%s%d %s", sep, $1, $2; sep = ", " }')
log "mixed load for ${mixed} s through dev's edge: $mix"
WRK_REQUESTS="$work/mixed.tsv" measure mixed 8 "$dev_url" "" "$mixed"
status() { awk -v k="$1:" '$1 == k { printf "%.0f", $2 / 1024 }' "/proc/$pid/status"; }
rss_mb=$(status VmRSS)
hwm_mb=$(status VmHWM)
anon_mb=$(status RssAnon)
file_mb=$(status RssFile)
# What of it is Go's: the heap in use and all the runtime holds, from dev's
# Prometheus metrics on its admin listener.
curl -fsS "$admin_url/metrics" >"$work/metrics.txt" 2>/dev/null || : >"$work/metrics.txt"
metric_mb() { awk -v k="$1" '$1 == k { printf "%.0f", $2 / 1048576; found = 1 } END { if (!found) printf "?" }' "$work/metrics.txt"; }
heap_mb=$(metric_mb go_memstats_heap_inuse_bytes)
gosys_mb=$(metric_mb go_memstats_sys_bytes)
log "dev after the mixed load: VmRSS $rss_mb MB (anonymous $anon_mb MB, file-backed $file_mb MB), VmHWM $hwm_mb MB; Go heap in use $heap_mb MB, Go runtime total $gosys_mb MB"

# And dev's start again, now that its databases and keys exist.
kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""
start_dev
dev_again_s=$dev_s
log "dev restarted: /healthz after ${dev_again_s} s"

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
  if [ -n "$seed_s" ]; then
    echo "| seed (database + index, one pass) | ${seed_s} s ($(awk -v n="$products" -v s="$seed_s" 'BEGIN { printf "%.0f", n / s }') products/s) | | |"
  else
    echo "| seed (database + index, one pass) | not timed: the catalog was seeded before (BENCH_DATA_DIR) | | |"
  fi
  echo "| full \`emporium reindex\` (progress bar) | ${reindex_s} s ($(awk -v n="$products" -v s="$reindex_s" 'BEGIN { printf "%.0f", n / s }') products/s) | under 120 s | $(verdict "$reindex_s" 120) |"
  echo "| server CPU per search (user + system), 1 / 8 connections | ${cpu[search,1]} / ${cpu[search,8]} ms | | |"
  echo "| SearchProducts p50, 1 connection | ${p50[search,1]} ms | under 10 ms | $(verdict "${p50[search,1]}" 10) |"
  echo "| SearchProducts p99, 1 connection | ${p99[search,1]} ms | under 50 ms | $(verdict "${p99[search,1]}" 50) |"
  echo "| SearchProducts, 8 connections | ${rps[search,8]} req/s, p50 ${p50[search,8]} ms, p99 ${p99[search,8]} ms | | |"
  echo
  echo "Commands: \`emporium seed --data-dir D --products $products\`, \`emporium reindex --data-dir D\`, and"
  echo "\`WRK_METHOD=POST WRK_BODY='$body' wrk -t1 -c1 -d${duration}s --latency -s bench/wrk/report.lua http://127.0.0.1:P/emporium.product.v1.ProductService/SearchProducts\`"
  echo "(then -t2 -c8)."
  echo
  echo "### ListProducts deep pages, dev's start and memory"
  echo
  echo "ListProducts over Connect JSON against the same \`serve --services=product\` on the same catalog, newest first (the default"
  echo "sort), with \`--cache-ttl 0\` so that every request reads the database (with the cache on, a repeated page is a cache hit)."
  echo "The deep page's token comes from walking the page tokens from page 1; wrk then asks for the first and the deep page"
  echo "over and over, 1 s of warm-up, ${duration} s per run. The aim: the deep page's p99 within 1.5× of page 1's."
  for q in cat all; do
    echo
    if [ $q = cat ]; then
      echo "- **category, price and in stock**: \`{${filters[$q]}}\` matches ${matches[$q]} products; at ${size[$q]} a page (the size that makes"
      echo "  at least 1,000 pages) that is $(( (matches[$q] + size[$q] - 1) / size[$q] )) pages; page 1 against page ${deep[$q]}."
    else
      echo "- **price and in stock, no category**: \`{${filters[$q]}}\` matches ${matches[$q]} products; at ${size[$q]} a page that is"
      echo "  $(( (matches[$q] + size[$q] - 1) / size[$q] )) pages; page 1 against page ${deep[$q]}."
    fi
  done
  echo
  echo "| ListProducts | connections | page 1 p50 / p99 | page N p50 / p99 | page N p99 ÷ page 1 p99 | aim | |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  for q in cat all; do
    for conns in 1 8; do
      ratio=$(awk -v a="${p99[$q-deep,$conns]}" -v b="${p99[$q-first,$conns]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
      label=$([ $q = cat ] && echo "category + price + in stock, ${size[$q]} a page" || echo "price + in stock, ${size[$q]} a page")
      echo "| $label, page ${deep[$q]} | $conns | ${p50[$q-first,$conns]} / ${p99[$q-first,$conns]} ms | ${p50[$q-deep,$conns]} / ${p99[$q-deep,$conns]} ms | ${ratio}× | 1.5× | $(verdict "$ratio" 1.5) |"
    done
  done
  echo
  echo "\`emporium dev --data-dir D --listen 127.0.0.1:P --admin-listen 127.0.0.1:P2 --rate-limits off --log-level warn\` on the same data directory (the"
  echo "whole shop in one process, on SQLite; the product service counts the catalog and checks the search index at start)."
  echo "Its start: wall time from exec to the first 200 from \`/healthz\`, polled every 20 ms; the first start creates the other"
  echo "services' databases and dev's keys, the restart finds them. Its memory: VmRSS and VmHWM from /proc/PID/status after ${mixed} s"
  echo "of mixed load through the edge, 8 connections, closed loop (wrk, bench/wrk/mixed.lua rotating ${mix}"
  echo "over 100 products of the catalog, the ListProducts pages above and a category's first page, SearchProducts of product titles"
  echo "and \`$body\`), with the read cache on (dev's default, 2 s). Rate limits are off (\`--rate-limits off\`): 8"
  echo "connections from one address would otherwise be limited as one anonymous caller (100 requests/s)."
  echo
  echo "| measure | result | aim | |"
  echo "|---|---:|---:|---|"
  echo "| \`dev\` start, exec to first 200 from /healthz | ${dev_first_s} s | under 2 s | $(verdict "$dev_first_s" 2) |"
  echo "| \`dev\` restart, same | ${dev_again_s} s | under 2 s | $(verdict "$dev_again_s" 2) |"
  echo "| mixed load, 8 connections, ${mixed} s | ${rps[mixed,8]} req/s, p50 ${p50[mixed,8]} ms, p99 ${p99[mixed,8]} ms, ${cpu[mixed,8]} ms CPU/request | | |"
  echo "| \`dev\` VmRSS after the mixed load | ${rss_mb} MB | under 150 MB | $(verdict "$rss_mb" 150) |"
  echo "| \`dev\` VmHWM (peak RSS) | ${hwm_mb} MB | | |"
  echo "| of the VmRSS: anonymous (RssAnon) / file-backed (RssFile: mapped files, the search index's segments among them) | ${anon_mb} / ${file_mb} MB | | |"
  echo "| Go heap in use / all the Go runtime holds (\`go_memstats_heap_inuse_bytes\` / \`go_memstats_sys_bytes\`) | ${heap_mb} / ${gosys_mb} MB | | |"
  echo
  echo "Commands: \`WRK_METHOD=POST WRK_BODY='{${filters[cat]},\"pageSize\":${size[cat]},\"pageToken\":\"…\"}' wrk -t1 -c1 -d${duration}s --latency"
  echo "-s bench/wrk/report.lua http://127.0.0.1:P/emporium.product.v1.ProductService/ListProducts\` (then -t2 -c8; without the token for"
  echo "page 1), and \`WRK_REQUESTS=mixed.tsv wrk -t2 -c8 -d${mixed}s --latency -s bench/wrk/mixed.lua http://127.0.0.1:P\`."
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
