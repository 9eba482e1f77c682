#!/bin/bash
# timeout: 600
# t_big.sh - a 100 MiB pseudo-random blob read through the mount: its sha256
# equals the SDK's, and ranges read with tail -c and dd (aligned, unaligned,
# backwards, across EOF, at EOF) equal the SDK's ranged GETs. Two readers at
# once both see the right bytes.
. "$(dirname "$0")/lib.sh"

C=$CONTAINER
SIZE=$((100 * 1024 * 1024))
NAME=big/random.bin
want=$(blobtool put-random "$C" "$NAME" "$SIZE" --seed t_big) || bail "upload the 100 MiB blob through the SDK"
check_eq "the SDK reads back what it uploaded (sha256)" "$want" "$(blobtool sha256 "$C" "$NAME")"

mount_fs "$C" || bail "mount $C"
F=$MNT/$NAME

check_eq "stat size is 100 MiB" "$SIZE" "$(stat -c %s -- "$F")"
check_eq "sha256 of the whole file through the mount" "$want" "$(sha256sum <"$F" | awk '{ print $1 }')"

# range OFFSET COUNT: compare dd's bytes at [OFFSET, OFFSET+COUNT) with the SDK's.
range() {
	local off=$1 cnt=$2 label=$3
	blobtool get "$C" "$NAME" --offset "$off" --count "$cnt" >"$TMPD/r.sdk" 2>"$TMPD/r.err" ||
		{ fail "$label: SDK ranged GET" "$(cat "$TMPD/r.err")"; return; }
	if ! dd if="$F" of="$TMPD/r.mnt" bs=1M iflag=skip_bytes,count_bytes,fullblock skip="$off" count="$cnt" status=none 2>"$TMPD/r.err"; then
		fail "$label: dd through the mount" "$(cat "$TMPD/r.err")"
		return
	fi
	check_file_eq "$label" "$TMPD/r.sdk" "$TMPD/r.mnt"
}

blobtool get "$C" "$NAME" --offset $((SIZE - 12345)) >"$TMPD/tail.sdk"
tail -c 12345 -- "$F" >"$TMPD/tail.mnt"
check_file_eq "tail -c 12345 equals the SDK's last 12345 bytes" "$TMPD/tail.sdk" "$TMPD/tail.mnt"

range $((90 * 1024 * 1024)) $((4 * 1024 * 1024)) "dd 4 MiB at 90 MiB (aligned)"
range 77777777 1234567 "dd 1234567 bytes at offset 77777777 (unaligned)"
range $((8 * 1024 * 1024 - 100)) 200 "dd 200 bytes across the 8 MiB boundary"
range 50000000 4096 "dd 4 KiB at 50000000 (backward seek)"
range 1 1 "dd 1 byte at offset 1"
range 12345 54321 "dd at a small unaligned offset (backward seek)"
range $((SIZE - 100)) 100 "dd the last 100 bytes"

dd if="$F" of="$TMPD/eof.mnt" bs=4096 iflag=skip_bytes skip=$((SIZE - 100)) count=1 status=none
check_eq "dd across EOF returns only the bytes before EOF" 100 "$(stat -c %s "$TMPD/eof.mnt")"
dd if="$F" of="$TMPD/past.mnt" bs=4096 iflag=skip_bytes skip="$SIZE" count=1 status=none
check_eq "a read at EOF returns 0 bytes" 0 "$(stat -c %s "$TMPD/past.mnt")"

# Two readers at once, on separate handles.
sha256sum <"$F" >"$TMPD/sha1" &
p1=$!
sha256sum <"$F" >"$TMPD/sha2" &
p2=$!
wait "$p1"
r1=$?
wait "$p2"
r2=$?
check_eq "two concurrent readers: both succeed" "0 0" "$r1 $r2"
check_eq "two concurrent readers: first sees the right bytes" "$want" "$(awk '{ print $1 }' "$TMPD/sha1")"
check_eq "two concurrent readers: second sees the right bytes" "$want" "$(awk '{ print $1 }' "$TMPD/sha2")"

# An open file reads one version: the blob replaced through the SDK while
# it is open, a read of bytes not fetched yet gives ESTALE (its ranged GET
# carries If-Match with the ETag seen at open), never the new bytes; a
# fresh open reads the new version.
blobtool put-random "$C" big/changing.bin $((40 * 1024 * 1024)) --seed v1 >/dev/null || bail "upload big/changing.bin"
out=$(python3 -c '
import errno, os, subprocess, sys
path, blobtool, c = sys.argv[1:4]
fd = os.open(path, os.O_RDONLY)
first = os.pread(fd, 4096, 0)
subprocess.run(["node", blobtool, "put-random", c, "big/changing.bin", str(40 * 1024 * 1024), "--seed", "v2"],
               check=True, stdout=subprocess.DEVNULL)
try:
    os.pread(fd, 4096, 30 * 1024 * 1024)
    print("read succeeded")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
os.close(fd)
' "$MNT/big/changing.bin" "$IT_DIR/blobtool.js" "$C" 2>&1)
check_eq "a blob replaced while open: a later read gives ESTALE" ESTALE "$out"
new_sha=$(blobtool sha256 "$C" big/changing.bin)
wait_fresh() { [[ $(sha256sum <"$1" | awk '{ print $1 }') == "$2" ]]; }
# The ESTALE dropped the cached attributes: only the kernel's (attr_timeout=1) may still answer.
check "a fresh open reads the new version at once (after the kernel's 1 s attribute cache)" \
	wait_until 15 wait_fresh "$MNT/big/changing.bin" "$new_sha"

unmount_fs
done_testing
