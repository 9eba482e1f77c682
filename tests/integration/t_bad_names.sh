#!/bin/bash
# t_bad_names.sh - blob names no path can hold are hidden, logged once, and
# never hide their neighbours or make a folder flicker: a component over 255
# bytes (programs size d_name for 255), an empty component ("dbl//y.txt"),
# and an Encoded name that decodes to a NUL byte (from the fake endpoint,
# as Azurite cannot store one). Listings and tree walks agree.
. "$(dirname "$0")/lib.sh"

L256=$(printf 'n%.0s' $(seq 256))
L300=$(printf 'm%.0s' $(seq 300))
for b in "dbl//y.txt" "long/$L300" "long/ok.txt" "$L256" "deep/$L300/x.txt" "top.txt"; do
	printf 'x' | blobtool put "$CONTAINER" "$b" - >/dev/null || bail "seed '$b'"
done

# walk_max=0: ordinary listings first; the tree walk is checked after.
mount_fs "walk_max=0" "$CONTAINER" || bail "mount"
check_eq "the root lists the folders, not the 256-byte name" "dbl deep long top.txt" \
	"$(cd "$MNT" && ls -1 | LC_ALL=C sort | xargs)"
check_eq "long/ lists only the name that fits" "ok.txt" "$(ls -1 "$MNT/long" | xargs)"
check_eq "deep/ is empty: its only name is under a 300-byte folder" "" "$(ls -1 "$MNT/deep" | xargs)"
check_eq "dbl is a directory before its listing" directory "$(stat -c %F "$MNT/dbl")"
check_eq "dbl/ lists empty" "" "$(ls -1a "$MNT/dbl" | grep -vx '\.\|\.\.' | xargs)"
check_eq "dbl is still a directory after its listing" directory "$(stat -c %F "$MNT/dbl")"
check_eq "ls -la dbl/ works" 0 "$(ls -la "$MNT/dbl/" >/dev/null 2>&1; echo $?)"
out=$(python3 -c 'import os, sys
try:
    os.stat(sys.argv[1]); print("found")
except OSError as e:
    print(os.strerror(e.errno))' "$MNT/$L256")
check_eq "stat of the 256-byte name gives ENAMETOOLONG" "$(errno_msg ENAMETOOLONG)" "$out"
# (A listing with "/" as delimiter sees "dbl//" as a prefix: that is the name logged.)
for b in "dbl//" "long/$L300" "$L256"; do
	n=$(grep -cF "'$CONTAINER/${b:0:300}" "$DAEMON_LOG")
	check_eq "'${b:0:20}...' is logged as not shown, once, after two listings" 1 "$n"
done
ls "$MNT" "$MNT/long" "$MNT/dbl" >/dev/null
unmount_fs

# A tree walk (find lists the whole container in one flat listing) shows the same.
mount_fs "$CONTAINER" || bail "mount with tree walks"
check_eq "find through a tree walk shows the same tree" \
	"./dbl ./deep ./long ./long/ok.txt ./top.txt" "$(cd "$MNT" && find . -mindepth 1 | LC_ALL=C sort | xargs)"
check_eq "dbl is a directory after the walk" directory "$(stat -c %F "$MNT/dbl")"
unmount_fs

# An undecodable name from a service: its folder still lists.
fake_endpoint_start
AZURE_STORAGE_CONNECTION_STRING=$HCS mount_fs "walk_max=0" hostile || bail "mount the fake endpoint"
check_eq "a folder with an undecodable name lists its other entries" "f.bin" "$(ls -1 "$MNT/nulname" 2>&1 | xargs)"
check "the undecodable name is logged" grep -qF "'hostile/nulname/a%00b' is not shown" "$DAEMON_LOG"
unmount_fs
done_testing
