#!/bin/bash
# t_errnos.sh - every errno the standard names, where it names it: the
# same calls (tests/integration/errno_probe.py: renames into a subdirectory,
# over non-empty directories, files over directories and back,
# RENAME_NOREPLACE, unlink of a directory, rmdir of a file, "." and "..",
# O_DIRECTORY on a file, O_EXCL on a symlink, names over 255 bytes,
# truncate of a directory, ...) give the same answer on the mount as on a
# tmpfs, except where README's Semantics says a blob store cannot (hard
# links: EPERM; RENAME_EXCHANGE: EINVAL).
. "$(dirname "$0")/lib.sh"

declare -A DOCUMENTED=([link]=EPERM [RENAME_EXCHANGE]=EINVAL)
mkdir -p "$TMPD/local"
mount -t tmpfs -o size=16m tmpfs "$TMPD/local" || skip_all "cannot mount a tmpfs to compare with"
python3 "$IT_DIR/errno_probe.py" "$TMPD/local" >"$TEST_DIR/local.txt" 2>&1
umount "$TMPD/local"
mount_fs "$CONTAINER" || bail "mount"
python3 "$IT_DIR/errno_probe.py" "$MNT" >"$TEST_DIR/mount.txt" 2>&1
unmount_fs
check "the probe ran on both" test "$(wc -l <"$TEST_DIR/local.txt")" -gt 20 -a \
	"$(wc -l <"$TEST_DIR/local.txt")" -eq "$(wc -l <"$TEST_DIR/mount.txt")"
while IFS=$'\t' read -r name want; do
	got=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$TEST_DIR/mount.txt")
	[[ -n ${DOCUMENTED[$name]:-} ]] && want=${DOCUMENTED[$name]}
	check_eq "$name: $want" "$want" "$got"
done <"$TEST_DIR/local.txt"
done_testing
