#!/bin/bash
# t_folders.sh - the three kinds of directory: virtual folders (blob-name
# prefixes), blobfuse2 marker blobs (0 bytes, metadata hdi_isfolder=true) and
# 0-byte blobs named "dir/". Each shows as a directory, each name once in a
# listing (also when a marker and a prefix of the same name both exist), and
# an empty marker folder lists empty. A 0-byte blob without the metadata
# stays a file.
. "$(dirname "$0")/lib.sh"

C=$CONTAINER
printf 'a\n' >"$TMPD/a"
seed_add "$C" virt/a.txt "$TMPD/a"
seed_add "$C" virt/sub/b.txt "$TMPD/a"
seed_add "$C" virt/sub/emptymarker --meta hdi_isfolder=true
seed_add "$C" marker --meta hdi_isfolder=true
seed_add "$C" marker2 --meta hdi_isfolder=true
seed_add "$C" marker2/c.txt "$TMPD/a"
seed_add "$C" slashdir/
seed_add "$C" slashdir2/
seed_add "$C" slashdir2/d.txt "$TMPD/a"
seed_add "$C" file.txt "$TMPD/a"
seed_add "$C" plain0
seed_add "$C" notmarker --meta hdi_isfolder=false
seed_flush

mount_fs "$C" || bail "mount $C"

# Lookups first, before any listing: each kind is recognised on its own.
for d in marker marker2 slashdir slashdir2 virt virt/sub virt/sub/emptymarker; do
	check_eq "stat before listing: $d is a directory" directory "$(stat -c %F -- "$MNT/$d")"
done
check_eq "stat before listing: file.txt is a regular file" "regular file" "$(stat -c %F -- "$MNT/file.txt")"
check_eq "stat before listing: plain0 (0 bytes, no metadata) is a regular file" \
	"regular empty file" "$(stat -c %F -- "$MNT/plain0")"
check_eq "stat before listing: notmarker (hdi_isfolder=false) is a regular file" \
	"regular empty file" "$(stat -c %F -- "$MNT/notmarker")"

check_eq "the root lists each name once" \
	"$(printf '%s\n' file.txt marker marker2 notmarker plain0 slashdir slashdir2 virt)" \
	"$(listing "$MNT")"
check_eq "an empty marker folder lists empty" "" "$(listing "$MNT/marker")"
check_eq "an empty 'dir/' folder lists empty" "" "$(listing "$MNT/slashdir")"
check_eq "an empty nested marker folder lists empty" "" "$(listing "$MNT/virt/sub/emptymarker")"
check_eq "a marker folder with content lists the content only" "c.txt" "$(listing "$MNT/marker2")"
check_eq "a 'dir/' folder with content lists the content only (not itself)" "d.txt" "$(listing "$MNT/slashdir2")"
check_eq "a virtual folder lists its blobs and subfolders" "$(printf '%s\n' a.txt sub)" "$(listing "$MNT/virt")"
check_eq "a nested virtual folder lists a file and a marker once each" \
	"$(printf '%s\n' b.txt emptymarker)" "$(listing "$MNT/virt/sub")"

check_eq "find shows every path once with its type" \
	"$(printf '%s\n' 'd marker' 'd marker2' 'd slashdir' 'd slashdir2' 'd virt' 'd virt/sub' \
		'd virt/sub/emptymarker' 'f file.txt' 'f marker2/c.txt' 'f notmarker' 'f plain0' \
		'f slashdir2/d.txt' 'f virt/a.txt' 'f virt/sub/b.txt' | LC_ALL=C sort)" \
	"$(cd "$MNT" && find . -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort)"

# After the listings, the types are still right (now perhaps from a cache).
for d in marker marker2 slashdir slashdir2 virt virt/sub virt/sub/emptymarker; do
	check_eq "stat after listing: $d is a directory" directory "$(stat -c %F -- "$MNT/$d")"
done
check_eq "stat after listing: plain0 is a regular file" "regular empty file" "$(stat -c %F -- "$MNT/plain0")"
check_fail_errno "cat of a marker folder gives EISDIR" EISDIR cat -- "$MNT/marker"
check_fail_errno "cat of a 'dir/' folder gives EISDIR" EISDIR cat -- "$MNT/slashdir"
check_eq "a file in a marker folder reads" "a" "$(cat -- "$MNT/marker2/c.txt")"
check_eq "a file in a 'dir/' folder reads" "a" "$(cat -- "$MNT/slashdir2/d.txt")"
# shellcheck disable=SC2016 # expanded by sh
check "cd into an empty marker folder works" sh -c 'cd -- "$1" && ls' _ "$MNT/marker"

unmount_fs
done_testing
