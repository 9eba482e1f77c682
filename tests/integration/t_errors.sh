#!/bin/bash
# t_errors.sh - wrong credentials and unreachable services are caught before
# mounting: a wrong key, a missing container, an unreachable endpoint
# (127.0.0.1, a closed port) and an account Azurite does not know each make
# azblobfs exit non-zero with exactly one line on stderr ("azblobfs: ..."),
# with no key in its output, nothing mounted and no process left. A control
# mount with the right credentials works, so the failures are the checks'.
. "$(dirname "$0")/lib.sh"

C=$CONTAINER
printf 'x\n' >"$TMPD/x"
seed put "$C" file.txt "$TMPD/x"
GOOD_CS=$AZURE_STORAGE_CONNECTION_STRING
# A well-formed key that is not the account's (64 random bytes, base64).
BAD_KEY=$(head -c 64 /dev/urandom | base64 -w0)
CLOSED_PORT=$(free_port) || bail "find a closed port"

mount_fs "$C" || bail "control: mount $C with the right credentials"
check_eq "control: the right credentials mount and read" "x" "$(cat "$MNT/file.txt")"
unmount_fs

# expect_refusal LABEL MODE CS SOURCE [CONTAINS]: run azblobfs (MODE "fg" with
# -f, "daemon" without) with connection string CS; it must fail cleanly. With
# CONTAINS, the one stderr line must contain that text.
expect_refusal() {
	local label=$1 mode=$2 cs=$3 src=$4 contains=${5:-} rc t0 args=() lines
	[[ $mode == fg ]] && args+=(-f)
	t0=$SECONDS
	AZURE_STORAGE_CONNECTION_STRING=$cs timeout -k 5 90 "$AZBLOBFS" "${args[@]}" "$src" "$MNT" \
		>"$TMPD/out" 2>"$TMPD/err" </dev/null
	rc=$?
	{ echo "=== $label (rc $rc)"; cat "$TMPD/out" "$TMPD/err"; } >>"$DAEMON_LOG"
	if ((rc == 124 || rc == 137)); then
		fail "$label: exits (it was still running after 90 s)"
	else
		check_int "$label: exit status is non-zero" "$rc" -ne 0
	fi
	diag "$label took $((SECONDS - t0)) s"
	lines=$(wc -l <"$TMPD/err")
	if ! check_eq "$label: exactly one line on stderr" 1 "$lines"; then
		diag_file "$TMPD/err"
	fi
	check "$label: the line starts with 'azblobfs: '" grep -q '^azblobfs: ' "$TMPD/err"
	[[ -n $contains ]] && check "$label: the line names '$contains'" grep -qF -- "$contains" "$TMPD/err"
	check "$label: the wrong key is not in the output" absent "$BAD_KEY" "$TMPD/out" "$TMPD/err"
	check "$label: the account key is not in the output" absent "$AZ_KEY" "$TMPD/out" "$TMPD/err"
	check_fail "$label: nothing is mounted" in_mountinfo "$MNT"
	# A daemon that forked may still be on its way out: give it 15 s.
	wait_until 15 test -z "$(daemon_pids "$MNT")"
	check_eq "$label: no azblobfs process is left" "" "$(daemon_pids "$MNT")"
}

bad_key_cs="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$BAD_KEY;BlobEndpoint=$AZ_ENDPOINT;"
expect_refusal "wrong key" daemon "$bad_key_cs" "$C"
expect_refusal "wrong key, foreground" fg "$bad_key_cs" "$C"
expect_refusal "missing container" daemon "$GOOD_CS" "no-such-container-$RANDOM" "no-such-container-"
expect_refusal "missing container, foreground" fg "$GOOD_CS" "no-such-container-$RANDOM" "no-such-container-"
expect_refusal "unreachable endpoint" daemon \
	"DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=http://127.0.0.1:$CLOSED_PORT/$AZ_ACCOUNT;" \
	"$C" "127.0.0.1:$CLOSED_PORT"
expect_refusal "unknown account on Azurite" daemon \
	"DefaultEndpointsProtocol=http;AccountName=nosuchaccount;AccountKey=$AZ_KEY;BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/nosuchaccount;" \
	"$C"

done_testing
