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
# The SAS is not shown in the mount table nor in the daemon's command line,
# nor in its log at debug level (every request logged).
if mount_fs "debug" "$URL?$SAS"; then
	ls "$MNT" >/dev/null
	check "a SAS URL mount at debug level logs its requests" grep -qF -- "GET $URL" "$DAEMON_LOG"
	check "a SAS URL mount: the signature is not in /proc/self/mountinfo" absent "$SIG" /proc/self/mountinfo
	check "a SAS URL mount: the mount table shows the URL without its query" \
		grep -qF -- " $URL " /proc/self/mountinfo
	check "a SAS URL mount: the signature is not in the daemon's /proc/PID/cmdline" \
		absent "$SIG" <(tr '\0' '\n' <"/proc/$DAEMON_PID/cmdline")
	unmount_fs
else
	fail "a SAS URL mount for the mount-table checks"
fi
check_eq "a SAS URL with a bad container name: the error does not show the signature" "" \
	"$("$AZBLOBFS" -f "${URL%/*}/Bad_Name?$SAS" "$MNT" 2>&1 | grep -F -- "$SIG")"
check "and nothing is mounted" not in_mountinfo "$MNT"
export AZURE_STORAGE_CONNECTION_STRING=$CS
check "the SAS signature never appears in the daemon's output" absent "$SIG" "$DAEMON_LOG"
# A SAS as the only credential, each way it can be given: the environment,
# a connection string, a sas_file= (mode 600), and an account SAS for a
# whole-account mount (List Containers needs one).
ASAS=$(blobtool account-sas --perm rl --minutes 60) || bail "make an account SAS through the SDK"
printf '%s\n' "$SAS" >"$TMPD/sas"
chmod 600 "$TMPD/sas"
only_sas() { # only_sas LABEL SOURCE OPTS ENV...: mount with just what ENV and OPTS give, read top.txt
	local label=$1 src=$2 opts=$3 path=${4:-top.txt}
	shift 4
	local saved=$AZURE_STORAGE_CONNECTION_STRING
	unset AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
	local v
	for v in "$@"; do export "${v?}"; done
	if mount_fs "$opts" "$src"; then
		pass "$label: mounts"
		check_eq "$label: a blob reads" top.txt "$(cat "$MNT/$path" 2>&1)"
		unmount_fs
	else
		fail "$label: mounts"
	fi
	for v in "$@"; do unset "${v%%=*}"; done
	export AZURE_STORAGE_CONNECTION_STRING=$saved
}
only_sas "AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_SAS_TOKEN" "$URL" "" top.txt \
	"AZURE_STORAGE_ACCOUNT=$AZ_ACCOUNT" "AZURE_STORAGE_SAS_TOKEN=$SAS"
only_sas "a connection string with SharedAccessSignature=" "$C" "" top.txt \
	"AZURE_STORAGE_CONNECTION_STRING=BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/$AZ_ACCOUNT;SharedAccessSignature=$SAS"
only_sas "sas_file= with a container SAS" "$URL" "sas_file=$TMPD/sas" top.txt
only_sas "a whole account with an account SAS" "http://127.0.0.1:$AZURITE_PORT/$AZ_ACCOUNT" "" "$C/top.txt" \
	"AZURE_STORAGE_SAS_TOKEN=$ASAS"
check "no SAS signature in the daemon's output" absent "$SIG" "$DAEMON_LOG"

# The account key, at debug level: neither the key nor an Authorization header.
: >"$DAEMON_LOG"
if mount_fs "debug" "$C"; then
	cat "$MNT/top.txt" >/dev/null
	unmount_fs
	check "a debug-level log of a Shared Key mount has requests in it" grep -qF -- "GET $URL" "$DAEMON_LOG"
	check "but not the account key" absent "$AZ_KEY" "$DAEMON_LOG"
	check "nor an Authorization header" not grep -qi -- "authorization: SharedKey" "$DAEMON_LOG"
else
	fail "a debug-level mount with the account key"
fi

done_testing
