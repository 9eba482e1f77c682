#!/bin/bash
# t_cache.sh - the metadata cache (issue 7): request counts from the stats
# attribute for ls -l of a 10,000-entry directory (2 List cold, 0 warm),
# stat of every child after a listing (0), find over a 3-level tree of
# 2,000 blobs (at most 3 List), a missing name looked up twice (1); changes
# made through the REST API are seen once the TTL has passed and not before,
# changes made through the mount at once; a second cat of an unchanged blob
# is served from the kernel's page cache; a name deleted elsewhere leaves the
# kernel's cache at the next listing; cache hits and misses show in the stats.
# timeout: 600
# 12,000 blobs: on a private Azurite, so the shared one stays small and fast.
# shellcheck disable=SC2034 # read by lib.sh
PRIVATE_AZURITE=memory
. "$(dirname "$0")/lib.sh"

C=$CONTAINER
seed bulk-put "$C" ten/f 10000 --size 8
# 10 x 10 folders of 20 blobs each: 2,000 blobs, 111 folders
tree=()
for a in 0 1 2 3 4 5 6 7 8 9; do
	for b in 0 1 2 3 4 5 6 7 8 9; do
		tree+=("tree/d$a/s$b/f")
	done
done
seed bulk-put "$C" "${tree[@]}" 20 --size 4
printf 'v1\n' >"$TMPD/v1"
seed put "$C" data/changing.txt "$TMPD/v1"

# ---- listings and stats of a 10,000-entry directory (default TTLs) ----
# negative_timeout=0 keeps the kernel from answering repeated misses itself,
# so that the daemon's own negative cache is what the second lookup meets.
mount_fs "negative_timeout=0" "$C" || bail "mount $C"

