#!/bin/bash
# timeout: 240
# t_hostile.sh - a misbehaving server never crashes or hangs the daemon and
# every failure reaches the program as a clear errno. The mount talks to a
# fake blob endpoint on loopback (hostile_server.py: container "hostile",
# no signature checks) that answers the mount's access check, the root
# listing and everything under good/ correctly, and misbehaves under every
# other top-level folder: paging markers that repeat or cycle, truncated,
# non-XML, entity-bomb and over-long listings, 503 ServerBusy with and
# without Retry-After, a 1 MiB header, a body without end, replies that are
# not HTTP, connections that close or reset, Get Blob replies shorter than
# announced or asked, a 200 where a 206 belongs, a Content-Range of another
# offset, a stall. For each: the errno the program sees (Python's os calls,
# by errno name), within a bounded time, a bounded number of requests where
# retries are involved, one log line naming the path, the daemon still
# alive, and a file in good/ that was never read before reading right.
# Mounted with -o timeout=3,retries=2 (so retries and deadlines are short)
# and walk_max=0 (a tree walk would replace per-folder listings).
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"

OP_TIMEOUT=20                           # a call still blocked after this is killed: a hang
DEADLINE=3                              # the mount's timeout= (seconds per request)
fake_endpoint_start
diag "fake blob endpoint: pid $SERVER_PID, 127.0.0.1:$HPORT, requests in $REQLOG"

# One file-system call in a fresh Python: "OK <result>" or the errno's name;
# the call's own time (ms, interpreter start-up excluded) goes to MS_FILE.
cat >"$TMPD/fsop.py" <<'EOF'
import errno, hashlib, os, sys, time
op, path, ms_file = sys.argv[1:4]
t0 = time.monotonic()
try:
    if op == "list":
        r = ",".join(sorted(os.listdir(path)))
    elif op == "stat":
        r = "size=%d" % os.stat(path).st_size
    elif op == "read":
        with open(path, "rb") as f:
            r = hashlib.sha256(f.read()).hexdigest()
    else:
        sys.exit("fsop: unknown op " + op)
    print("OK " + r)
except OSError as e:
    print(errno.errorcode.get(e.errno, "errno %d" % e.errno))
with open(ms_file, "w") as f:
    f.write("%d\n" % ((time.monotonic() - t0) * 1000))
EOF

# fsop OP PATH: sets OP_OUT (fsop.py's line, or TIMEOUT), OP_MS (how long
# the call itself took: a busy machine may take seconds to start Python, but
# not to answer one call), OP_REQS (the request-log lines it caused) and
# OP_LOG (the daemon-log lines it caused).
fsop() {
	local n0 b0 rc
	n0=$(wc -l <"$REQLOG")
	b0=$(stat -c %s -- "$DAEMON_LOG")
	rm -f -- "$TMPD/op.ms"
	OP_OUT=$(timeout -k 2 "$OP_TIMEOUT" python3 "$TMPD/fsop.py" "$1" "$2" "$TMPD/op.ms" 2>&1)
	rc=$?
	OP_MS=$(cat -- "$TMPD/op.ms" 2>/dev/null) || OP_MS=$((OP_TIMEOUT * 1000))
	((rc == 124 || rc == 137)) && OP_OUT="TIMEOUT (still blocked after ${OP_TIMEOUT}s)"
	OP_REQS=$(tail -n +"$((n0 + 1))" -- "$REQLOG")
	OP_LOG=$(tail -c +"$((b0 + 1))" -- "$DAEMON_LOG")
}

# count_lines REGEX TEXT: lines of TEXT matching REGEX.
count_lines() {
	local n
	n=$(grep -c -E -- "$1" <<<"$2")
	echo "${n:-0}"
}

# reqs REGEX: requests so far (lines of the request log) matching REGEX.
reqs() {
	count_lines "$1" "$(cat -- "$REQLOG")"
}

# server_children PREFIX: the names one level below PREFIX on the fake
# endpoint, sorted, comma-separated (as fsop list prints them).
server_children() {
	python3 - "$IT_DIR" "$1" <<'EOF'
import sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.argv[1])
import hostile_server as h
p = sys.argv[2]
print(",".join(sorted({n[len(p):].split("/")[0] for n in h.NAMES if n.startswith(p)})))
EOF
}

sha_of() {
	python3 "$SERVER" content "$1" | sha256sum | cut -d' ' -f1
}

# shellcheck disable=SC2317 # called through check
daemon_alive() {
	pid_alive "$DAEMON_PID" && in_mountinfo "$MNT"
}

