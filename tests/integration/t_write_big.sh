#!/bin/bash
# timeout: 400
# t_write_big.sh - a 1 GiB sequential copy (cp) into a mount with mem_mb=48:
# the service's blob has the same size and sha256 (through the SDK), it went
# up as 128 streamed 8 MiB Put Blocks and one Put Block List with no local
# staging copy, and the daemon's peak RSS (VmHWM) stays under
#
#     bound = RSS right after mounting + mem_mb + 32 MiB
#
# mem_mb is the budget every block buffer (and read-ahead) is drawn from; the
# 32 MiB cover what the budget does not count: libfuse's request buffers (up
# to 16 worker threads x (1 MiB max_write + a page) = ~16 MiB) and 16 MiB for
# libcurl/OpenSSL connection state, the 512 KiB read buffers of uploads in
# flight and malloc arenas. Buffering the file, or holding 16 uploads of
# 8 MiB in memory, would exceed it (Azurite ingests slower than cp writes).
# A second copy of 256 MiB with mem_mb=16 shows the peak follows the
# configured budget, while more blocks are in flight than 16 MiB could hold:
# a block goes up from its copy in cache_dir (the tee), not from memory.
# A third, with a staging area too small for the tee, sends from memory and
# so has at most two 8 MiB blocks in flight.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/write_lib.sh"

C=$CONTAINER
MiB=$((1024 * 1024))
SIZE=$((1024 * MiB))
SRC=$TMPD/big.src
STAGE=$TEST_DIR/stage

# 1 GiB of AES-CTR keystream: incompressible, reproducible, fast to make.
want=$(head -c "$SIZE" /dev/zero |
	openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 |
	tee "$SRC" | sha256sum | awk '{ print $1 }')
[[ $(stat -c %s "$SRC") == "$SIZE" ]] || bail "make the 1 GiB source file"

# big_copy LABEL MEM_MB BYTES BLOB: mount with mem_mb=MEM_MB, cp the first
# BYTES of the source to BLOB, check the result and the daemon's peak RSS.
big_copy() {
	local label=$1 mem=$2 bytes=$3 blob=$4 src=$SRC base hwm bound s1 s2 t0 t1 wsha blocks peak
	wsha=$want
	if ((bytes != SIZE)); then
		src=$TMPD/part.src
		head -c "$bytes" "$SRC" >"$src"
		wsha=$(sha256_of "$src")
	fi
	mount_fs "cache_dir=$STAGE,mem_mb=$mem${BIG_OPTS:+,$BIG_OPTS}" "$C" || bail "mount with mem_mb=$mem"
	mkdir -p "$MNT/$(dirname "$blob")" || bail "mkdir for $blob"
	base=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status")
	s1=$(stats_json 2>/dev/null)
	t0=$(date +%s%N)
	if ! check "$label: cp of $((bytes / MiB)) MiB into the mount" cp "$src" "$MNT/$blob"; then
		unmount_fs
		return 1
	fi
	t1=$(date +%s%N)
	hwm=$(vmhwm_kib)
	s2=$(stats_json 2>/dev/null)
	bound=$((base + mem * 1024 + 32 * 1024))
	diag "$label: daemon RSS after mount ${base} KiB, VmHWM after the copy ${hwm} KiB, bound ${bound} KiB;" \
		"copy took $(((t1 - t0) / 1000000)) ms ($((bytes / MiB * 1000 / ((t1 - t0) / 1000000 + 1))) MiB/s)"
	check_int "$label: daemon peak RSS (VmHWM ${hwm} KiB) stays under RSS at mount + mem_mb + 32 MiB" "$hwm" -le "$bound"
	check_eq "$label: size on the service" "$bytes" "$(blob_prop "$blob" size)"
	check_eq "$label: sha256 on the service equals the source's" "$wsha" "$(blobtool sha256 "$C" "$blob")"
	check_eq "$label: $((bytes / (8 * MiB))) Put Blocks, 1 Put Block List, no Put Blob" \
		"$((bytes / (8 * MiB))) 1 0" \
		"$(stats_delta PutBlock "$s1" "$s2") $(stats_delta PutBlockList "$s1" "$s2") $(stats_delta PutBlob "$s1" "$s2")"
	blocks=$(blobtool blocks "$C" "$blob")
	check_eq "$label: the service has $((bytes / (8 * MiB))) committed blocks of 8 MiB" \
		"$((bytes / (8 * MiB))) $((8 * MiB))" \
		"$(node -e 'const b = JSON.parse(process.argv[1]).committed; console.log(b.length, [...new Set(b.map((x) => x.size))].join(","))' "$blocks")"
	peak=$(json_get inflight_peak "$s2")
	if [[ -n ${BIG_TEE_OFF:-} ]]; then
		check_int "$label: at most 2 requests in flight (peak $peak): the blocks are in memory" "$peak" -le 2
	else
		check_int "$label: more blocks in flight (peak $peak) than mem_mb holds (sent from the tee)" \
			"$peak" -gt $((mem / 8))
	fi
	check_eq "$label: nothing was staged on local disk" "" "$(find "$STAGE" -type f 2>/dev/null)"
	tail -c "$MiB" "$src" >"$TMPD/tail.want"
	check "$label: the last MiB reads back through the mount" cmp -s "$TMPD/tail.want" <(tail -c "$MiB" "$MNT/$blob")
	check "$label: rm the blob" rm "$MNT/$blob"
	check "$label: the blob is gone from the service" blob_absent "$blob"
	unmount_fs
	rm -f "$TMPD/part.src"
}

big_copy "1 GiB, mem_mb=48" 48 "$SIZE" big/one-gib.bin
big_copy "256 MiB, mem_mb=16" 16 $((256 * MiB)) big/quarter.bin
BIG_OPTS=cache_size_mb=4 BIG_TEE_OFF=1 big_copy "256 MiB, mem_mb=16, no room for the tee" 16 \
	$((256 * MiB)) big/quarter-mem.bin

done_testing
