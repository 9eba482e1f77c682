#!/bin/bash
# t_memory.sh - memory stays bounded when many files are read and
# written at once. A mount with mem_mb=40 serves, in turn: 64 parallel
# readers of eight 64 MiB blobs seeded through the SDK (whole files, each
# checked by sha256); 8 parallel writers of 64 MiB (checked through the
# SDK); both at once. After the readers, peak resident memory (VmHWM) must
# stay within mem_mb + the metadata cache's bytes (from the stats) + 32 MiB
# for the daemon itself + 64 MiB for the demand reads the kernel may have
# in flight past the budget (max_background 64 x max_read 1 MiB, which a
# reader always gets); before demand reads stopped forcing whole 8 MiB
# read-ahead pieces past the budget it reached 630 MB. On an idle machine
# the peak is about 70 MB (within the tighter mem_mb + cache + 32 MiB
# that the readers do not meet on a busy one). The writer phases report
# their peak (diagnostics, 70-120 MB): the write path's buffers outside the
# budget are not bounded yet.
# timeout: 600
. "$(dirname "$0")/lib.sh"

MEM_MB=40
N=8
declare -A SHA
for i in $(seq 1 $N); do
	SHA[$i]=$(blobtool put-random "$CONTAINER" "f$i" $((64 * 1024 * 1024)) --seed "$i") || bail "seed f$i"
done
mount_fs "mem_mb=$MEM_MB" "$CONTAINER" || bail "mount with mem_mb=$MEM_MB"
PID=$DAEMON_PID
# readers R0 R1: readers R0..R1-1, blob (r % N) + 1 each, sha256 into $TMPD/rR.
readers() {
	local r
	for ((r = $1; r < $2; r++)); do
		(sha256sum <"$MNT/f$((r % N + 1))" | awk '{ print $1 }' >"$TMPD/r$r") &
		JOBS+=($!)
	done
}
readers_bad() {
	local r bad=0
	for ((r = $1; r < $2; r++)); do
		[[ $(cat "$TMPD/r$r" 2>/dev/null) == "${SHA[$((r % N + 1))]}" ]] || bad=$((bad + 1))
	done
	echo "$bad"
}
# writers TAG: 8 parallel copies of a 64 MiB local file to wTAG-1..8.
head -c $((64 * 1024 * 1024)) /dev/urandom >"$TMPD/src"
WSHA=$(sha256sum <"$TMPD/src" | awk '{ print $1 }')
writers() {
	local i
	for i in $(seq 1 8); do
		cp "$TMPD/src" "$MNT/w$1-$i" &
		JOBS+=($!)
	done
}
# wait_jobs: wait for the readers and writers started (not the daemon, also our child).
wait_jobs() {
	local p
	for p in "${JOBS[@]}"; do wait "$p"; done
	JOBS=()
}
JOBS=()
writers_bad() {
	local i bad=0
	for i in $(seq 1 8); do
		[[ $(blobtool sha256 "$CONTAINER" "w$1-$i" 2>/dev/null) == "$WSHA" ]] || bad=$((bad + 1))
	done
	echo "$bad"
}
# within_bound LABEL [report]: check (or with "report" only show) the peak.
within_bound() {
	local hwm cache limit
	hwm=$(vmhwm_kib "$PID")
	cache=$(json_get cache.bytes "$(stats_json)")
	limit=$(((MEM_MB + 32 + 64) * 1024 + cache / 1024))
	diag "$1: peak RSS ${hwm} KiB; bound ${limit} KiB (mem_mb=$MEM_MB, metadata cache ${cache} bytes, + 32 MiB + 64 MiB)"
	[[ ${2:-} == report ]] && return 0
	check "$1: peak RSS within mem_mb + metadata cache + 32 MiB + 64 MiB of reads in flight" \
		test "$hwm" -le "$limit"
}

readers 0 64
wait_jobs
check_eq "64 parallel readers each read the right bytes" 0 "$(readers_bad 0 64)"
within_bound "64 parallel readers"

writers a
wait_jobs
check_eq "8 parallel writers of 64 MiB: the service holds their bytes" 0 "$(writers_bad a)"
within_bound "8 parallel writers" report

writers b
readers 64 128
wait_jobs
check_eq "readers beside writers read the right bytes" 0 "$(readers_bad 64 128)"
check_eq "writers beside readers: the service holds their bytes" 0 "$(writers_bad b)"
within_bound "64 readers and 8 writers at once" report
unmount_fs
done_testing