stat "$MNT/ten" >/dev/null # the name itself (one lookup) is not the listing
s1=$(stats_json "$MNT")
n=$(requests_during ListBlobs ls -l "$MNT/ten")
s2=$(stats_json "$MNT")
check_eq "ls -l of 10,000 entries costs 2 List requests cold" 2 "$n"
check_eq "and no other request (nothing per entry)" 2 "$(stats_delta total "$s1" "$s2")"
count=$(ls -1 "$MNT/ten" | wc -l)
check_eq "and lists every entry" 10000 "$count"
n=$(requests_during total ls -l "$MNT/ten")
check_eq "the same ls -l again costs nothing (warm, within the TTL)" 0 "$n"
# One process for the 10,000 stats: 10,000 stat(1) processes can take longer
# than the 30 s TTL on a busy machine, and then the listing has expired.
n=$(requests_during total python3 -c '
import os, sys
for i in range(10000):
    os.stat(os.path.join(sys.argv[1], "ten", "f%05d" % i))
' "$MNT")
check_eq "stat of every child after the listing costs nothing" 0 "$n"
sz=$(stat -c %s "$MNT/ten/f01234")
check_eq "sizes come from the listing" 8 "$sz"

# ---- a tree walk ----
n=$(requests_during total find "$MNT/tree")
check "find over 2,000 blobs in 3 levels costs at most 3 requests, all List (got $n)" test "$n" -le 3
found=$(find "$MNT/tree" -type f | wc -l)
check_eq "find sees every blob" 2000 "$found"
dirs=$(find "$MNT/tree" -type d | wc -l)
check_eq "and every folder (111 with the root)" 111 "$dirs"
n=$(requests_during total du -s "$MNT/tree")
check_eq "du -s right after costs nothing" 0 "$n"
want=$(blobtool list "$C" --prefix tree/ --lines | LC_ALL=C sort)
got=$(cd "$MNT" && find tree -type f | LC_ALL=C sort)
check_eq "the walk's names equal the service's" "$want" "$got"

# ---- the kernel page cache is kept across opens of an unchanged blob ----
first=$(cat "$MNT/data/changing.txt")
n=$(requests_during total cat "$MNT/data/changing.txt")
check_eq "a second cat of an unchanged file costs no request (keep_cache)" 0 "$n"
check_eq "and reads the same bytes" "$first" "$(cat "$MNT/data/changing.txt")"

# ---- negative lookups ----
n=$(requests_during total sh -c 'stat "$1/data/nope" 2>/dev/null; stat "$1/data/nope" 2>/dev/null; true' _ "$MNT")
check_eq "a missing name looked up twice costs 1 request" 1 "$n"
check_fail_errno "and is ENOENT" ENOENT stat "$MNT/data/nope"

# ---- changes through the mount are seen at once ----
printf 'through the mount\n' >"$MNT/data/new.txt"
check_eq "a new file is listed at once" "changing.txt new.txt" "$(ls "$MNT/data" | tr '\n' ' ' | sed 's/ $//')"
check_eq "with its size" 18 "$(stat -c %s "$MNT/data/new.txt")"
printf 'longer content now\n' >>"$MNT/data/new.txt"
check_eq "an append shows at once" 37 "$(stat -c %s "$MNT/data/new.txt")"
rm "$MNT/data/new.txt"
check_fail_errno "a delete shows at once" ENOENT stat "$MNT/data/new.txt"

s=$(stats_json "$MNT")
hits=$(json_get cache.list_hits "$s")
check "listing-cache hits are counted (got $hits)" test "$hits" -gt 0
neg=$(json_get cache.negative_hits "$s")
check "negative-cache hits are counted (got $neg)" test "$neg" -gt 0
for k in list attr negative; do
	m=$(json_get "cache.${k}_misses" "$s")
	check "$k-cache misses are counted (got $m)" test "$m" -gt 0
done
unmount_fs

# ---- changes made elsewhere: not before the TTL, and after it ----
mount_fs "metadata_ttl=30" "$C" || bail "mount with a 30 s TTL"
check_eq "the blob's content through the mount" "v1" "$(cat "$MNT/data/changing.txt")"
ls "$MNT/data" >/dev/null # the folder's listing is cached now
printf 'version two\n' >"$TMPD/v2"
seed put "$C" data/changing.txt "$TMPD/v2"
seed put "$C" data/other.txt "$TMPD/v2"
check_eq "within a 30 s TTL the old size is still shown" 3 "$(stat -c %s "$MNT/data/changing.txt")"
check_fail_errno "and a blob added elsewhere is not yet seen" ENOENT stat "$MNT/data/other.txt"
unmount_fs

mount_fs "metadata_ttl=2" "$C" || bail "mount with a 2 s TTL"
check_eq "a fresh mount sees the new content" "version two" "$(cat "$MNT/data/changing.txt")"
printf 'third and longest version\n' >"$TMPD/v3"
seed put "$C" data/changing.txt "$TMPD/v3"
seed delete "$C" data/other.txt
size_is() { [[ $(stat -c %s "$1") == "$2" ]]; }
# Within the TTL plus the kernel's cache: given three times that (9 s), as
# each poll is itself slow on a busy machine.
check "a change made elsewhere shows within the 2 s TTL (+1 s kernel cache)" \
	wait_until 9 size_is "$MNT/data/changing.txt" 26
check_eq "and reads the new bytes, not stale pages" "third and longest version" "$(cat "$MNT/data/changing.txt")"
gone() { ! stat "$1" >/dev/null 2>&1; }
check "a delete made elsewhere shows within the TTL" wait_until 9 gone "$MNT/data/other.txt"
unmount_fs

# ---- a name deleted elsewhere leaves the kernel's cache at the next listing ----
# The kernel may keep a name for entry_timeout without asking; a listing
# fresh from the service that lacks it has the daemon tell the kernel to
# drop it (notify_inval_entry), long before that timeout.
seed put "$C" data/doomed.txt "$TMPD/v1"
mount_fs "metadata_ttl=1,entry_timeout=600,attr_timeout=600" "$C" || bail "mount with long kernel timeouts"
check "with entry_timeout=600 the kernel learns data/doomed.txt" stat "$MNT/data/doomed.txt"
seed delete "$C" data/doomed.txt
listed_without() { # listed_without DIR NAME: a fresh listing of DIR lacks NAME
	local names
	names=$(ls -1 "$1") || return 1
	! grep -qx -- "$2" <<<"$names"
}
check "a listing after the 1 s TTL no longer has it" wait_until 10 listed_without "$MNT/data" doomed.txt
check_fail_errno "and stat gives ENOENT at once, not after the 600 s entry timeout" ENOENT stat "$MNT/data/doomed.txt"
unmount_fs

# ---- strict freshness: TTL 0 asks every time ----
mount_fs "metadata_ttl=0,attr_timeout=0,entry_timeout=0,negative_timeout=0" "$C" || bail "mount with TTL 0"
stat "$MNT/data/changing.txt" >/dev/null
printf 'x\n' >"$TMPD/v4"
seed put "$C" data/changing.txt "$TMPD/v4"
check_eq "with TTL 0 a change elsewhere is seen at once" 2 "$(stat -c %s "$MNT/data/changing.txt")"
unmount_fs

done_testing
