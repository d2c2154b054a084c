#!/usr/bin/env bash
# Load run for Emporium: how many GetProduct and ListProducts calls a second
# the product service answers on PostgreSQL, directly and through the edge,
# next to a plain net/http hello world on the same machine, and at what
# latency; then a whole purchase end to end: signed-in shoppers (bench/checkout)
# each running AddItem → Checkout → PayOrder in a closed loop through the edge
# of the default single-host layout (every service in one process, PostgreSQL,
# the payment simulator). Writes docs/benchmarks.md (the part above its marker
# line).
#
#   bash scripts/bench.sh           full run: 10 s per scenario (go tool task bench)
#   bash scripts/bench.sh --smoke   2 s per scenario, for CI; writes bin/bench-smoke.md
#
# Environment (all optional):
#   BENCH_DURATION     seconds per measured run, e.g. 10, 10s or 1m (default 10; --smoke: 2)
#   BENCH_WARMUP       seconds of warm-up before each measured run (default 2; --smoke: 1)
#   BENCH_CONNECTIONS  concurrent connections (default 32)
#   BENCH_THREADS      load-generator threads (default 2)
#   BENCH_H2LOAD       1 (default) adds the h2c and gRPC runs with h2load when it is installed; 0 skips them
#   BENCH_NGINX        1 (default) puts Debian's nginx (installed with apt-get when missing and run as root)
#                      beside the edge in front of the same product process, as the reference proxy; 0 skips it
#   BENCH_SHOPPERS     concurrent shoppers of the checkout run (default 64; --smoke: 16)
#   BENCH_SHOPPERS_P99 shoppers of the second checkout run, whose p99 the latency aim is for (default 16);
#                      when it equals BENCH_SHOPPERS the first run serves both
#   BENCH_SKUS         SKUs the checkout run buys from (default 50)
#   BENCH_IDLE         seconds emporium dev is measured at rest, nobody using it (default 60; --smoke: 5)
#   BENCH_OUTPUT       where the report goes (default docs/benchmarks.md; --smoke: bin/bench-smoke.md)
#   PGHOST, PGPORT, PGUSER   PostgreSQL to use (default 127.0.0.1, 5432, postgres)
#
# Every server listens on a free 127.0.0.1 port, every load run stops by itself
# after its duration (and is killed if it overruns), and every process the
# script starts is stopped when it exits, however it exits. The database
# emporium_bench is created fresh and dropped at the end. Non-2xx responses or
# socket errors in any run, or any failed call or unpaid order in the checkout
# run, fail the script (exit 1): the report then goes to bin/bench-failed.md
# and docs/ is left untouched.
set -euo pipefail

# usage prints the comment at the top of this file, unindented.
usage() { awk 'NR == 1 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "$0"; }

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

if ((smoke)); then mode=smoke; def_dur=2; def_warm=1; def_out=bin/bench-smoke.md; def_shoppers=16; def_idle=5 idle_settle=2
else mode=full; def_dur=10; def_warm=2; def_out=docs/benchmarks.md; def_shoppers=64; def_idle=60 idle_settle=20; fi
duration=$(seconds "${BENCH_DURATION:-$def_dur}")
warmup=$(seconds "${BENCH_WARMUP:-$def_warm}")
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
use_h2load=${BENCH_H2LOAD:-1}
use_nginx=${BENCH_NGINX:-1}
shoppers=${BENCH_SHOPPERS:-$def_shoppers}
shoppers_p99=${BENCH_SHOPPERS_P99:-16}
skus=${BENCH_SKUS:-50}
idle=$(seconds "${BENCH_IDLE:-$def_idle}")
out=${BENCH_OUTPUT:-$def_out}
((duration >= 1)) || die "BENCH_DURATION must be at least 1 s"
((idle >= 1)) || die "BENCH_IDLE must be at least 1 s"
[[ $conns =~ ^[0-9]+$ && $threads =~ ^[0-9]+$ ]] && ((threads >= 1 && conns >= threads)) ||
  die "BENCH_CONNECTIONS ($conns) must be a number ≥ BENCH_THREADS ($threads) ≥ 1"
[[ $shoppers =~ ^[0-9]+$ && $shoppers_p99 =~ ^[0-9]+$ && $skus =~ ^[0-9]+$ ]] && ((shoppers >= 1 && shoppers_p99 >= 1 && skus >= 1)) ||
  die "BENCH_SHOPPERS ($shoppers), BENCH_SHOPPERS_P99 ($shoppers_p99) and BENCH_SKUS ($skus) must be numbers ≥ 1"

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
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
if [[ $use_nginx == 1 && ! -x $nginx_bin ]]; then need_apt+=(nginx); fi
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
  log "h2load not found (Debian: nghttp2-client); skipping the h2c and gRPC runs"
  use_h2load=0
fi
nginx_skipped=
if [[ $use_nginx == 1 ]]; then
  nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
  if [[ ! -x $nginx_bin ]]; then
    nginx_skipped="nginx is not installed (Debian: apt-get install nginx; the script installs it when run as root)"
  elif ! "$nginx_bin" -V 2>&1 | grep -q -- '--with-http_v2_module'; then
    nginx_skipped="$nginx_bin has no HTTP/2 module"
  fi
  if [[ -n $nginx_skipped ]]; then
    log "$nginx_skipped; skipping the nginx runs"
    use_nginx=0
  fi
else
  nginx_skipped="BENCH_NGINX=0"
fi
for t in psql pg_isready curl flock timeout; do command -v "$t" >/dev/null || die "$t is not installed"; done
pg_isready -q || die "PostgreSQL is not reachable at $PGHOST:$PGPORT"

log "building bin/emporium, bin/bench-hello and bin/bench-checkout"
go build -ldflags="-s -w" -o bin/emporium ./cmd/emporium
go build -o bin/bench-hello ./bench/hello
go build -o bin/bench-checkout ./bench/checkout

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

# forget PID…: drop processes that have been waited for from $pids, so that
# cleanup never signals a pid the system has reused.
forget() {
  local p keep=()
  for p in "${pids[@]}"; do [[ " $* " == *" $p "* ]] || keep+=("$p"); done
  pids=("${keep[@]}")
}
# stop_early PID…: stop processes before the script ends (TERM, then KILL
# after 5 s).
stop_early() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  forget "$@"
}

