#!/usr/bin/env bash
# Where a one-per-turn fan-out's server CPU goes, with and without the
# flush's io_uring (bench/README.md, "Batched submission with io_uring"):
# system calls per delivery (perf stat on syscall tracepoints) and the
# server's CPU by layer (perf record -g, inclusive shares of tcp_sendmsg,
# the system call entry and io_uring_enter).
#   bash bench/uring-profile.sh uring|writev|floor [subs=1000] [events=2000] [outdir] [stat|record]
# stat counts system calls (tracepoints, which slow every call a little);
# record samples the CPU without them (a separate run: default both, one
# after the other).
# Server pinned to CPU 0, the load generator (out/bench/bench/load/sse_load,
# built by bench/run.mjs) to CPU 1. Needs perf and root (tracepoints).
# Every process started here is stopped here, by pid.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=$1
subs=${2:-1000}
events=${3:-2000}
out=${4:-/tmp/uring-profile}
what=${5:-both}
if [ "$what" = both ]; then
  bash "$0" "$mode" "$subs" "$events" "$out" stat && bash "$0" "$mode" "$subs" "$events" "$out" record
  exit
fi
mkdir -p "$out"
tag="$mode-$subs"
gen=out/bench/bench/load/sse_load
case $mode in
  uring) srv=(env SSE_NATIVE_IO_URING=1 node bench/servers/sse-native-adopted.mjs 0) ;;
  writev) srv=(env SSE_NATIVE_IO_URING=0 node bench/servers/sse-native-adopted.mjs 0) ;;
  floor) srv=(out/bench/bench/load/sse_floor 0) ;;
  *) echo "mode: uring|writev|floor" >&2; exit 2 ;;
esac
ulimit -n 20000 2>/dev/null || true
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

taskset -c 0 "${srv[@]}" >"$out/$tag.server.out" 2>&1 &
spid=$!
pids+=("$spid")
port=
for _ in $(seq 100); do
  port=$(sed -n 's/^LISTENING \([0-9]*\).*/\1/p' "$out/$tag.server.out")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "server did not listen" >&2; exit 1; }
# The server process itself (env and node exec in place).
taskset -c 1 "$gen" --port "$port" --path /sub --connections "$subs" --until-events "$events" \
  --sources 4 --duration 600 >"$out/$tag.gen.out" 2>"$out/$tag.gen.err" &
gpid=$!
pids+=("$gpid")
for _ in $(seq 600); do grep -q READY "$out/$tag.gen.err" && break; sleep 0.1; done
sleep 1
stat=$out/$tag.stat
if [ "$what" = stat ]; then
  perf stat -x, -o "$stat" -e task-clock,raw_syscalls:sys_enter,syscalls:sys_enter_io_uring_enter,syscalls:sys_enter_writev,syscalls:sys_enter_write,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendto -p "$spid" &
else
  perf record -q -F 4999 -g -o "$out/$tag.data" -p "$spid" 2>/dev/null &
fi
ppid=$!
pids+=("$ppid")
sleep 0.5
curl -s "http://127.0.0.1:$port/publish?n=$events&bytes=64&mode=turn" >/dev/null
wait "$gpid"
kill -INT "$ppid" 2>/dev/null
wait "$ppid" 2>/dev/null
deliveries=$(grep -o '"events":[0-9]*' "$out/$tag.gen.out" | tail -1 | cut -d: -f2)
echo "== $tag $what: $deliveries deliveries"
if [ "$what" = stat ]; then
  awk -F, -v d="$deliveries" '$1 ~ /^[0-9.]+$/ { printf "%-40s %14s  per delivery %.4f\n", $3, $1, $1 / d }' "$stat"
  exit
fi
# CPU by layer, from call graphs (inclusive shares): the TCP stack
# (tcp_sendmsg and all below it, including the receiver's side of loopback
# that runs on the sender's CPU: net_rx_action), the system call or
# io_uring layer above it, the rest (user code, epoll).
children() {
  perf report -i "$out/$tag.data" --children --stdio --sort sym -g none --percent-limit 0 2>/dev/null |
    awk -v s="$1" '$NF == s { gsub("%", "", $1); print $1; exit }'
}
ns=$(perf report -i "$out/$tag.data" --stdio --sort sym 2>/dev/null | sed -n 's/^# Event count (approx.): //p' | head -1)
tcp=$(children tcp_sendmsg)
rx=$(children net_rx_action)
entry=$(children entry_SYSCALL_64_after_hwframe)
uring=$(children __do_sys_io_uring_enter)
awk -v ns="$ns" -v d="$deliveries" -v tcp="${tcp:-0}" -v rx="${rx:-0}" -v entry="${entry:-0}" -v uring="${uring:-0}" -v tag="$tag" 'BEGIN {
  us = ns / d / 1000
  printf "%s: %.3f us CPU per delivery (samples)\n", tag, us
  printf "  TCP stack (tcp_sendmsg)        %5.1f %%  %.3f us  (of which the receiver side, net_rx_action: %.3f us)\n", tcp, us * tcp / 100, us * rx / 100
  printf "  system calls above it          %5.1f %%  %.3f us  (io_uring_enter: %.1f %%)\n", entry - tcp, us * (entry - tcp) / 100, uring
  printf "  the rest (user, libc, epoll)   %5.1f %%  %.3f us\n", 100 - entry, us * (100 - entry) / 100
}'
