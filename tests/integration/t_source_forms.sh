#!/bin/bash
# t_source_forms.sh - the SOURCE forms: "container", "account/container",
# "account/container/prefix" (only that subtree shows), the path-style URL
# http://127.0.0.1:PORT/account/container[/prefix], the URL with credentials
# from AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY, and the URL carrying a
# container SAS with no other credential (the signature never in the output).
. "$(dirname "$0")/lib.sh"

C=$CONTAINER
for n in top.txt pre/a.txt pre/sub/b.txt prefix/c.txt pre.txt; do
	printf '%s\n' "$n" >"$TMPD/c"
	seed put "$C" "$n" "$TMPD/c"
done
ROOT=$(printf '%s\n' pre pre.txt prefix top.txt)
PRE=$(printf '%s\n' a.txt sub)
URL=http://127.0.0.1:$AZURITE_PORT/$AZ_ACCOUNT/$C
SAS=$(blobtool sas "$C" --perm rl --minutes 60) || bail "make a container SAS through the SDK"
# The longest alphanumeric run of the decoded signature: present whether the
# signature were logged URL-encoded or not.
SIG=$(node -e '
const sig = new URLSearchParams(process.argv[1]).get("sig") || "";
console.log((sig.match(/[A-Za-z0-9]+/g) || []).sort((a, b) => b.length - a.length)[0] || "");' "$SAS")
((${#SIG} >= 8)) || bail "find the signature in the SAS" "SAS: $SAS"
CS=$AZURE_STORAGE_CONNECTION_STRING

# form LABEL SOURCE KIND: mount SOURCE, check the listing (KIND root: the
# container's root; pre: the subtree under pre/) and a read, unmount.
form() {
	local label=$1 src=$2 kind=$3
	if ! mount_fs "$src"; then
		fail "$label: mounts"
		return
	fi
	pass "$label: mounts"
	if [[ $kind == root ]]; then
		check_eq "$label: the root lists the container's top level" "$ROOT" "$(listing "$MNT")"
		check_eq "$label: a blob reads" top.txt "$(cat "$MNT/top.txt")"
		check_eq "$label: a nested blob reads" pre/sub/b.txt "$(cat "$MNT/pre/sub/b.txt")"
	else
		check_eq "$label: the root lists only the prefix's subtree" "$PRE" "$(listing "$MNT")"
		check_eq "$label: a blob under the prefix reads" pre/a.txt "$(cat "$MNT/a.txt")"
		check_eq "$label: a subfolder under the prefix lists" b.txt "$(listing "$MNT/sub")"
		check_eq "$label: a nested blob under the prefix reads" pre/sub/b.txt "$(cat "$MNT/sub/b.txt")"
		check_fail_errno "$label: a blob outside the prefix is not there" ENOENT stat -- "$MNT/top.txt"
	fi
	unmount_fs
}

form "container" "$C" root
form "account/container" "$AZ_ACCOUNT/$C" root
form "account/container/prefix" "$AZ_ACCOUNT/$C/pre" pre
form "account/container/prefix/" "$AZ_ACCOUNT/$C/pre/" pre
form "path-style URL" "$URL" root
form "path-style URL with prefix" "$URL/pre" pre

unset AZURE_STORAGE_CONNECTION_STRING
export AZURE_STORAGE_ACCOUNT=$AZ_ACCOUNT AZURE_STORAGE_KEY=$AZ_KEY
form "URL, key from AZURE_STORAGE_ACCOUNT/AZURE_STORAGE_KEY" "$URL" root
unset AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY
form "URL with a container SAS, no other credential" "$URL?$SAS" root
export AZURE_STORAGE_CONNECTION_STRING=$CS
check "the SAS signature never appears in the daemon's output" absent "$SIG" "$DAEMON_LOG"

done_testing
