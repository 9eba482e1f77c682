#!/bin/bash
# timeout: 600
# t_paging.sh - a directory of 5,100 blobs (List Blobs returns at most 5,000
# names a page) lists exactly 5,100 names through the mount, the same set as
# the SDK's listing, none twice; entries on both pages stat and read right;
# siblings that share the prefix string stay out.
# 5,100 blobs: on a private Azurite, so the shared one stays small and fast.
# shellcheck disable=SC2034 # read by lib.sh
PRIVATE_AZURITE=memory
. "$(dirname "$0")/lib.sh"

C=$CONTAINER
COUNT=5100
seed bulk-put "$C" many/f "$COUNT" --size 24
printf 'x\n' >"$TMPD/x"
seed_add "$C" many2/other.txt "$TMPD/x"
seed_add "$C" many.txt "$TMPD/x"
seed_add "$C" zzz.txt "$TMPD/x"
seed_flush

sdk=$(blobtool list "$C" --prefix many/ --lines | sed 's|^many/||' | LC_ALL=C sort) || bail "list through the SDK"
check_eq "the SDK lists $COUNT blobs under many/" "$COUNT" "$(printf '%s\n' "$sdk" | wc -l)"

mount_fs "$C" || bail "mount $C"

got=$(listing "$MNT/many")
check "find over many/ succeeds" find "$MNT/many" -maxdepth 1
check_eq "the mount lists $COUNT names in many/" "$COUNT" "$(printf '%s\n' "$got" | sed '/^$/d' | wc -l)"
check_eq "no name is listed twice" "" "$(printf '%s\n' "$got" | uniq -d | head -n 5)"
check_eq "the names equal the SDK's listing" "$sdk" "$got"
# shellcheck disable=SC2012 # ls itself is under test
check_eq "ls | wc -l agrees" "$COUNT" "$(ls -- "$MNT/many" | wc -l)"
check "ls -l of the big directory succeeds" ls -l -- "$MNT/many"
check_eq "the root lists its names once" "$(printf '%s\n' many many.txt many2 zzz.txt)" "$(listing "$MNT")"

for i in 00000 04999 05000 05099; do
	n=many/f$i
	check_eq "$n (page $((10#$i / 5000 + 1))) has the blob's size" 24 "$(stat -c %s -- "$MNT/$n")"
	check_eq "$n (page $((10#$i / 5000 + 1))) reads the blob's bytes" \
		"$(blobtool get "$C" "$n" | od -An -tx1)" "$(od -An -tx1 <"$MNT/$n")"
done
check_fail_errno "f05100 (one past the end) does not exist" ENOENT stat -- "$MNT/many/f05100"

unmount_fs
done_testing
