#!/bin/bash
# timeout: 180
# t_rename_rollback.sh - a folder rename whose copying fails half way is
# undone and loses nothing. The mount talks to Azurite through
# fault_proxy.py, which refuses (409, not retryable) the Copy Blob of any
# destination path containing "boom"; everything else passes unchanged.
# Checked through the SDK, straight to Azurite:
#  - mv of a folder onto a new name: mv fails; every original is still there
#    with its bytes; nothing is left under the new name, not even its marker;
#  - mv of a folder onto an existing empty folder: mv fails; the originals
#    are intact; the copies are deleted again, but the destination folder's
#    own marker, which existed before, is kept (the rollback once deleted
#    it, so the empty folder vanished);
#  - the mount shows the same afterwards, and the daemon is still alive.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/write_lib.sh"

C=$CONTAINER
PLOG=$TEST_DIR/proxy.log
: >"$PLOG"
python3 "$IT_DIR/fault_proxy.py" "$AZURITE_PORT" "$TMPD/proxy-port" "$PLOG" boom \
	>"$TEST_DIR/proxy.err" 2>&1 </dev/null &
OWN_PIDS+=("$!")
wait_until 10 test -s "$TMPD/proxy-port" || bail "start the fault proxy" "$(cat "$TEST_DIR/proxy.err")"
PPORT=$(cat "$TMPD/proxy-port")
PCS="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=http://127.0.0.1:$PPORT/$AZ_ACCOUNT;"
AZURE_STORAGE_CONNECTION_STRING=$PCS mount_fs "cache_dir=$TEST_DIR/stage,timeout=10,retries=1" "$C" ||
	bail "mount $C through the fault proxy"

# seed_folder DIR: DIR/a.txt, DIR/boom.txt, DIR/sub/c.txt through the mount.
seed_folder() {
	mkdir -p "$MNT/$1/sub" &&
		printf 'alpha\n' >"$MNT/$1/a.txt" &&
		printf 'boom\n' >"$MNT/$1/boom.txt" &&
		printf 'gamma\n' >"$MNT/$1/sub/c.txt"
}

# originals_intact DIR: the three files and the two markers, with their bytes (SDK).
originals_intact() {
	[[ $(blobtool get "$C" "$1/a.txt") == alpha ]] &&
		[[ $(blobtool get "$C" "$1/boom.txt") == boom ]] &&
		[[ $(blobtool get "$C" "$1/sub/c.txt") == gamma ]] &&
		blobs_present "$1" "$1/sub"
}

# ---------------------------------------------------------------- onto a new name
check "seed folder s1 through the mount" seed_folder s1
check "s1's files and markers are on the service" originals_intact s1
check_fail "mv s1 n1 fails when a copy is refused" mv "$MNT/s1" "$MNT/n1"
check_int "the proxy refused the copy to n1/boom.txt" "$(grep -c '^COPY dst=.*/n1/boom.txt refused' "$PLOG")" -ge 1
check_int "other copies to n1 went through (so there is something to undo)" \
	"$(grep -c '^COPY dst=.*/n1.* passed' "$PLOG")" -ge 1
check "every original under s1 is intact (SDK)" originals_intact s1
check_eq "nothing is left under n1/ (SDK)" "" "$(blob_names n1/)"
check "n1's marker is gone too: n1 did not exist before" blob_absent n1
check_int "the rollback deleted the copies it made" "$(grep -c '^DELETE path=.*/n1' "$PLOG")" -ge 1
check_eq "the mount shows s1 whole" "a.txt boom.txt sub" "$(ls "$MNT/s1" | tr '\n' ' ' | sed 's/ $//')"
check_eq "the mount has no n1" ENOENT "$(errno_of rmdir "$MNT/n1")"

# ---------------------------------------------------------------- onto an existing empty folder
: >"$PLOG"
check "seed folder s2 through the mount" seed_folder s2
check "mkdir d2 (an empty folder: its marker blob)" mkdir "$MNT/d2"
check_eq "d2's marker is on the service" true "$(blob_meta d2 hdi_isfolder)"
check_fail "mv s2 d2 (over the empty folder) fails when a copy is refused" mv -T "$MNT/s2" "$MNT/d2"
check_int "the proxy refused the copy to d2/boom.txt" "$(grep -c '^COPY dst=.*/d2/boom.txt refused' "$PLOG")" -ge 1
check_int "the copy of s2's marker onto d2 went through" "$(grep -c "^COPY dst=/$AZ_ACCOUNT/$C/d2 passed" "$PLOG")" -eq 1
check "every original under s2 is intact (SDK)" originals_intact s2
check_eq "the copies under d2/ are deleted again (SDK)" "" "$(blob_names d2/)"
check_eq "d2's own marker, there before the mv, is kept" true "$(blob_meta d2 hdi_isfolder)"
check_eq "the rollback did not delete d2's marker" 0 "$(grep -c "^DELETE path=/$AZ_ACCOUNT/$C/d2 " "$PLOG")"
check_eq "the mount still shows d2 as an empty directory" "directory " \
	"$(stat -c %F "$MNT/d2") $(ls -A "$MNT/d2" | tr '\n' ' ')"
check "the daemon is still alive and mounted" is_mounted

unmount_fs
done_testing
