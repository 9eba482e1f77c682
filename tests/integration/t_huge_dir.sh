#!/bin/bash
# timeout: 300
# t_huge_dir.sh - a directory of 100,000 blobs (issue 7). Azurite takes
# tens of minutes to be seeded with that many (its in-memory store slows
# down as it grows), so the directory is served by the fake endpoint
# (hostile_server.py, folder huge/: huge/f00000 ... huge/f99999, empty),
# which pages List Blobs as the service does (5,000 names a page, marker =
# the next name). Checked:
#  - every name is listed exactly once, in 20 List Blobs requests and no
#    other request; the endpoint's own log shows the same 20;
#  - with a cache budget the listing fits in (cache_mb=32), a second
#    listing and a stat of every child cost nothing;
#  - with one it does not fit in (cache_mb=4), the listing is not kept
#    (listing again asks again) and the cache's accounted bytes stay
#    within the budget while small folders are still cached;
#  - the daemon's peak RSS stays under
#        RSS right after mounting + cache_mb + 100,000 x 600 bytes,
#    the 600 bytes a name being what the cache budget does not count: the
#    listing while it is built page by page (entries that grow by doubling,
#    names, each page's XML and parse tree) and held by the open directory,
#    and the inode the kernel holds for each child after `ls -l`.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"
fake_endpoint_start
N=100000

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status"; }
# names_once DIR: the listing holds exactly huge/f00000 ... f99999, each once.
names_once() {
	ls -1U "$1" | LC_ALL=C sort >"$TMPD/names"
	seq -f 'f%05g' 0 $((N - 1)) >"$TMPD/want"
	cmp -s "$TMPD/names" "$TMPD/want"
}
list_requests() { grep -c '^LIST prefix=huge/ delim=/' "$REQLOG"; }

# ---- a budget the listing fits in ----
AZURE_STORAGE_CONNECTION_STRING=$HCS mount_fs "ro,cache_mb=32,metadata_ttl=300" hostile ||
	bail "mount the fake endpoint with cache_mb=32"
base=$(rss_kib)
stat "$MNT/huge" >/dev/null # the name itself (one lookup) is not the listing
s1=$(stats_json "$MNT")
l1=$(list_requests)
check "ls lists 100,000 names, each once" names_once "$MNT/huge"
s2=$(stats_json "$MNT")
check_eq "the listing cost 20 List Blobs requests (5,000 names a page)" 20 "$(stats_delta ListBlobs "$s1" "$s2")"
check_eq "and nothing else" 20 "$(stats_delta total "$s1" "$s2")"
check_eq "the endpoint saw those 20 listing pages of huge/" 20 "$(($(list_requests) - l1))"
n=$(requests_during total ls -l "$MNT/huge")
check_eq "ls -l (a stat of every child) within the TTL costs nothing" 0 "$n"
check_eq "a child's size and type come from the listing" "0 regular empty file" \
	"$(stat -c '%s %F' "$MNT/huge/f54321")"
s=$(stats_json "$MNT")
bytes=$(json_get cache.bytes "$s")
check "the cache accounts for at most 32 MiB (got $bytes bytes)" test "$bytes" -le $((32 * 1024 * 1024))
check "and holds the listing (over 100 bytes a name: $bytes)" test "$bytes" -gt $((N * 100))
hwm=$(vmhwm_kib)
bound=$((base + 32 * 1024 + N * 600 / 1024))
diag "cache_mb=32: RSS at mount $base KiB, peak $hwm KiB, bound $bound KiB, cache $bytes bytes"
check "peak RSS $hwm KiB stays under RSS at mount + cache_mb + 600 B a name ($bound KiB)" test "$hwm" -le "$bound"
unmount_fs

# ---- a budget the listing does not fit in ----
AZURE_STORAGE_CONNECTION_STRING=$HCS mount_fs "ro,cache_mb=4,metadata_ttl=300" hostile ||
	bail "mount the fake endpoint with cache_mb=4"
base=$(rss_kib)
check "with cache_mb=4 ls still lists 100,000 names, each once" names_once "$MNT/huge"
check_eq "a small folder lists" "after-badentry.txt" "$(ls "$MNT/good" | head -n 1)"
n=$(requests_during total ls "$MNT/good")
check_eq "and lists again from the cache" 0 "$n"
s=$(stats_json "$MNT")
bytes=$(json_get cache.bytes "$s")
check "the cache accounts for at most 4 MiB (got $bytes bytes)" test "$bytes" -le $((4 * 1024 * 1024))
n=$(requests_during ListBlobs ls -1U "$MNT/huge")
check_eq "the big listing was not kept: listing again asks again (20 pages)" 20 "$n"
hwm=$(vmhwm_kib)
bound=$((base + 4 * 1024 + N * 600 / 1024))
diag "cache_mb=4: RSS at mount $base KiB, peak $hwm KiB, bound $bound KiB, cache $bytes bytes"
check "peak RSS $hwm KiB stays under RSS at mount + cache_mb + 600 B a name ($bound KiB)" test "$hwm" -le "$bound"
unmount_fs

done_testing