# survives LABEL TAG: the daemon survived, and a good file never read before
# (good/after-TAG.txt: a fresh lookup, open and Get Blob) reads right.
survives() {
	local label=$1 tag=$2
	check "$label: the daemon is still alive and mounted" daemon_alive
	fsop read "$MNT/good/after-$tag.txt"
	check_eq "$label: afterwards good/after-$tag.txt still reads right" "OK $(sha_of "good/after-$tag.txt")" "$OP_OUT"
}

# expect_fail LABEL ERRNO MAX_MS OP PATH [LOG_TEXT]: OP on PATH fails with ERRNO
# within MAX_MS, and the daemon logs a line naming the path (with LOG_TEXT).
expect_fail() {
	local label=$1 want=$2 max_ms=$3 op=$4 path=$5 text=${6:-} rel
	rel=${path#"$MNT"/}
	fsop "$op" "$path"
	check_eq "$label: $op fails with $want" "$want" "$OP_OUT"
	check_int "$label: the error arrives within $((max_ms / 1000)).$((max_ms % 1000 / 100)) s (took $OP_MS ms)" "$OP_MS" -le "$max_ms"
	if ! check_int "$label: the daemon logs the failure, naming 'hostile/$rel'" \
		"$(count_lines "'hostile/$rel" "$OP_LOG")" -ge 1; then
		diag "daemon log during the call:" "${OP_LOG:-(nothing)}"
	fi
	if [[ -n $text ]] && ! check "$label: the log line says '$text'" grep -qF -- "$text" <<<"$OP_LOG"; then
		diag "daemon log during the call:" "${OP_LOG:-(nothing)}"
	fi
}

# ---------------------------------------------------------------- mount
AZURE_STORAGE_CONNECTION_STRING=$HCS mount_fs "ro,timeout=$DEADLINE,retries=2,walk_max=0" hostile ||
	bail "mount container 'hostile' of the fake endpoint" "$(tail -n 20 "$REQLOG")"
check_eq "the mount's access check is one List Blobs of the root" 1 "$(reqs '^LIST prefix= delim=/ marker=$')"

fsop list "$MNT"
check_eq "the root lists every folder of the fake endpoint" "OK $(server_children "")" "$OP_OUT"
fsop read "$MNT/good/hello.txt"
check_eq "good/hello.txt reads right before anything goes wrong" "OK $(sha_of good/hello.txt)" "$OP_OUT"
check_eq "and it took one Get Blob" 1 "$(count_lines '^GET blob=good/hello\.txt ' "$OP_REQS")"

# ---------------------------------------------------------------- listings
# Every folder below answers its listing (and every lookup inside it,
# which is a List Blobs with the name as prefix) with the misbehaviour.
# ms: a failure reaches the program within the per-request deadline (retries
# included), not after the kernel's 120 s or OP_TIMEOUT; twice the deadline
# leaves room for a listing of two pages and a slow machine.
FAST=$((DEADLINE * 2000))

list_case() {
	local f=$1 want=$2 max_ms=$3 text=${4:-}
	expect_fail "$f: listing" "$want" "$max_ms" list "$MNT/$f" "$text"
	expect_fail "$f: lookup of $f/f.bin" "$want" "$max_ms" stat "$MNT/$f/f.bin" "$text"
	survives "$f" "$f"
}

# NextMarker equal to the marker asked for: the daemon stops at the repeat.
list_case loop EIO "$FAST" "repeated a paging marker"
check_eq "loop: the listing asked for 2 pages, not more" 2 "$(reqs '^LIST prefix=loop/ ')"
check_eq "loop: the lookup asked for 2 pages, not more" 2 "$(reqs '^LIST prefix=loop/f\.bin ')"
# Markers that take turns (A, B, A, ...): no page is followed by its own
# marker, but the listing goes round in a circle all the same. It must fail
# like the repeat above, after a bounded number of pages (the fake server
# ends the circle after 100 pages, so a daemon that follows it finishes).
fsop list "$MNT/loop2"
check_eq "loop2: a listing whose markers go round in a circle fails with EIO" EIO "$OP_OUT"
check_int "loop2: and it stops after at most 10 pages (asked for $(count_lines '^LIST prefix=loop2/ ' "$OP_REQS"))" \
	"$(count_lines '^LIST prefix=loop2/ ' "$OP_REQS")" -le 10
survives "loop2" "loop2"

list_case badxml EIO "$FAST" "malformed XML"
list_case notxml EIO "$FAST" "malformed XML"
list_case entity EIO "$FAST" "DOCTYPE or declarations are not accepted"
list_case badentry EIO "$FAST" "is malformed"
list_case longmarker EIO "$FAST" "malformed NextMarker"
list_case toomany EIO "$FAST" "more than 5001 entries"

# 503 ServerBusy: retried (retries=2: three attempts in all), then EIO.
list_case busy EIO "$FAST" "503 ServerBusy"
check_eq "busy: the lookup made 3 attempts (retries=2)" 3 "$(reqs '^LIST prefix=busy/f\.bin ')"
check_eq "busy: the listing made 3 attempts (retries=2)" 3 "$(reqs '^LIST prefix=busy/ ')"
# With Retry-After: 1 the two retries wait a second each: still inside the deadline.
expect_fail "busyra: listing" EIO "$FAST" list "$MNT/busyra" "503 ServerBusy"
check_int "busyra: the retries waited the Retry-After second each (took $OP_MS ms)" "$OP_MS" -ge 1800
check_eq "busyra: 3 attempts" 3 "$(count_lines '^LIST prefix=busyra/ ' "$OP_REQS")"
survives "busyra" "busyra"
# Retry-After beyond the deadline: fail now rather than sleep an hour, or
# until the deadline (a daemon that waits takes the whole DEADLINE s).
expect_fail "busyhuge: listing" EIO $((DEADLINE * 1000 - 1)) list "$MNT/busyhuge" "503 ServerBusy"
check_eq "busyhuge: one attempt (the wait asked for is past the deadline)" 1 "$(count_lines '^LIST prefix=busyhuge/ ' "$OP_REQS")"
survives "busyhuge" "busyhuge"

# Transport-level trouble.
list_case bighdr EIO "$FAST"
fsop list "$MNT/manyhdr"
check_eq "manyhdr: 2,000 extra header lines are ignored: the listing works" "OK f.bin" "$OP_OUT"
survives "manyhdr" "manyhdr"
list_case bigbody EIO "$FAST"
wait_until 10 grep -q '^SENT bigbody ' "$REQLOG"
sent=$(awk '$1 == "SENT" && $2 == "bigbody" { n = $3 } END { print n + 0 }' "$REQLOG")
check_int "bigbody: the daemon hung up at its 64 MiB cap (the server sent $((sent / 1048576)) MiB of 10 GiB)" \
	"$sent" -le $((128 * 1048576))
list_case bigxml EIO "$FAST" "larger than"
list_case http09 EIO "$FAST"
list_case nothing EIO "$FAST"
# curl itself replays a request once on a fresh connection when a reused
# one closes without a byte, so the server may see up to twice 3 attempts.
n=$(reqs '^LIST prefix=nothing/ ')
check "nothing: the listing made 3 attempts (retries=2; the server saw $n requests, 3 to 6 expected)" \
	test "$n" -ge 3 -a "$n" -le 6
list_case badlength EIO "$FAST"
list_case cont EIO "$FAST"

# ---------------------------------------------------------------- Get Blob
# The listing of these folders is good; reading f.bin is not.
read_case() {
	local f=$1 want=$2 max_ms=$3 text=${4:-}
	fsop list "$MNT/$f"
	check_eq "$f: the listing is good" "OK f.bin" "$OP_OUT"
	expect_fail "$f: read of f.bin" "$want" "$max_ms" read "$MNT/$f/f.bin" "$text"
	survives "$f" "$f"
}

read_case reset EIO "$FAST"
check_eq "reset: 3 Get Blob attempts (retries=2)" 3 "$(reqs '^GET blob=reset/f\.bin ')"
read_case shortcl EIO "$FAST"
check_eq "shortcl: 3 Get Blob attempts (retries=2)" 3 "$(reqs '^GET blob=shortcl/f\.bin ')"
read_case shortrange EIO "$FAST"
read_case stall EIO $((DEADLINE * 1000 + 3000))
read_case full200 EIO "$FAST"
read_case errbody EIO "$FAST"
# The bytes of another offset, with the right length: only Content-Range
# tells. Reading them as the file's would hand the program wrong data.
read_case badrange EIO "$FAST"

# ---------------------------------------------------------------- the end
fsop list "$MNT/good"
check_eq "good/ still lists right" "OK $(server_children good/)" "$OP_OUT"
fsop read "$MNT/good/big.bin"
check_eq "good/big.bin (3 MiB, several ranged reads) reads right" "OK $(sha_of good/big.bin)" "$OP_OUT"
check "the daemon is alive at the end" daemon_alive
check "the daemon log has no sanitizer report" absent "Sanitizer" "$DAEMON_LOG"
check "the daemon log has no 'runtime error'" absent "runtime error:" "$DAEMON_LOG"
unmount_fs
check "the fake endpoint itself is still up (its failures were on purpose)" pid_alive "$SERVER_PID"

done_testing
