#!/bin/bash
# t_stats.sh - the user.azblobfs.stats attribute: valid JSON with integer
# counters; it counts the requests a command made, checked against Azurite's
# own access log (the second path): cat of an uncached file adds GetBlob
# requests and the bytes, ls of a fresh directory adds ListBlobs, a lookup
# of an uncached name costs a request, and a second stat within the cache
# TTL (defaults) adds none.
. "$(dirname "$0")/lib.sh"

C=$CONTAINER
head -c 65536 /dev/urandom >"$TMPD/a.bin"
printf 'b\n' >"$TMPD/b"
seed_add "$C" a.bin "$TMPD/a.bin"
seed_add "$C" b.txt "$TMPD/b"
seed_add "$C" dir1/x.txt "$TMPD/b"
seed_add "$C" dir2/y.txt "$TMPD/b"
seed_flush

mount_fs "$C" || bail "mount $C"

have_log=0
[[ -n ${AZURITE_LOG:-} && -r ${AZURITE_LOG:-} ]] && have_log=1
# az_requests MARK PATTERN: Azurite access-log lines after MARK matching the
# extended regex PATTERN.
az_requests() {
	azurite_log_since "$1" | grep -cE -- "$2"
}

s0=$(stats_json "$MNT") || bail "read the user.azblobfs.stats attribute" "getfattr failed"
check "the stats attribute is valid JSON" json_valid "$s0"
check "it has a requests object" json_get requests "$s0"
for k in total_requests bytes_in bytes_out retries; do
	v=$(json_get "$k" "$s0" 2>&1)
	if [[ $v =~ ^[0-9]+$ ]]; then pass "$k is a non-negative integer"; else fail "$k is a non-negative integer" "got '$v'"; fi
done
sum_ops() {
	local s=$1 total=0 op n
	for op in $(json_get requests "$s" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(Object.keys(JSON.parse(s)).join(" ")))'); do
		n=$(stats_ops "$s" "$op") || return 1
		total=$((total + n))
	done
	echo "$total"
}
check_eq "total_requests is the sum of the per-operation counts" \
	"$(json_get total_requests "$s0")" "$(sum_ops "$s0")"
s0b=$(stats_json "$MNT")
check_eq "reading the stats costs no request" \
	"$(json_get total_requests "$s0")" "$(json_get total_requests "$s0b")"

# cat of a file never touched before.
mark=$(azurite_log_lines)
s1=$(stats_json "$MNT")
cat "$MNT/a.bin" >"$TMPD/a.mnt"
mark_end=$(azurite_log_lines)
s2=$(stats_json "$MNT")
check_file_eq "cat a.bin reads the right bytes" "$TMPD/a.bin" "$TMPD/a.mnt"
check_int "cat of an uncached file adds at least one GetBlob" \
	$(($(stats_ops "$s2" GetBlob) - $(stats_ops "$s1" GetBlob))) -ge 1
check_int "cat of a 64 KiB file adds at least 64 KiB to bytes_in" \
	$(($(json_get bytes_in "$s2") - $(json_get bytes_in "$s1"))) -ge 65536
if ((have_log)); then
	check_int "Azurite saw a GET of a.bin during the cat" \
		"$(az_requests "$mark" "\"GET /$AZ_ACCOUNT/$C/a\\.bin[? ]")" -ge 1
	check_int "the stats count no fewer requests than Azurite logged for the cat" \
		$(($(json_get total_requests "$s2") - $(json_get total_requests "$s1"))) -ge \
		$((mark_end - mark))
else
	skip "Azurite saw a GET of a.bin during the cat" "no Azurite access log"
fi

# ls of a directory never listed before.
mark=$(azurite_log_lines)
s3=$(stats_json "$MNT")
out=$(ls "$MNT/dir1")
s4=$(stats_json "$MNT")
check_eq "ls dir1 lists x.txt" "x.txt" "$out"
check_int "ls of a fresh directory adds at least one ListBlobs" \
	$(($(stats_ops "$s4" ListBlobs) - $(stats_ops "$s3" ListBlobs))) -ge 1
if ((have_log)); then
	check_int "Azurite saw a List Blobs of dir1/ during the ls" \
		"$(az_requests "$mark" "\"GET /$AZ_ACCOUNT/$C\\?[^ ]*comp=list[^ ]*prefix=dir1%2F")" -ge 1
else
	skip "Azurite saw a List Blobs of dir1/ during the ls" "no Azurite access log"
fi

# A lookup of a name never seen costs a request.
s5=$(stats_json "$MNT")
check_eq "stat dir2/y.txt (uncached) gives its size" 2 "$(stat -c %s "$MNT/dir2/y.txt")"
s6=$(stats_json "$MNT")
check_int "a lookup of an uncached name adds at least one request" \
	$(($(json_get total_requests "$s6") - $(json_get total_requests "$s5"))) -ge 1

# A second stat within the TTL is answered from a cache.
stat "$MNT/b.txt" >/dev/null
mark=$(azurite_log_lines)
s7=$(stats_json "$MNT")
check_eq "a second stat of b.txt gives its size" 2 "$(stat -c %s "$MNT/b.txt")"
s8=$(stats_json "$MNT")
check_eq "a second stat within the cache TTL adds no request" \
	"$(json_get total_requests "$s7")" "$(json_get total_requests "$s8")"
if ((have_log)); then
	check_eq "Azurite saw no request during the second stat" 0 "$(azurite_log_since "$mark" | wc -l)"
else
	skip "Azurite saw no request during the second stat" "no Azurite access log"
fi

unmount_fs
done_testing
