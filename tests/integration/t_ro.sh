#!/bin/bash
# t_ro.sh - with -o ro every write fails with EROFS (touch, mkdir, rm, rmdir,
# echo >, echo >>, mv, ln -s, chmod, truncate, setfattr), reads still work,
# and the service is unchanged afterwards (checked through the SDK).
. "$(dirname "$0")/lib.sh"

C=$CONTAINER
printf 'orig\n' >"$TMPD/orig"
seed_add "$C" existing.txt "$TMPD/orig"
seed_add "$C" dir/a.txt "$TMPD/orig"
seed_flush
before=$(blobtool list "$C" --lines) || bail "list through the SDK"
etag_before=$(blobtool props "$C" existing.txt | json_get etag) || bail "props through the SDK"

mount_fs "ro" "$C" || bail "mount $C with -o ro"

check "the mount table marks the mount read-only" grep -qE '^ro(,|$)' <<<"$(mount_opts "$MNT")"
check_eq "reads work" orig "$(cat "$MNT/existing.txt")"

check_fail_errno "touch of a new file gives EROFS" EROFS touch "$MNT/new.txt"
check_fail_errno "touch of an existing file gives EROFS" EROFS touch "$MNT/existing.txt"
check_fail_errno "mkdir gives EROFS" EROFS mkdir "$MNT/newdir"
check_fail_errno "rm gives EROFS" EROFS rm -f "$MNT/existing.txt"
check_fail_errno "rmdir gives EROFS" EROFS rmdir "$MNT/dir"
# shellcheck disable=SC2016 # expanded by bash -c
{
	check_fail_errno "echo > new file gives EROFS" EROFS bash -c 'echo new >"$1"' _ "$MNT/new2.txt"
	check_fail_errno "echo > existing file gives EROFS" EROFS bash -c 'echo new >"$1"' _ "$MNT/existing.txt"
	check_fail_errno "echo >> existing file gives EROFS" EROFS bash -c 'echo more >>"$1"' _ "$MNT/existing.txt"
}
check_fail_errno "mv gives EROFS" EROFS mv "$MNT/existing.txt" "$MNT/moved.txt"
check_fail_errno "ln -s gives EROFS" EROFS ln -s existing.txt "$MNT/link"
check_fail_errno "chmod gives EROFS" EROFS chmod 600 "$MNT/existing.txt"
check_fail_errno "truncate gives EROFS" EROFS truncate -s 0 "$MNT/existing.txt"
check_fail_errno "setfattr gives EROFS" EROFS setfattr -n user.test -v 1 "$MNT/existing.txt"

check_eq "the mount still shows the same files" \
	"$(printf '%s\n' dir existing.txt)" "$(listing "$MNT")"
check_eq "existing.txt still reads the same through the mount" orig "$(cat "$MNT/existing.txt")"
unmount_fs

check_eq "the SDK lists the same blobs as before" "$before" "$(blobtool list "$C" --lines)"
check_eq "existing.txt is unchanged on the service (bytes)" orig "$(blobtool get "$C" existing.txt)"
check_eq "existing.txt is unchanged on the service (ETag)" "$etag_before" "$(blobtool props "$C" existing.txt | json_get etag)"

done_testing
