#!/usr/bin/env bash
# Load run for Emporium: how many GetProduct and ListProducts calls a second
# the product service answers on PostgreSQL, directly and through the edge,
# next to a plain net/http hello world on the same machine, and at what
# latency. Writes docs/benchmarks.md (the part above its marker line).
#
#   bash scripts/bench.sh           full run: 10 s per scenario (go tool task bench)
#   bash scripts/bench.sh --smoke   2 s per scenario, for CI; writes bin/bench-smoke.md
#
# Environment (all optional):
#   BENCH_DURATION     seconds per measured run, e.g. 10, 10s or 1m (default 10; --smoke: 2)
#   BENCH_WARMUP       seconds of warm-up before each measured run (default 2; --smoke: 1)
#   BENCH_CONNECTIONS  concurrent connections (default 32)
#   BENCH_THREADS      load-generator threads (default 2)
#   BENCH_H2LOAD       1 (default) adds a supplementary h2c run with h2load when it is installed; 0 skips it
#   BENCH_OUTPUT       where the report goes (default docs/benchmarks.md; --smoke: bin/bench-smoke.md)
#   PGHOST, PGPORT, PGUSER   PostgreSQL to use (default 127.0.0.1, 5432, postgres)
#
# Every server listens on a free 127.0.0.1 port, every load run stops by itself
# after its duration (and is killed if it overruns), and every process the
# script starts is stopped when it exits, however it exits. The database
# emporium_bench is created fresh and dropped at the end. Non-2xx responses or
# socket errors in any run fail the script (exit 1): the report then goes to
# bin/bench-failed.md and docs/ is left untouched.
set -euo pipefail

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }

smoke=0
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench.sh: %s\n' "$*" >&2; exit 1; }

# seconds parses 10, 10s or 2m into whole seconds.
seconds() {
  local v=$1
  if [[ $v =~ ^([0-9]+)s?$ ]]; then echo "${BASH_REMATCH[1]}"
  elif [[ $v =~ ^([0-9]+)m$ ]]; then echo $((BASH_REMATCH[1] * 60))
  else die "not a duration: $v (want e.g. 10, 10s or 1m)"; fi
}

if ((smoke)); then mode=smoke; def_dur=2; def_warm=1; def_out=bin/bench-smoke.md
else mode=full; def_dur=10; def_warm=2; def_out=docs/benchmarks.md; fi
duration=$(seconds "${BENCH_DURATION:-$def_dur}")
warmup=$(seconds "${BENCH_WARMUP:-$def_warm}")
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
use_h2load=${BENCH_H2LOAD:-1}
out=${BENCH_OUTPUT:-$def_out}
((duration >= 1)) || die "BENCH_DURATION must be at least 1 s"
[[ $conns =~ ^[0-9]+$ && $threads =~ ^[0-9]+$ ]] && ((threads >= 1 && conns >= threads)) ||
  die "BENCH_CONNECTIONS ($conns) must be a number ≥ BENCH_THREADS ($threads) ≥ 1"

export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
export PGOPTIONS="-c client_min_messages=warning"
db=emporium_bench
db_url="postgres://$PGUSER@$PGHOST:$PGPORT/$db?sslmode=disable"
case "$PGHOST" in 127.* | localhost | ::1) ;; *) die "PGHOST must be a loopback address, not $PGHOST" ;; esac

started_at=$(date +%s)
loadavg_start=$(cut -d" " -f1-3 /proc/loadavg)

# One run at a time: the database name and the ports would collide.
mkdir -p bin
exec 9>bin/.bench.lock
flock -n 9 || die "another bench run holds bin/.bench.lock"

