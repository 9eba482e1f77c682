#!/bin/bash
# t_memory.sh - memory stays within mem_mb when many files are read at
# once. Eight 64 MiB blobs are seeded through the SDK; a mount with
# mem_mb=40 serves 64 parallel readers (eight per blob, whole files, each
# checked by sha256). Peak resident memory (VmHWM) must stay within mem_mb
# + the metadata cache's bytes (from the stats) + 32 MiB for the daemon
# itself (code, threads, libfuse and curl buffers). Before demand reads
# stopped forcing whole read-ahead pieces past the budget, this reached
# 630 MB.
. "$(dirname "$0")/lib.sh"

MEM_MB=40
N=8
declare -A SHA
for i in $(seq 1 $N); do
	SHA[$i]=$(blobtool put-random "$CONTAINER" "f$i" $((64 * 1024 * 1024)) --seed "$i") || bail "seed f$i"
done
mount_fs "mem_mb=$MEM_MB" "$CONTAINER" || bail "mount with mem_mb=$MEM_MB"
PID=$DAEMON_PID
pids=()
for r in $(seq 0 63); do
	i=$((r % N + 1))
	(sha256sum <"$MNT/f$i" | awk '{ print $1 }' >"$TMPD/r$r") &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
bad=0
for r in $(seq 0 63); do
	i=$((r % N + 1))
	[[ $(cat "$TMPD/r$r" 2>/dev/null) == "${SHA[$i]}" ]] || bad=$((bad + 1))
done
check_eq "64 parallel readers each read the right bytes" 0 "$bad"
hwm=$(vmhwm_kib "$PID")
cache=$(json_get cache.bytes "$(stats_json)")
limit=$(((MEM_MB + 32) * 1024 + cache / 1024))
diag "peak RSS ${hwm} KiB; bound ${limit} KiB (mem_mb=$MEM_MB, metadata cache ${cache} bytes, + 32 MiB)"
check "64 parallel readers: peak RSS within mem_mb + metadata cache + 32 MiB" test "$hwm" -le "$limit"
unmount_fs
done_testing
