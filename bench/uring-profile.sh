#!/usr/bin/env bash
# Where a one-per-turn fan-out's server CPU goes, with and without the
# flush's io_uring (bench/README.md, "Batched submission with io_uring"):
# system calls per delivery (perf stat on syscall tracepoints) and the
# server's CPU samples by layer (perf record, classified by symbol).
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
  perf record -q -F 4999 ${PERF_CALLGRAPH:+-g} -o "$out/$tag.data" -p "$spid" 2>/dev/null &
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
# CPU samples by layer (kernel symbols; user code lumped as "user").
perf report -i "$out/$tag.data" --stdio --sort sym --percent-limit 0 2>/dev/null |
  awk '/^ +[0-9.]+%/ { pct = $1; sub("%", "", pct); sym = $NF; k = ($2 == "[k]");
      if (!k) layer = "user (node/V8/addon/libc)";
      else if (sym ~ /io_uring|io_issue|io_submit|io_send|io_req|io_cq|io_fill|io_free|__io_|io_import|io_sendmsg|io_setup/) layer = "kernel: io_uring";
      else if (sym ~ /^(entry_SYSCALL|do_syscall|syscall_|__x64_sys|x64_sys_call|__do_sys|ksys_|__sys_|sock_write_iter|do_iter|vfs_write|do_writev|fdget|__fget|fput|__fdget|security_|apparmor|rw_verify|import_iovec|__import_iovec|iovec_from_user|copy_msghdr|___sys_sendmsg|____sys_sendmsg|sendmsg_copy)/) layer = "kernel: system call layer";
      else if (sym ~ /epoll|ep_|poll|schedule|__schedule|pick_next|finish_task|hrtimer|timerqueue|do_epoll/) layer = "kernel: epoll + scheduling";
      else if (sym ~ /tcp|inet|ip_|ip6|__ip|skb|sk_|sock_|__sock|netif|net_rx|__netif|dev_|__dev|loopback|napi|process_backlog|nf_|ipv4|validate_xmit|__kfree_skb|kmem|kmalloc|__alloc|page_|memcg|mem_cgroup|copy_|_copy|csum|__copy|rep_movs|memcpy|release_sock|lock_sock|__local_bh|do_softirq|__do_softirq|handle_softirqs|irq_exit|raw_local|_raw_spin|bpf|rcu|eth_|neigh|dst_|fib|__tcp|skb_|__skb|__build_skb|sock_def|sk_stream|__release_sock|__inet|lock_sock_nested)/) layer = "kernel: TCP/IP, loopback delivery, memory";
      else layer = "kernel: other";
      sum[layer] += pct } END { for (l in sum) printf "%6.1f %%  %s\n", sum[l], l }' | sort -rn