# ---------------------------------------------------------------- tools
need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
if [[ $use_h2load == 1 ]] && ! command -v h2load >/dev/null; then need_apt+=(nghttp2-client); fi
if ((${#need_apt[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing ${need_apt[*]} (apt-get)"
    apt-get install -y -q -o DPkg::Lock::Timeout=300 "${need_apt[@]}" >/dev/null ||
      { apt-get update -q >/dev/null && apt-get install -y -q -o DPkg::Lock::Timeout=300 "${need_apt[@]}" >/dev/null; } ||
      true
  fi
fi
command -v wrk >/dev/null || die "wrk is not installed (Debian: apt-get install wrk)"
if [[ $use_h2load == 1 ]] && ! command -v h2load >/dev/null; then
  log "h2load not found (Debian: nghttp2-client); skipping the h2c run"
  use_h2load=0
fi
for t in psql pg_isready curl flock timeout; do command -v "$t" >/dev/null || die "$t is not installed"; done
pg_isready -q || die "PostgreSQL is not reachable at $PGHOST:$PGPORT"

log "building bin/emporium and bin/bench-hello"
go build -o bin/emporium ./cmd/emporium
go build -o bin/bench-hello ./bench/hello

# ---------------------------------------------------------------- processes
work=$(mktemp -d "${TMPDIR:-/tmp}/emporium-bench.XXXXXX")
pids=()
db_created=0
failed=1

cleanup() {
  local rc=$?
  set +e
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if ((failed)); then
    for f in "$work"/*.log; do
      [[ -s $f ]] || continue
      printf -- '--- last lines of %s\n' "$(basename "$f")" >&2
      tail -n 20 "$f" >&2
    done
  fi
  ((db_created)) && psql -qX -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# port_free reports whether nothing listens on 127.0.0.1:$1.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    port_free "$p" && { echo "$p"; return; }
  done
  die "no free port found on 127.0.0.1"
}

# wait_healthy URL PID NAME: until GET URL answers 200, the process dies, or 30 s pass.
wait_healthy() {
  local url=$1 pid=$2 name=$3
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || return 1
    curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  die "$name did not become healthy at $url within 30 s"
}

# start_emporium NAME ARGS…: start bin/emporium serve on a free port (retrying
# if another process took the port meanwhile); sets $port and $pid.
start_emporium() {
  local name=$1; shift
  for _ in 1 2 3; do
    port=${fixed_port:-$(free_port)} || exit 1
    ./bin/emporium serve --listen "127.0.0.1:$port" --log-level warn "$@" >"$work/$name.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    wait_healthy "http://127.0.0.1:$port/healthz" "$pid" "$name" && return 0
    grep -q 'address already in use' "$work/$name.log" || die "$name exited at start (log below)"
  done
  die "$name: could not find a free port"
}

log "creating database $db"
psql -qX -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
db_created=1

log "seeding the demo catalog"
timeout 300 ./bin/emporium seed --database-url "$db_url" --search-path "$work/search" --log-level warn >"$work/seed.log" 2>&1 ||
  die "seed failed (log below)"

log "starting the product service, two edges and the hello world"
# The product service verifies tokens against the edge's JWKS, so it needs the
# edge's address before the edge starts. Both edges run the user service in
# process, share one signing-key file and the internal credential.
edge_port=$(free_port) || exit 1
itok=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
common_edge=(--services=user,edge --database-url "$db_url" --internal-token "$itok" --signing-keys "$work/signing-keys.json")
start_emporium product --services=product --database-url "$db_url" --search-path "$work/search" \
  --internal-token "$itok" --jwks-url "http://127.0.0.1:$edge_port/.well-known/jwks.json"
product_port=$port product_pid=$pid
# The plain edge: no rate limits, requests arrive without tokens.
fixed_port=$edge_port start_emporium edge "${common_edge[@]}" --upstream "product=http://127.0.0.1:$product_port" --rate-limits off
edge_pid=$pid
# The secured edge: limits on in Redis (shared as between replicas, and set
# high enough never to refuse: the run measures their cost, not refusals),
# and every request carries a customer's access token, verified at the edge
# for the limit key and again by the product service.
start_emporium edge-secured "${common_edge[@]}" --upstream "product=http://127.0.0.1:$product_port" \
  --redis-url "redis://127.0.0.1:6379/1" --rate-limits "default=1000000:1000000,auth=100:100,login=100:100,login-account=100:100"
secured_port=$port secured_pid=$pid
# The default single-host layout: product, user and edge in one process, the
# edge routing in-process. Bleve lets one process open an index, so it gets a copy.
cp -r "$work/search" "$work/search-allinone"
start_emporium all-in-one --services=product,user,edge --database-url "$db_url" --search-path "$work/search-allinone" \
  --internal-token "$itok" --signing-keys "$work/signing-keys.json" --rate-limits off
allinone_port=$port allinone_pid=$pid
./bin/bench-hello --listen 127.0.0.1:0 >"$work/hello.log" 2>&1 &
hello_pid=$!
pids+=("$hello_pid")
for _ in $(seq 1 100); do grep -q '^listening on ' "$work/hello.log" && break; sleep 0.1; done
hello_addr=$(sed -n 's/^listening on //p' "$work/hello.log")
[[ -n $hello_addr ]] || die "bench-hello did not start"
wait_healthy "http://$hello_addr/healthz" "$hello_pid" hello || die "bench-hello exited at start"

product=http://127.0.0.1:$product_port
edge=http://127.0.0.1:$edge_port
svc=/emporium.product.v1.ProductService

# rpc BASE METHOD BODY: one Connect unary call; prints the body, fails on non-200.
rpc() {
  curl -fsS --max-time 10 -X POST -H 'Content-Type: application/json' -d "$3" "$1$svc/$2"
}
list_body='{"pageSize":20}'
rpc "$product" ListProducts "$list_body" >"$work/list.json" || die "ListProducts failed on the product service"
slug=$(grep -oE '"slug": ?"[^"]+"' "$work/list.json" | head -n 1 | sed -E 's/.*"([^"]+)"$/\1/')
[[ -n $slug ]] || die "no product slug in the ListProducts response"
get_body="{\"slug\":\"$slug\"}"
for base in "$product" "$edge"; do
  rpc "$base" GetProduct "$get_body" >"$work/get.json" || die "GetProduct failed at $base"
  rpc "$base" ListProducts "$list_body" >/dev/null || die "ListProducts failed at $base"
done
secured=http://127.0.0.1:$secured_port
bench_email="bench-$(date +%s)@example.com"
curl -fsS --max-time 10 -X POST -H 'Content-Type: application/json' \
  -d "{\"email\":\"$bench_email\",\"password\":\"a bench passphrase 2026\"}" \
  "$secured/emporium.user.v1.UserService/Register" >/dev/null || die "registering the bench customer failed"
access=$(curl -fsS --max-time 10 -X POST -H 'Content-Type: application/json' \
  -d "{\"email\":\"$bench_email\",\"password\":\"a bench passphrase 2026\"}" \
  "$secured/emporium.auth.v1.AuthService/Login" | sed -nE 's/.*"accessToken": ?"([^"]+)".*/\1/p')
[[ -n $access ]] || die "logging the bench customer in failed"
curl -fsS --max-time 10 -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $access" \
  -d "$get_body" "$secured$svc/GetProduct" >/dev/null || die "GetProduct with a token failed at the secured edge"
get_bytes=$(wc -c <"$work/get.json")
list_bytes=$(wc -c <"$work/list.json")
[[ $(curl -fsS --max-time 5 "http://$hello_addr/") == "hello world" ]] || die "bench-hello did not answer hello world"

# ---------------------------------------------------------------- CPU accounting
clk=$(getconf CLK_TCK)
# proc_ticks PID…: user+system clock ticks the processes have used so far.
proc_ticks() {
  local total=0 pid s
  for pid in "$@"; do
    s=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    s=${s##*) }
    read -r -a f <<<"$s"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
# pg_pids: the PostgreSQL backends serving the bench database (their process
# titles read "postgres: … USER DB HOST(PORT) STATE").
pg_pids() { pgrep -f -- "^postgres: .* $db " || true; }
# busy_ticks: ticks every CPU of the machine has spent not idle.
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }
# children_ticks FILE: user+system ticks of this shell's finished children,
# from the output of `times` saved in FILE. (`times` has to run in this shell,
# not in a $(…) subshell, which would only see its own children.)
children_ticks() {
  tail -n 1 "$1" | awk -v clk="$clk" '{
    n = split($0, a, " "); s = 0
    for (i = 1; i <= n; i++) { split(a[i], m, "m"); sub("s", "", m[2]); s += m[1] * 60 + m[2] }
    printf "%d\n", s * clk + 0.5 }'
}
declare -A pg_before
# snapshot_cpu and account_cpu bracket a load run; both must run in this shell.
snapshot_cpu() {
  times >"$work/times"
  cpu0_hello=$(proc_ticks "$hello_pid") cpu0_product=$(proc_ticks "$product_pid" "$allinone_pid") cpu0_edge=$(proc_ticks "$edge_pid" "$secured_pid")
  cpu0_busy=$(busy_ticks) cpu0_load=$(children_ticks "$work/times")
  pg_before=()
  local p
  for p in $(pg_pids); do pg_before[$p]=$(proc_ticks "$p"); done
  cpu0_time=$(date +%s%N)
}
# account_cpu: CPU ticks used since snapshot_cpu per process group, and the
# wall time: "load hello product edge postgres other busy wall_ns".
account_cpu() {
  times >"$work/times"
  local wall_ns=$(($(date +%s%N) - cpu0_time)) p pg=0 t
  for p in $(pg_pids); do t=$(proc_ticks "$p"); pg=$((pg + t - ${pg_before[$p]:-0})); done
  local hello=$(($(proc_ticks "$hello_pid") - cpu0_hello))
  local prod=$(($(proc_ticks "$product_pid" "$allinone_pid") - cpu0_product))
  local edg=$(($(proc_ticks "$edge_pid" "$secured_pid") - cpu0_edge))
  local load=$(($(children_ticks "$work/times") - cpu0_load))
  local busy=$(($(busy_ticks) - cpu0_busy))
  local other=$((busy - hello - prod - edg - load - pg))
  if ((other < 0)); then other=0; fi
  echo "$load $hello $prod $edg $pg $other $busy $wall_ns"
}
# cpu_row NAME REQUESTS TICKS…: a row of the CPU table: % of one core per
# group, then the CPU time the server side (servers and PostgreSQL) spent per request.
cpu_row() {
  local name=$1 n=$2; shift 2
  awk -v name="$name" -v n="$n" -v clk="$clk" -v l="$1" -v h="$2" -v p="$3" -v e="$4" -v g="$5" -v o="$6" -v b="$7" -v w="$8" \
    'function pct(t) { return sprintf("%d %%", t / clk / (w / 1e9) * 100 + 0.5) }
     function us(t) { return n > 0 ? sprintf("%.0f µs", t / clk / n * 1e6) : "-" }
     BEGIN { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, pct(l), pct(h), pct(p), pct(e), pct(g), pct(o), pct(b),
       us(h + p + e + g) }'
}

# ---------------------------------------------------------------- load runs
wrk_cmd() { # METHOD BODY URL DURATION(s) [--latency]; sends $wrk_auth as a bearer token when set
  local method=$1 body=$2 url=$3 d=$4; shift 4
  WRK_METHOD=$method WRK_BODY=$body WRK_AUTH=${wrk_auth:-} timeout --signal=INT --kill-after=5 $((d + 30)) \
    wrk -t"$threads" -c"$conns" -d"${d}s" --timeout 5s "$@" -s bench/wrk/report.lua "$url"
}

scenarios=(
  "hello world (net/http)|GET||http://$hello_addr/"
  "GetProduct direct|POST|$get_body|$product$svc/GetProduct"
  "GetProduct via edge|POST|$get_body|$edge$svc/GetProduct"
  "ListProducts(20) direct|POST|$list_body|$product$svc/ListProducts"
  "ListProducts(20) via edge|POST|$list_body|$edge$svc/ListProducts"
  "GetProduct via edge, auth + limits|POST|$get_body|$secured$svc/GetProduct|token"
  "GetProduct, edge in process|POST|$get_body|http://127.0.0.1:$allinone_port$svc/GetProduct"
)
declare -A rps p99 errs
rows=() cpu_rows=() failures=() disturbed=()
ms() { awk -v u="$1" 'BEGIN { printf "%.2f ms", u / 1000 }'; }

for s in "${scenarios[@]}"; do
  IFS='|' read -r name method body url auth <<<"$s"
  wrk_auth=
  [[ $auth == token ]] && wrk_auth=$access
  log "$name: ${warmup}s warm-up, ${duration}s measured"
  if ((warmup > 0)); then wrk_cmd "$method" "$body" "$url" "$warmup" >/dev/null || die "$name: warm-up failed"; fi
  snapshot_cpu
  wrk_cmd "$method" "$body" "$url" "$duration" --latency >"$work/wrk.out" || die "$name: wrk failed: $(cat "$work/wrk.out")"
  account_cpu >"$work/cpu"
  read -r -a cpu <"$work/cpu"
  sed 's/^/    /' "$work/wrk.out" | grep -v '^    BENCH ' >&2
  line=$(grep '^BENCH ' "$work/wrk.out") || die "$name: no summary from wrk"
  declare -A r=()
  for kv in ${line#BENCH }; do r[${kv%%=*}]=${kv#*=}; done
  rps[$name]=$(awk -v n="${r[requests]}" -v d="${r[duration_us]}" 'BEGIN { printf "%.0f", n / d * 1e6 }')
  p99[$name]=${r[p99_us]}
  sock=$((r[err_connect] + r[err_read] + r[err_write] + r[err_timeout]))
  errs[$name]="${r[err_status]} / $sock"
  ((r[err_status] == 0)) || failures+=("$name: ${r[err_status]} non-2xx responses")
  ((sock == 0)) || failures+=("$name: socket errors (connect ${r[err_connect]}, read ${r[err_read]}, write ${r[err_write]}, timeout ${r[err_timeout]})")
  ((r[requests] > 0)) || failures+=("$name: no requests completed")
  rows+=("| $name | ${rps[$name]} | $(ms "${r[p50_us]}") | $(ms "${r[p90_us]}") | $(ms "${r[p99_us]}") | $(ms "${r[max_us]}") | ${r[requests]} | ${errs[$name]} |")
  cpu_rows+=("$(cpu_row "$name" "${r[requests]}" "${cpu[@]}")")
  # cpu[5] is the CPU other processes took: over a quarter of a core means
  # something else on the machine competed with this run.
  other_pct=$(awk -v o="${cpu[5]}" -v w="${cpu[7]}" -v clk="$clk" 'BEGIN { printf "%d", o / clk / (w / 1e9) * 100 + 0.5 }')
  if ((other_pct > 25)); then disturbed+=("$name ($other_pct %)"); fi
  unset r
done

# Supplementary: GetProduct over h2c (one HTTP/2 connection per client, one
# stream at a time), the protocol the edge uses to reach services. h2load
# reports throughput and mean latency but no percentiles.
h2_rows=()
h2load_cmd_text=
if [[ $use_h2load == 1 ]]; then
  printf '%s' "$get_body" >"$work/get-body.json"
  for target in "GetProduct direct (h2c)|$product" "GetProduct via edge (h2c)|$edge"; do
    IFS='|' read -r name base <<<"$target"
    log "$name: h2load, ${warmup}s warm-up, ${duration}s measured"
    h2load_args=(-c "$conns" -t "$threads" -m 1 -D "$duration" -H 'content-type: application/json' -d "$work/get-body.json")
    if ((warmup > 0)); then h2load_args+=(--warm-up-time="$warmup"); fi
    timeout --signal=INT --kill-after=5 $((duration + warmup + 30)) \
      h2load "${h2load_args[@]}" "$base$svc/GetProduct" >"$work/h2load.out" 2>&1 || die "$name: h2load failed: $(tail -n 20 "$work/h2load.out")"
    h2_rps=$(awk '/^finished in/ { for (i = 1; i <= NF; i++) if ($(i) ~ /req\/s/) { v = $(i - 1); gsub(",", "", v); printf "%.0f", v } }' "$work/h2load.out")
    h2_mean=$(awk '$1 == "time" && $2 == "for" && $3 == "request:" { v = $6; sub(/[a-z]+$/, " &", v); print v }' "$work/h2load.out")
    read -r ok2 s3 s4 s5 < <(awk '/^status codes:/ { gsub(",", ""); print $3, $5, $7, $9 }' "$work/h2load.out") || true
    read -r h2_done _ h2_fail h2_err < <(awk '/^requests:/ { gsub(",", ""); print $6, $8, $10, $12 }' "$work/h2load.out") || true
    ok2=${ok2:-0} s3=${s3:-0} s4=${s4:-0} s5=${s5:-0} h2_done=${h2_done:-0} h2_fail=${h2_fail:-0} h2_err=${h2_err:-0}
    sed 's/^/    /' "$work/h2load.out" | grep -E 'finished in|requests:|status codes|time for request' >&2 || true
    bad=$((s3 + s4 + s5))
    ((bad == 0 && h2_fail == 0 && h2_err == 0 && ok2 > 0)) || failures+=("$name: $ok2 2xx, $bad non-2xx, $h2_fail failed, $h2_err errored")
    h2_rows+=("| $name | ${h2_rps:-?} | ${h2_mean:-?} | $h2_done | $bad / $((h2_fail + h2_err)) |")
  done
  h2load_cmd_text="h2load -c $conns -t $threads -m 1 -D $duration --warm-up-time=$warmup -H 'content-type: application/json' -d get-body.json http://127.0.0.1:PORT$svc/GetProduct"
fi

# ---------------------------------------------------------------- ratios
verdict() { if (($1)); then echo "**met**"; else echo "**not met**"; fi; }
hello=${rps["hello world (net/http)"]} get_d=${rps["GetProduct direct"]} get_e=${rps["GetProduct via edge"]}
list_d=${rps["ListProducts(20) direct"]} list_e=${rps["ListProducts(20) via edge"]}
ratio=$(awk -v a="$get_d" -v b="$hello" 'BEGIN { printf "%.3f", a / b }')
ratio_ok=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.4) }')
edge_cost=$(awk -v e="$get_e" -v d="$get_d" 'BEGIN { printf "%.1f", (1 - e / d) * 100 }')
edge_ok=$(awk -v c="$edge_cost" 'BEGIN { print (c <= 30) }')
list_cost=$(awk -v e="$list_e" -v d="$list_d" 'BEGIN { printf "%.1f", (1 - e / d) * 100 }')
get_s=${rps["GetProduct via edge, auth + limits"]}
secure_cost=$(awk -v s="$get_s" -v e="$get_e" 'BEGIN { printf "%.1f", (1 - s / e) * 100 }')
secure_ok=$(awk -v c="$secure_cost" 'BEGIN { print (c <= 20) }')
get_a=${rps["GetProduct, edge in process"]}
inproc_cost=$(awk -v a="$get_a" -v d="$get_d" 'BEGIN { printf "%.1f", (1 - a / d) * 100 }')
worst_p99=0 worst_name=
for s in "${scenarios[@]:1}"; do
  name=${s%%|*}
  v=${p99[$name]}
  if ((v > worst_p99)); then worst_p99=$v worst_name=$name; fi
done
p99_ok=$((worst_p99 < 10000))
p99_list=
for s in "${scenarios[@]:1}"; do name=${s%%|*}; p99_list+="${p99_list:+, }$name $(ms "${p99[$name]}")"; done

# ---------------------------------------------------------------- report
elapsed=$(($(date +%s) - started_at))
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
marker='<!-- bench:notes — scripts/bench.sh regenerates everything above this line; text below it is kept. -->'
{
  echo "# Benchmarks"
  echo
  echo "Generated by \`scripts/bench.sh\` (\`go tool task bench\`) on $(date -u '+%Y-%m-%d %H:%M UTC'), $mode mode"
  echo "(${duration} s per run after ${warmup} s of warm-up; the whole script took ${elapsed} s)."
  if ((${#failures[@]})); then
    echo
    echo "**THIS RUN FAILED:**"
    for f in "${failures[@]}"; do echo "- $f"; done
  fi
  if ((${#disturbed[@]})); then
    echo
    echo "**Other work on the machine took CPU during:** $(IFS=,; echo "${disturbed[*]}" | sed 's/,/, /g') (of one core;"
    echo "see *other* under [Where the CPU went](#where-the-cpu-went)). Those req/s and latencies are lower than an idle machine"
    echo "gives; the *server CPU per request* column is less sensitive to it. Rerun on an idle machine to compare."
  fi
  echo
  echo "## Machine"
  echo
  echo "- CPU: $cpu_model, $(nproc) cores (\`nproc\`); $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
  echo "- $(go version | cut -d' ' -f3-), $(uname -sr), PostgreSQL $(psql -AtX -d postgres -c 'SHOW server_version' | cut -d' ' -f1), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
  echo "- Code: the working tree as built at the start of the run (bin/emporium sha256 $(sha256sum bin/emporium | cut -c1-12))."
  echo "- Load average when the run started: $loadavg_start (other work on the machine competes for the same 2 cores;"
  echo "  see the *other* column below)"
  echo "- The load generator, the servers and PostgreSQL all share these cores: the numbers are for comparing"
  echo "  scenarios with each other on one machine, not capacity figures."
  echo
  echo "## Setup"
  echo
  echo "- PostgreSQL database \`$db\`, created fresh and seeded with the 520-product demo catalog."
  echo "- \`bin/emporium serve --services=product --listen 127.0.0.1:P --database-url $db_url --search-path DIR --internal-token T --jwks-url http://127.0.0.1:E/.well-known/jwks.json --log-level warn\`"
  echo "- \`bin/emporium serve --services=user,edge --listen 127.0.0.1:E --database-url $db_url --internal-token T --signing-keys K --upstream product=http://127.0.0.1:P --rate-limits off --log-level warn\`"
  echo "  (a separate edge process in front of the product service, with no rate limits; requests carry no token)"
  echo "- The *auth + limits* edge: the same with \`--redis-url redis://127.0.0.1:6379/1 --rate-limits default=1000000:1000000,…\`:"
  echo "  every request takes a token from a Redis bucket (one Lua call) and carries a customer's access token, which the"
  echo "  edge verifies for the bucket key and the product service verifies again (both cache verified tokens)."
  echo "- *edge in process*: \`bin/emporium serve --services=product,user,edge …\`, the default single-host layout, where the"
  echo "  edge routes to the services inside its own process."
  echo "- \`bin/bench-hello --listen 127.0.0.1:0\` (\`bench/hello\`: net/http, \`GET /\` → \`hello world\`)"
  echo "- GetProduct body \`$get_body\` ($get_bytes-byte response); ListProducts body \`$list_body\` ($list_bytes-byte response)."
  echo "  Requests carry no Accept-Encoding, so responses are not compressed between client and server."
  echo "- Each scenario: a ${warmup} s warm-up run, then the measured run:"
  echo
  echo '  ```sh'
  echo "  WRK_METHOD=POST WRK_BODY='$get_body' wrk -t$threads -c$conns -d${duration}s --timeout 5s --latency -s bench/wrk/report.lua http://127.0.0.1:P$svc/GetProduct"
  echo "  WRK_METHOD=POST WRK_BODY='$list_body' wrk -t$threads -c$conns -d${duration}s --timeout 5s --latency -s bench/wrk/report.lua http://127.0.0.1:P$svc/ListProducts"
  echo "  wrk -t$threads -c$conns -d${duration}s --timeout 5s --latency -s bench/wrk/report.lua http://127.0.0.1:H/"
  echo '  ```'
  echo
  echo "  (the same two Connect calls at http://127.0.0.1:E for *via edge*). wrk is closed-loop over HTTP/1.1 keep-alive:"
  echo "  $conns connections, each sending its next request when the previous answer arrives."
  echo
  echo "## Results ($conns connections, HTTP/1.1)"
  echo
  echo "| scenario | req/s | p50 | p90 | p99 | max | requests | non-2xx / socket errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  if ((${#h2_rows[@]})); then
    echo
    echo "Supplementary, h2c (HTTP/2 without TLS; h2load gives no percentiles):"
    echo
    echo "| scenario | req/s | mean latency | requests | non-2xx / failed |"
    echo "|---|---:|---:|---:|---:|"
    printf '%s\n' "${h2_rows[@]}"
    echo
    echo "\`$h2load_cmd_text\`"
  fi
  echo
  echo "## Aims"
  echo
  echo "| aim | this run | |"
  echo "|---|---|---|"
  echo "| direct GetProduct ÷ hello world req/s ≥ 0.4 | $get_d ÷ $hello = $ratio | $(verdict "$ratio_ok") |"
  echo "| edge cost = 1 − (edge GetProduct ÷ direct GetProduct) ≤ 30 % | 1 − $get_e ÷ $get_d = $edge_cost % | $(verdict "$edge_ok") |"
  echo "| p99 < 10 ms at $conns connections (every Emporium scenario) | worst: $worst_name $(ms "$worst_p99") | $(verdict "$p99_ok") |"
  echo "| edge cost, edge in the same process (serve --services=product,user,edge) ≤ 30 % | 1 − $get_a ÷ $get_d = $inproc_cost % | $(verdict "$(awk -v c="$inproc_cost" 'BEGIN { print (c <= 30) }')") |"
  echo "| auth + limits cost = 1 − (secured edge GetProduct ÷ plain edge GetProduct) ≤ 20 % (Kong: ~24 %) | 1 − $get_s ÷ $get_e = $secure_cost % | $(verdict "$secure_ok") |"
  echo
  echo "p99 per scenario: $p99_list. Edge cost for ListProducts (no aim): $list_cost %."
  echo
  echo "## Where the CPU went"
  echo
  echo "CPU used during each measured run, in % of one core (200 % = both cores busy), from /proc: the load"
  echo "generator, each server process, the PostgreSQL backends serving \`$db\`, and everything else on the machine."
  echo
  echo "The last column is the CPU time the servers and PostgreSQL spent per request, which bounds req/s once"
  echo "both cores are busy."
  echo
  echo "| scenario | load generator | hello | product | edge | PostgreSQL | other | total busy | server CPU per request |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${cpu_rows[@]}"
  echo
  echo "$marker"
} >"$work/report.md"

if ((${#failures[@]})); then
  cp "$work/report.md" bin/bench-failed.md
  cat "$work/report.md" >&2
  printf '\nbench.sh: FAILED — %s\n' "${failures[@]}" >&2
  echo "bench.sh: report written to bin/bench-failed.md; $out left as it was" >&2
  exit 1
fi

# Keep whatever was written below the marker (or the whole file, if it has
# no marker yet: it was all written by hand).
mkdir -p "$(dirname "$out")"
if [[ -f $out ]]; then
  if grep -qF "$marker" "$out"; then
    awk -v m="$marker" 'found { print } $0 == m { found = 1 }' "$out" >>"$work/report.md"
  else
    { echo; cat "$out"; } >>"$work/report.md"
  fi
fi
cp "$work/report.md" "$out"
failed=0
log "wrote $out in ${elapsed} s"
sed -n '/^## Results/,/^## Where/p' "$out" | sed '$d' >&2