# port_free reports whether nothing listens on 127.0.0.1:$1.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Ports come from below the kernel's ephemeral range (32768+ by default), so
# an outgoing connection cannot take a port chosen before its server binds.
free_port() {
  local p lo
  lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  for _ in $(seq 1 100); do
    p=$((10000 + RANDOM % (lo - 10000)))
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

# start_emporium NAME ARGS…: start bin/emporium serve (or $emporium_cmd) on a
# free port (retrying if another process took the port meanwhile); sets $port
# and $pid.
start_emporium() {
  local name=$1; shift
  for _ in 1 2 3; do
    port=${fixed_port:-$(free_port)} || exit 1
    ./bin/emporium "${emporium_cmd:-serve}" --listen "127.0.0.1:$port" --log-level warn "$@" >"$work/$name.log" 2>&1 &
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
# The address the checkout run's parcels would ship from (serve needs one).
ship_from='{"name":"Bench Warehouse","line1":"1 Dock Rd","city":"Oakland","region":"CA","postalCode":"94607","country":"US"}'
# The checkout run's admin restocks the SKUs it sells. The password must not
# contain the email's local part.
admin_email=bench-admin@example.com
admin_password="restock passphrase $(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
EMPORIUM_PASSWORD=$admin_password timeout 60 ./bin/emporium create-admin --database-url "$db_url" --email "$admin_email" \
  --log-level warn >"$work/create-admin.log" 2>&1 || die "create-admin failed (log below)"

log "starting the product service, two edges and the hello world"
# The product service verifies tokens against the edge's JWKS, so it needs the
# edge's address before the edge starts. Both edges run the user service in
# process, share one signing-key file and the internal credential.
edge_port=$(free_port) || exit 1
itok=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
common_edge=(--services=user,edge --database-url "$db_url" --internal-token "$itok" --signing-keys "$work/signing-keys.json")
# An edge needs an upstream for every service it does not run. These runs
# call the catalog only, so order, payment and shipping point at a port where
# nothing listens (9, discard): the edge marks them down at its first health
# check and never sends them a request. The checkout run below has them all.
no_commerce="order=http://127.0.0.1:9;payment=http://127.0.0.1:9;shipping=http://127.0.0.1:9"
start_emporium product --services=product --database-url "$db_url" --search-path "$work/search" \
  --internal-token "$itok" --jwks-url "http://127.0.0.1:$edge_port/.well-known/jwks.json"
product_port=$port product_pid=$pid
# The plain edge: no rate limits, requests arrive without tokens. Both edges
# run with GOGC=400, as compose.yaml and deploy/ run edge replicas.
GOGC=400 fixed_port=$edge_port start_emporium edge "${common_edge[@]}" --upstream "product=http://127.0.0.1:$product_port;$no_commerce" --rate-limits off
edge_pid=$pid
# The secured edge: limits on in Redis (shared as between replicas, and set
# high enough never to refuse: the run measures their cost, not refusals),
# and every request carries a customer's access token, verified at the edge
# for the limit key and again by the product service.
GOGC=400 start_emporium edge-secured "${common_edge[@]}" --upstream "product=http://127.0.0.1:$product_port;$no_commerce" \
  --redis-url "redis://127.0.0.1:6379/1" --rate-limits "default=1000000:1000000,auth=100:100,login=100:100,login-account=100:100,login-account-all=100:100"
secured_port=$port secured_pid=$pid
# The catalog part of the single-host layout: product, user and edge in one
# process, the edge routing in-process. Bleve lets one process open an index,
# so it gets a copy.
cp -r "$work/search" "$work/search-allinone"
start_emporium all-in-one --services=product,user,edge --database-url "$db_url" --search-path "$work/search-allinone" \
  --internal-token "$itok" --signing-keys "$work/signing-keys.json" --upstream "$no_commerce" --rate-limits off
allinone_port=$port allinone_pid=$pid
./bin/bench-hello --listen 127.0.0.1:0 >"$work/hello.log" 2>&1 &
hello_pid=$!
pids+=("$hello_pid")
for _ in $(seq 1 100); do grep -q '^listening on ' "$work/hello.log" && break; sleep 0.1; done
hello_addr=$(sed -n 's/^listening on //p' "$work/hello.log")
[[ -n $hello_addr ]] || die "bench-hello did not start"
wait_healthy "http://$hello_addr/healthz" "$hello_pid" hello || die "bench-hello exited at start"

# The reference proxy: Debian's nginx in front of the same product process,
# configured as an operator would for a plain proxy: keep-alive HTTP/1.1
# to the upstream for HTTP/1.1 clients (proxy_pass), and an h2c port whose
# requests go on as gRPC over HTTP/2 (grpc_pass). No access log, as the
# edge writes none per request. As many workers as cores, like the edge's
# GOMAXPROCS.
nginx_pids=()
if [[ $use_nginx == 1 ]]; then
  mkdir -p "$work/nginx/tmp"
  for _ in 1 2 3; do
    nginx_port=$(free_port) nginx_h2_port=$(free_port) || exit 1
    [[ $nginx_port != "$nginx_h2_port" ]] || continue
    cat >"$work/nginx/nginx.conf" <<NGINX
daemon off;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  # Two upstream blocks: an idle HTTP/1.1 connection of one must never be
  # reused for HTTP/2 by the other.
  upstream product { server 127.0.0.1:$product_port; keepalive 64; }
  upstream product_grpc { server 127.0.0.1:$product_port; keepalive 64; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://product;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # Workers run as nobody and cannot write under the script's private
      # directory: a response larger than the buffers streams through
      # instead of spilling to a temporary file.
      proxy_max_temp_file_size 0;
    }
  }
  server {
    listen 127.0.0.1:$nginx_h2_port http2;
    location / { grpc_pass grpc://product_grpc; }
  }
}
NGINX
    "$nginx_bin" -t -p "$work/nginx" -c "$work/nginx/nginx.conf" >"$work/nginx-t.log" 2>&1 || die "nginx rejected its configuration: $(cat "$work/nginx-t.log")"
    "$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" >>"$work/nginx.log" 2>&1 &
    nginx_pid=$!
    pids+=("$nginx_pid")
    if wait_healthy "http://127.0.0.1:$nginx_port/healthz" "$nginx_pid" nginx; then break; fi
    grep -q 'Address already in use' "$work/nginx.log" || die "nginx exited at start (log below)"
    forget "$nginx_pid"
    nginx_pid=
  done
  [[ -n ${nginx_pid:-} ]] || die "nginx: could not find free ports"
  # The master and its workers: their CPU is nginx's.
  nginx_pids=("$nginx_pid" $(pgrep -P "$nginx_pid" || true))
  ((${#nginx_pids[@]} > 1)) || die "nginx started no workers"
  nginx_version=$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')
fi

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
proxies=("$product" "$edge")
if [[ $use_nginx == 1 ]]; then
  nginx=http://127.0.0.1:$nginx_port
  proxies+=("$nginx")
fi
for base in "${proxies[@]}"; do
  rpc "$base" GetProduct "$get_body" >"$work/get.json" || die "GetProduct failed at $base"
  rpc "$base" ListProducts "$list_body" >/dev/null || die "ListProducts failed at $base"
done
# The same GetProduct as a gRPC request: the protobuf message (field 2,
# slug) in a gRPC frame (uncompressed flag, 4-byte big-endian length).
grpc_body_file=$work/get-body.grpc
((${#slug} < 126)) || die "the slug $slug is too long for one-byte protobuf lengths"
hex_prefix=$(printf '\\x00\\x00\\x00\\x00\\x%02x\\x12\\x%02x' $((${#slug} + 2)) ${#slug})
printf "$hex_prefix%s" "$slug" >"$grpc_body_file"
# grpc_ok URL: one gRPC call over h2c answers grpc-status 0 and the product.
grpc_ok() {
  curl -sS --max-time 10 --http2-prior-knowledge -o "$work/grpc.out" -D "$work/grpc.headers" \
    -H 'Content-Type: application/grpc' -H 'TE: trailers' --data-binary @"$grpc_body_file" "$1$svc/GetProduct" &&
    grep -qi '^grpc-status: *0' "$work/grpc.headers" && grep -qF "$slug" "$work/grpc.out"
}
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
# pg_ticks: "PID TICKS" for each of them, read in one pass (the checkout run
# has dozens, and a subshell each would stretch the snapshot).
pg_ticks() {
  local p files=()
  for p in $(pg_pids); do files+=("/proc/$p/stat"); done
  ((${#files[@]})) || return 0
  cat "${files[@]}" 2>/dev/null | awk '{ print $1, $14 + $15 }' # a backend's comm is "postgres": no spaces
}
# pg_snapshot and pg_since: PostgreSQL backend ticks now, and used since then.
pg_snapshot() {
  local p t
  pg_before=()
  while read -r p t; do pg_before[$p]=$t; done < <(pg_ticks)
}
pg_since() {
  local p t pg=0
  while read -r p t; do pg=$((pg + t - ${pg_before[$p]:-0})); done < <(pg_ticks)
  echo "$pg"
}
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
  cpu0_nginx=$(proc_ticks "${nginx_pids[@]}")
  cpu0_load=$(children_ticks "$work/times")
  pg_snapshot
  cpu0_busy=$(busy_ticks) cpu0_time=$(date +%s%N)
}
# account_cpu: CPU ticks used since snapshot_cpu per process group, and the
# wall time: "load hello product edge nginx postgres other busy wall_ns".
account_cpu() {
  times >"$work/times"
  local wall_ns=$(($(date +%s%N) - cpu0_time)) busy=$(($(busy_ticks) - cpu0_busy))
  local pg
  pg=$(pg_since)
  local hello=$(($(proc_ticks "$hello_pid") - cpu0_hello))
  local prod=$(($(proc_ticks "$product_pid" "$allinone_pid") - cpu0_product))
  local edg=$(($(proc_ticks "$edge_pid" "$secured_pid") - cpu0_edge))
  local ngx=$(($(proc_ticks "${nginx_pids[@]}") - cpu0_nginx))
  local load=$(($(children_ticks "$work/times") - cpu0_load))
  local other=$((busy - hello - prod - edg - ngx - load - pg))
  if ((other < 0)); then other=0; fi
  echo "$load $hello $prod $edg $ngx $pg $other $busy $wall_ns"
}
# cpu_row NAME REQUESTS TICKS…: a row of the CPU table: % of one core per
# group, then the CPU time the server side (servers, proxies and PostgreSQL)
# spent per request, and the proxy's (edge or nginx) alone.
cpu_row() {
  local name=$1 n=$2; shift 2
  awk -v name="$name" -v n="$n" -v clk="$clk" -v l="$1" -v h="$2" -v p="$3" -v e="$4" -v x="$5" -v g="$6" -v o="$7" -v b="$8" -v w="$9" \
    'function pct(t) { return sprintf("%d %%", t / clk / (w / 1e9) * 100 + 0.5) }
     function us(t) { return n > 0 ? sprintf("%.0f µs", t / clk / n * 1e6) : "-" }
     BEGIN { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, pct(l), pct(h), pct(p), pct(e), pct(x), pct(g),
       pct(o), pct(b), us(h + p + e + x + g), (e + x > 0.01 * b) ? us(e + x) : "-" }'
}
# proxy_us TICKS… REQUESTS: the CPU µs per request of the proxy columns (edge + nginx).
proxy_us() { awk -v e="$4" -v x="$5" -v n="${10}" -v clk="$clk" 'BEGIN { printf "%.1f", (n > 0) ? (e + x) / clk / n * 1e6 : 0 }'; }

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
if [[ $use_nginx == 1 ]]; then
  scenarios+=(
    "GetProduct via nginx|POST|$get_body|$nginx$svc/GetProduct"
    "ListProducts(20) via nginx|POST|$list_body|$nginx$svc/ListProducts"
  )
fi
declare -A rps p99 errs pus
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
  pus[$name]=$(proxy_us "${cpu[@]}" "${r[requests]}")
  # cpu[6] is the CPU other processes took: over a quarter of a core means
  # something else on the machine competed with this run.
  other_pct=$(awk -v o="${cpu[6]}" -v w="${cpu[8]}" -v clk="$clk" 'BEGIN { printf "%d", o / clk / (w / 1e9) * 100 + 0.5 }')
  if ((other_pct > 25)); then disturbed+=("$name ($other_pct %)"); fi
  unset r
done

# HTTP/2 runs with h2load (one h2c connection per client, one stream at a
# time): the hello world and GetProduct over Connect JSON, then GetProduct
# over gRPC directly, through the edge and through nginx's grpc_pass. h2load
# reports throughput and mean latency but no percentiles, and judges
# responses by their HTTP status only: each gRPC target is checked for
# grpc-status 0 with curl before and after its run.
h2_rows=()
declare -A h2rps h2pus
h2load_cmd_text=
if [[ $use_h2load == 1 ]]; then
  printf '%s' "$get_body" >"$work/get-body.json"
  h2_targets=(
    "hello world (net/http, h2c)|http://$hello_addr/|"
    "GetProduct direct (h2c)|$product$svc/GetProduct|json"
    "GetProduct via edge (h2c)|$edge$svc/GetProduct|json"
    "GetProduct direct (gRPC)|$product|grpc"
    "GetProduct via edge (gRPC)|$edge|grpc"
  )
  if [[ $use_nginx == 1 ]]; then h2_targets+=("GetProduct via nginx (gRPC, grpc_pass)|http://127.0.0.1:$nginx_h2_port|grpc"); fi
  for target in "${h2_targets[@]}"; do
    IFS='|' read -r name url kind <<<"$target"
    h2load_args=(-c "$conns" -t "$threads" -m 1)
    case $kind in
      json) h2load_args+=(-H 'content-type: application/json' -d "$work/get-body.json") ;;
      grpc)
        grpc_base=$url
        grpc_ok "$grpc_base" || die "$name: a gRPC GetProduct did not answer grpc-status 0: $(cat "$work/grpc.headers" 2>/dev/null)"
        h2load_args+=(-H 'content-type: application/grpc' -H 'te: trailers' -d "$grpc_body_file")
        url=$grpc_base$svc/GetProduct
        ;;
    esac
    log "$name: h2load, ${warmup}s warm-up, ${duration}s measured"
    if ((warmup > 0)); then
      timeout --signal=INT --kill-after=5 $((warmup + 30)) h2load "${h2load_args[@]}" -D "$warmup" "$url" >"$work/h2load.out" 2>&1 ||
        die "$name: h2load warm-up failed: $(tail -n 20 "$work/h2load.out")"
    fi
    snapshot_cpu
    timeout --signal=INT --kill-after=5 $((duration + 30)) \
      h2load "${h2load_args[@]}" -D "$duration" "$url" >"$work/h2load.out" 2>&1 || die "$name: h2load failed: $(tail -n 20 "$work/h2load.out")"
    account_cpu >"$work/cpu"
    read -r -a cpu <"$work/cpu"
    if [[ $kind == grpc ]]; then grpc_ok "$grpc_base" || failures+=("$name: a gRPC GetProduct after the run did not answer grpc-status 0"); fi
    h2_rps=$(awk '/^finished in/ { for (i = 1; i <= NF; i++) if ($(i) ~ /req\/s/) { v = $(i - 1); gsub(",", "", v); printf "%.0f", v } }' "$work/h2load.out")
    h2_mean=$(awk '$1 == "time" && $2 == "for" && $3 == "request:" { v = $6; sub(/[a-z]+$/, " &", v); print v }' "$work/h2load.out")
    read -r ok2 s3 s4 s5 < <(awk '/^status codes:/ { gsub(",", ""); print $3, $5, $7, $9 }' "$work/h2load.out") || true
    read -r h2_done _ h2_fail h2_err < <(awk '/^requests:/ { gsub(",", ""); print $6, $8, $10, $12 }' "$work/h2load.out") || true
    ok2=${ok2:-0} s3=${s3:-0} s4=${s4:-0} s5=${s5:-0} h2_done=${h2_done:-0} h2_fail=${h2_fail:-0} h2_err=${h2_err:-0}
    sed 's/^/    /' "$work/h2load.out" | grep -E 'finished in|requests:|status codes|time for request' >&2 || true
    bad=$((s3 + s4 + s5))
    ((bad == 0 && h2_fail == 0 && h2_err == 0 && ok2 > 0)) || failures+=("$name: $ok2 2xx, $bad non-2xx, $h2_fail failed, $h2_err errored")
    h2_rows+=("| $name | ${h2_rps:-?} | ${h2_mean:-?} | $h2_done | $bad / $((h2_fail + h2_err)) |")
    h2rps[$name]=${h2_rps:-0}
    cpu_rows+=("$(cpu_row "$name" "$h2_done" "${cpu[@]}")")
    h2pus[$name]=$(proxy_us "${cpu[@]}" "$h2_done")
    other_pct=$(awk -v o="${cpu[6]}" -v w="${cpu[8]}" -v clk="$clk" 'BEGIN { printf "%d", o / clk / (w / 1e9) * 100 + 0.5 }')
    if ((other_pct > 25)); then disturbed+=("$name ($other_pct %)"); fi
  done
  h2load_cmd_text="h2load -c $conns -t $threads -m 1 -D $duration -H 'content-type: application/json' -d get-body.json http://127.0.0.1:PORT$svc/GetProduct (without the body and header, http://127.0.0.1:H/ for the hello world; for gRPC -H 'content-type: application/grpc' -H 'te: trailers' -d get-body.grpc, the request in its gRPC frame); each after a ${warmup} s warm-up run of the same"
fi

# ---------------------------------------------------------------- checkout end to end
# Whole purchases through the edge of the default single-host layout: every
# service in one process, PostgreSQL, the payment simulator. The catalog
# servers stop first: their runs are over, and their database pools (one per
# service, as many connections as cores and at least 4) would take
# PostgreSQL's connections and cores from this process's.
log "stopping the catalog servers; starting every service in one process for the checkout run"
stop_early "$product_pid" "$edge_pid" "$secured_pid" "$allinone_pid" "$hello_pid" ${nginx_pid:+"$nginx_pid"}
cp -r "$work/search" "$work/search-checkout"
start_emporium checkout --services=product,user,order,payment,shipping,edge --database-url "$db_url" \
  --search-path "$work/search-checkout" --internal-token "$itok" --signing-keys "$work/signing-keys.json" --rate-limits off \
  --ship-from "$ship_from" --label-dir "$work/labels"
checkout_port=$port checkout_pid=$pid
checkout_args=(-edge "http://127.0.0.1:$checkout_port" -admin-email "$admin_email" -shoppers "$shoppers" -skus "$skus"
  -warmup "${warmup}s" -duration "${duration}s" -json)
checkout_cmd_text="BENCH_ADMIN_PASSWORD=… bin/bench-checkout -edge http://127.0.0.1:C -admin-email $admin_email -shoppers $shoppers -skus $skus -warmup ${warmup}s -duration ${duration}s -json"
checkout_name="checkout end to end ($shoppers shoppers, $skus SKUs)"

# wait_line FILE LINE PID: until FILE has the line LINE; fails if PID exits first.
wait_line() {
  until grep -qxF -- "$2" "$1" 2>/dev/null; do kill -0 "$3" 2>/dev/null || return 1; sleep 0.05; done
}
log "$checkout_name: setup, ${warmup}s warm-up, ${duration}s measured"
# Setup (registering the shoppers hashes a password each) gets up to 3 minutes.
BENCH_ADMIN_PASSWORD=$admin_password timeout --signal=INT --kill-after=5 $((warmup + duration + 180)) \
  ./bin/bench-checkout "${checkout_args[@]}" >"$work/checkout.json" 2>"$work/checkout.log" &
checkout_timeout_pid=$!
pids+=("$checkout_timeout_pid")
checkout_ok=1 co_cpu=()
# The driver brackets its measured run with two lines on stderr; the CPU
# accounting follows them. The driver reports its own CPU over its measured
# run (it may have exited before this shell could read /proc).
if wait_line "$work/checkout.log" "bench-checkout: measuring" "$checkout_timeout_pid"; then
  pg_snapshot
  co0_server=$(proc_ticks "$checkout_pid") co0_busy=$(busy_ticks) co0_time=$(date +%s%N)
  if wait_line "$work/checkout.log" "bench-checkout: measured" "$checkout_timeout_pid"; then
    co_wall=$(($(date +%s%N) - co0_time)) co_busy=$(($(busy_ticks) - co0_busy))
    co_server=$(($(proc_ticks "$checkout_pid") - co0_server))
    co_pg=$(pg_since)
    co_cpu=("$co_server" "$co_pg" "$co_busy" "$co_wall")
  fi
fi
if wait "$checkout_timeout_pid"; then checkout_rc=0; else checkout_rc=$?; fi
forget "$checkout_timeout_pid"
sed 's/^/    /' "$work/checkout.log" >&2
# jnum KEY [FILE]: a number from the driver's one-line JSON result (FILE:
# the first run's, checkout.json, unless named).
jnum() { sed -nE "s/.*\"$1\":(-?[0-9.e+]+)[,}].*/\1/p" "${2:-$work/checkout.json}" | head -n 1; }
# checkout_row NAME OK RATE P50 P90 P99 MAX DONE: a row of the checkout table.
checkout_row() {
  if (($2)); then echo "| $1 | $3 | $4 ms | $5 ms | $6 ms | $7 ms | $8 | 0 |"
  else echo "| $1 | failed | | | | | ${8:-0} | see above |"; fi
}
co_rate=$(jnum checkouts_per_s) co_done=$(jnum completed) co_p50=$(jnum p50_ms) co_p90=$(jnum p90_ms) co_p99=$(jnum p99_ms)
co_max=$(jnum max_ms) co_mean=$(jnum mean_ms) co_add=$(jnum additem_mean_ms) co_co=$(jnum checkout_mean_ms) co_pay=$(jnum payorder_mean_ms)
co_add99=$(jnum additem_p99_ms) co_co99=$(jnum checkout_p99_ms) co_pay99=$(jnum payorder_p99_ms)
co_driver_ms=$(jnum driver_cpu_ms)
co_setup=$(sed -nE 's/.*signed in \(([0-9.]+) s\)$/\1/p' "$work/checkout.log")
if ((checkout_rc != 0)); then
  checkout_ok=0
  why=$(grep -v '^bench-checkout: \(setup\|measur\)' "$work/checkout.log" | tail -n 1 || true)
  ((checkout_rc == 124)) && why="timed out after $((warmup + duration + 180)) s; ${why:-no message}"
  failures+=("$checkout_name: the driver failed (exit $checkout_rc): ${why:-no message}")
elif [[ -z $co_rate || -z $co_p99 || -z $co_done ]] || ((co_done == 0)); then
  checkout_ok=0
  failures+=("$checkout_name: no result from bench-checkout: $(head -c 300 "$work/checkout.json")")
elif ((${#co_cpu[@]} == 0)); then
  failures+=("$checkout_name: the driver never reported its measured run")
fi
co_row=$(checkout_row "$checkout_name" "$checkout_ok" "$co_rate" "$co_p50" "$co_p90" "$co_p99" "$co_max" "$co_done")
if ((checkout_ok)); then
  co_aim_ok=$(awk -v r="$co_rate" 'BEGIN { print (r >= 300) }')
  co_aim_text="$co_rate checkouts/s"
else
  co_aim_ok=0 co_aim_text="the run failed"
fi
# The latency aim is for fewer shoppers: with a closed loop, 64 shoppers at
# the throughput above wait in line for each other (Little's law). A second
# run on the same process; when it would have as many shoppers as the
# first, the first serves.
co_p99_name="checkout end to end ($shoppers_p99 shoppers, $skus SKUs)" co_p99_row=
if ((shoppers_p99 == shoppers)); then
  co_p99_aim_ok=$(awk -v p="${co_p99:-1e9}" -v ok="$checkout_ok" 'BEGIN { print (ok && p < 100) }')
  co_p99_aim_text=$( ((checkout_ok)) && echo "p99 $co_p99 ms (the run above)" || echo "the run failed")
else
  log "$co_p99_name: setup, ${warmup}s warm-up, ${duration}s measured"
  if BENCH_ADMIN_PASSWORD=$admin_password timeout --signal=INT --kill-after=5 $((warmup + duration + 180)) \
    ./bin/bench-checkout "${checkout_args[@]}" -shoppers "$shoppers_p99" >"$work/checkout-p99.json" 2>"$work/checkout-p99.log"; then
    p99_rc=0
  else
    p99_rc=$?
  fi
  sed 's/^/    /' "$work/checkout-p99.log" >&2
  f=$work/checkout-p99.json
  l_rate=$(jnum checkouts_per_s "$f") l_done=$(jnum completed "$f") l_p99=$(jnum p99_ms "$f")
  l_ok=0
  if ((p99_rc == 0)) && [[ -n $l_rate && -n $l_p99 && -n $l_done ]] && ((l_done > 0)); then l_ok=1; fi
  co_p99_row=$(checkout_row "$co_p99_name" "$l_ok" "$l_rate" "$(jnum p50_ms "$f")" "$(jnum p90_ms "$f")" "$l_p99" "$(jnum max_ms "$f")" "$l_done")
  if ((l_ok)); then
    co_p99_aim_ok=$(awk -v p="$l_p99" 'BEGIN { print (p < 100) }')
    co_p99_aim_text="p99 $l_p99 ms ($l_rate checkouts/s)"
  else
    co_p99_aim_ok=0 co_p99_aim_text="the run failed"
    failures+=("$co_p99_name: no result (driver exit $p99_rc): $(grep -v '^bench-checkout: \(setup\|measur\)' "$work/checkout-p99.log" | tail -n 1)")
  fi
fi
co_cpu_row=
if ((${#co_cpu[@]})) && [[ -n $co_driver_ms ]]; then
  read -r co_server co_pg co_busy co_wall <<<"${co_cpu[*]}"
  # The driver's CPU in ticks, scaled from its own window to this shell's.
  co_load=$(awk -v ms="$co_driver_ms" -v clk="$clk" -v w="$co_wall" -v d="$duration" 'BEGIN { printf "%d", ms / 1000 * clk * (w / 1e9) / d + 0.5 }')
  co_other=$((co_busy - co_load - co_server - co_pg))
  if ((co_other < 0)); then co_other=0; fi
  co_cpu_row=$(awk -v name="$checkout_name" -v n="${co_done:-0}" -v clk="$clk" -v l="$co_load" -v s="$co_server" -v g="$co_pg" \
    -v o="$co_other" -v b="$co_busy" -v w="$co_wall" \
    'function pct(t) { return sprintf("%d %%", t / clk / (w / 1e9) * 100 + 0.5) }
     function us(t) { return n > 0 ? sprintf("%.0f µs", t / clk / n * 1e6) : "-" }
     BEGIN { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, pct(l), pct(s), pct(g), pct(o), pct(b),
       us(s), us(g), us(s + g) }')
  other_pct=$(awk -v o="$co_other" -v w="$co_wall" -v clk="$clk" 'BEGIN { printf "%d", o / clk / (w / 1e9) * 100 + 0.5 }')
  if ((other_pct > 25)); then disturbed+=("$checkout_name ($other_pct %)"); fi
fi

# ---------------------------------------------------------------- dev at rest
# The laptop layout with nobody using it: bin/emporium dev on a fresh data
# directory (SQLite, every service in one process, its background jobs and
# checks running). Its own CPU time over $idle s, once it has answered
# /healthz and had $idle_settle s more to finish starting (the demo catalog's
# seed and search index).
log "stopping the checkout server; emporium dev at rest: ${idle_settle}s to settle, ${idle}s measured"
stop_early "$checkout_pid"
emporium_cmd=dev start_emporium dev --data-dir "$work/dev"
dev_pid=$pid
sleep "$idle_settle"
idle0=$(proc_ticks "$dev_pid")
sleep "$idle"
idle_ticks=$(($(proc_ticks "$dev_pid") - idle0))
kill -0 "$dev_pid" 2>/dev/null || failures+=("emporium dev exited while at rest: $(tail -n 5 "$work/dev.log")")
stop_early "$dev_pid"
idle_s=$(awk -v t="$idle_ticks" -v clk="$clk" 'BEGIN { printf "%.2f", t / clk }')
idle_pct=$(awk -v t="$idle_ticks" -v clk="$clk" -v d="$idle" 'BEGIN { printf "%.2f", t / clk / d * 100 }')
idle_ok=$(awk -v p="$idle_pct" 'BEGIN { print (p < 1) }')

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
# The edge beside nginx: CPU per proxied request of each proxy process and
# req/s as a share of the direct run, per protocol ("name|direct|edge|nginx"
# scenario names; h2 runs are looked up in the h2 tables).
vs_rows=() vs_aims=()
# vs_row LABEL DIRECT EDGE NGINX KIND(h1|h2)
vs_row() {
  local label=$1 d e x rd re rx ue ux
  if [[ $5 == h2 ]]; then rd=${h2rps[$2]:-} re=${h2rps[$3]:-} rx=${h2rps[$4]:-} ue=${h2pus[$3]:-} ux=${h2pus[$4]:-}
  else rd=${rps[$2]:-} re=${rps[$3]:-} rx=${rps[$4]:-} ue=${pus[$3]:-} ux=${pus[$4]:-}; fi
  [[ -n $rd && -n $re && -n $ue ]] || return 0
  vs_rows+=("$(awk -v l="$label" -v rd="$rd" -v re="$re" -v rx="$rx" -v ue="$ue" -v ux="$ux" 'BEGIN {
    xr = (rx != "") ? sprintf("%s (%.2f×)", rx, rx / rd) : "-"
    xu = (ux != "") ? sprintf("%s µs", ux) : "-"
    q = (ux != "" && ux > 0) ? sprintf("%.2f", ue / ux) : "-"
    printf "| %s | %s | %s (%.2f×) | %s | %s µs | %s | %s |", l, rd, re, re / rd, xr, ue, xu, q }')")
  if [[ -n $ux ]]; then
    local q ok
    q=$(awk -v a="$ue" -v b="$ux" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 99 }')
    ok=$(awk -v q="$q" 'BEGIN { print (q <= 1.5) }')
    vs_aims+=("| edge CPU per proxied request ≤ 1.5 × nginx's, $label (limits off) | $ue ÷ $ux µs = $q× | $(verdict "$ok") |")
  fi
}
vs_row "GetProduct, Connect JSON, HTTP/1.1" "GetProduct direct" "GetProduct via edge" "GetProduct via nginx" h1
vs_row "ListProducts(20), Connect JSON, HTTP/1.1" "ListProducts(20) direct" "ListProducts(20) via edge" "ListProducts(20) via nginx" h1
vs_row "GetProduct, gRPC (h2c)" "GetProduct direct (gRPC)" "GetProduct via edge (gRPC)" "GetProduct via nginx (gRPC, grpc_pass)" h2
secure_us=${pus["GetProduct via edge, auth + limits"]} plain_us=${pus["GetProduct via edge"]}
secure_cpu_cost=$(awk -v s="$secure_us" -v e="$plain_us" 'BEGIN { printf "%.1f", (s / e - 1) * 100 }')
secure_cpu_ok=$(awk -v c="$secure_cpu_cost" 'BEGIN { print (c <= 20) }')
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
    echo "**Other work on the machine took CPU during:** $(printf '%s; ' "${disturbed[@]}" | sed 's/; $//') (of one core;"
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
  echo "- \`GOGC=400 bin/emporium serve --services=user,edge --listen 127.0.0.1:E --database-url $db_url --internal-token T --signing-keys K --upstream 'product=http://127.0.0.1:P;order=http://127.0.0.1:9;payment=…;shipping=…' --rate-limits off --log-level warn\`"
  echo "  (a separate edge process in front of the product service, with no rate limits; requests carry no token;"
  echo "  order, payment and shipping point at a port where nothing listens: these runs never call them, and an edge"
  echo "  needs an upstream for every service it does not run)"
  echo "- The *auth + limits* edge: the same with \`--redis-url redis://127.0.0.1:6379/1 --rate-limits default=1000000:1000000,…\`:"
  echo "  every request takes a token from a Redis bucket (one Lua call) and carries a customer's access token, which the"
  echo "  edge verifies for the bucket key and the product service verifies again (both cache verified tokens)."
  echo "- *edge in process*: \`bin/emporium serve --services=product,user,edge … --upstream 'order=http://127.0.0.1:9;…'\`, the"
  echo "  catalog part of the single-host layout, where the edge routes to the services inside its own process (the whole"
  echo "  layout, with order, payment and shipping, is the [checkout run](#checkout-end-to-end))."
  echo "- \`bin/bench-hello --listen 127.0.0.1:0\` (\`bench/hello\`: net/http over HTTP/1.1 and h2c, \`GET /\` → \`hello world\`)"
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
  echo "## The edge beside nginx"
  echo
  if [[ $use_nginx == 1 ]]; then
    echo "The same requests to the same product process, directly, through the edge (\`--rate-limits off\`, no token) and"
    echo "through $nginx_version (Debian's package: \`worker_processes auto\`, no access log, an upstream with \`keepalive 64\`;"
    echo "\`proxy_pass\` over HTTP/1.1 keep-alive for the HTTP/1.1 runs, an h2c listener with \`grpc_pass\` for gRPC), in this"
    echo "run. *CPU per proxied request* is the proxy process's user + system time (\`/proc/PID/stat\`; nginx: its master"
    echo "and workers) during the measured run, divided by the requests answered."
    echo
    echo "| requests | direct req/s | via edge req/s (× direct) | via nginx req/s (× direct) | edge CPU per request | nginx CPU per request | edge ÷ nginx |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${vs_rows[@]}"
    echo
    echo "With auth + limits (Redis bucket, token verified at the edge): ${secure_us} µs of edge CPU per GetProduct against"
    echo "${plain_us} µs without (+${secure_cpu_cost} %)."
  else
    echo "Not measured in this run: ${nginx_skipped}."
  fi
  echo
  echo "## Checkout end to end"
  echo
  echo "Whole purchases as a signed-in shopper makes them, through the edge of the default single-host layout"
  echo "(every service and the edge in one process, PostgreSQL, payments to the built-in simulator). The servers"
  echo "above are stopped first; after the seed, the script creates an admin (who restocks the SKUs sold):"
  echo
  echo '```sh'
  echo "EMPORIUM_PASSWORD=… bin/emporium create-admin --database-url $db_url --email $admin_email"
  echo "bin/emporium serve --services=product,user,order,payment,shipping,edge --listen 127.0.0.1:C --database-url $db_url \\"
  echo "  --search-path DIR2 --internal-token T --signing-keys K --rate-limits off --ship-from JSON --label-dir DIR3 --log-level warn"
  echo "$checkout_cmd_text"
  echo '```'
  echo
  echo "- \`bench/checkout\` signs the admin in, takes the first $skus in-stock SKUs of ListProducts and adds 100000 units"
  echo "  to each (AdjustStock), then registers and signs in $shoppers new customers (setup: ${co_setup:-?} s)."
  echo "- Each shopper, in a closed loop: AddItem (a random one of the SKUs, quantity 1) → Checkout (a new idempotency"
  echo "  key, a US address, \`local:standard\` shipping) → PayOrder (card 4242424242424242, a new key). A checkout"
  echo "  counts when PayOrder answers ORDER_STATUS_PAID; any failed call or unpaid order fails the run. The latency"
  echo "  is that of the three calls together. Checkouts ending in the ${warmup} s warm-up are not counted."
  echo "- Connect protocol, binary protobuf, no compression, over HTTP/1.1 keep-alive (one connection per shopper)."
  if ((shoppers_p99 != shoppers)); then
    echo "- Then the same driver again, with \`-shoppers $shoppers_p99\` (new customers), against the same process: the"
    echo "  latency aim is for $shoppers_p99 shoppers (with $shoppers in a closed loop, each waits for the others' checkouts)."
  fi
  echo
  echo "| scenario | checkouts/s | p50 | p90 | p99 | max | completed | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  echo "$co_row"
  [[ -z $co_p99_row ]] || echo "$co_p99_row"
  if ((checkout_ok)); then
    echo
    echo "| call | mean | p99 |"
    echo "|---|---:|---:|"
    echo "| AddItem | $co_add ms | $co_add99 ms |"
    echo "| Checkout | $co_co ms | $co_co99 ms |"
    echo "| PayOrder | $co_pay ms | $co_pay99 ms |"
    echo "| the whole checkout | $co_mean ms | $co_p99 ms |"
  fi
  echo
  echo "## emporium dev at rest"
  echo
  echo "\`bin/emporium dev --data-dir DIR --listen 127.0.0.1:D --log-level warn\` on a fresh data directory, nobody using it:"
  echo "its user + system CPU time (\`/proc/PID/stat\`) over $idle s, starting $idle_settle s after it first answered /healthz."
  echo
  echo "| process | CPU time in $idle s | share of one core |"
  echo "|---|---:|---:|"
  echo "| emporium dev | $idle_s s | $idle_pct % |"
  echo
  echo "## Aims"
  echo
  echo "| aim | this run | |"
  echo "|---|---|---|"
  echo "| direct GetProduct ÷ hello world req/s ≥ 0.4 (the first aim) | $get_d ÷ $hello = $ratio | $(verdict "$ratio_ok") |"
  echo "| direct GetProduct, Connect JSON over HTTP/1.1 ÷ hello world over HTTP/1.1, req/s ≥ 0.8 | $get_d ÷ $hello = $ratio | $(verdict "$(awk -v r="$ratio" 'BEGIN { print (r >= 0.8) }')") |"
  if ((${#h2rps[@]})); then
    # The aim is for gRPC; Connect JSON over the same h2c connections is
    # shown beside it.
    # A run that failed has no figure (the report then goes to bench-failed.md).
    h2_hello=${h2rps["hello world (net/http, h2c)"]:-0} h2_grpc=${h2rps["GetProduct direct (gRPC)"]:-0} h2_get=${h2rps["GetProduct direct (h2c)"]:-0}
    h2_ratio=$(awk -v a="$h2_grpc" -v b="$h2_hello" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }')
    h2_json_ratio=$(awk -v a="$h2_get" -v b="$h2_hello" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }')
    echo "| direct GetProduct over gRPC ÷ hello world over h2c, req/s ≥ 0.8 (Connect JSON over h2c, no aim: $h2_get ÷ $h2_hello = $h2_json_ratio) | $h2_grpc ÷ $h2_hello = $h2_ratio | $(verdict "$(awk -v r="$h2_ratio" 'BEGIN { print (r >= 0.8) }')") |"
  fi
  echo "| edge cost = 1 − (edge GetProduct ÷ direct GetProduct) ≤ 30 % | 1 − $get_e ÷ $get_d = $edge_cost % | $(verdict "$edge_ok") |"
  echo "| p99 < 10 ms at $conns connections (every Emporium scenario) | worst: $worst_name $(ms "$worst_p99") | $(verdict "$p99_ok") |"
  echo "| edge cost, edge in the same process (serve --services=product,user,edge) ≤ 30 % | 1 − $get_a ÷ $get_d = $inproc_cost % | $(verdict "$(awk -v c="$inproc_cost" 'BEGIN { print (c <= 30) }')") |"
  echo "| auth + limits cost = 1 − (secured edge GetProduct ÷ plain edge GetProduct) ≤ 20 % (Kong: ~24 %) | 1 − $get_s ÷ $get_e = $secure_cost % | $(verdict "$secure_ok") |"
  echo "| auth + limits add ≤ 20 % to the edge's CPU per proxied GetProduct | $secure_us ÷ $plain_us µs − 1 = $secure_cpu_cost % | $(verdict "$secure_cpu_ok") |"
  if ((${#vs_aims[@]})); then printf '%s\n' "${vs_aims[@]}"; fi
  echo "| completed checkouts/s ≥ 300 at $shoppers shoppers (AddItem + Checkout + PayOrder, through the edge, PostgreSQL, payment simulator) | $co_aim_text | $(verdict "$co_aim_ok") |"
  echo "| checkout p99 < 100 ms at $shoppers_p99 shoppers (the same, fewer shoppers) | $co_p99_aim_text | $(verdict "$co_p99_aim_ok") |"
  echo "| \`emporium dev\` at rest < 1 % of a core, averaged over $idle s | $idle_pct % | $(verdict "$idle_ok") |"
  echo
  echo "p99 per scenario: $p99_list. Edge cost for ListProducts (no aim): $list_cost %."
  echo
  echo "## Where the CPU went"
  echo
  echo "CPU used during each measured run, in % of one core (200 % = both cores busy), from /proc: the load"
  echo "generator, each server process, the PostgreSQL backends serving \`$db\`, and everything else on the machine."
  echo
  echo "*Server CPU per request* is the CPU time the servers, proxies and PostgreSQL spent per request, which bounds"
  echo "req/s once both cores are busy; *proxy CPU per request* is the edge's or nginx's part of it."
  echo
  echo "| scenario | load generator | hello | product | edge | nginx | PostgreSQL | other | total busy | server CPU per request | proxy CPU per request |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${cpu_rows[@]}"
  if [[ -n $co_cpu_row ]]; then
    echo
    echo "The checkout run: *emporium* is the one process running every service and the edge; the load generator is"
    echo "bench-checkout. The last three columns are CPU time per completed checkout (three calls)."
    echo
    echo "| scenario | load generator | emporium | PostgreSQL | other | total busy | emporium per checkout | PostgreSQL per checkout | server CPU per checkout |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    echo "$co_cpu_row"
  fi
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
