#!/bin/bash
# timeout: 300
# t_write_fail.sh - a commit that cannot reach the service fails loudly and
# loses nothing (private Azurite, mounted with timeout=5,retries=2):
#  - Azurite stopped (connections refused) between write and fsync/close:
#    fsync and close give EIO within the deadline, after retries; the written
#    bytes are in a staging file; the daemon logs one line naming the blob and
#    that file;
#  - the port accepting connections but never answering: close gives EIO
#    after about the 5 s deadline (not 3 x 5 s), the bytes are kept;
#  - a file over 8 MiB whose first blocks were uploaded before the service
#    went away: close gives EIO and every written byte is kept locally;
#  - the service refusing a commit (a lease held elsewhere): close gives EIO,
#    the whole new content is kept;
#  - Azurite back: the same mount writes and commits again (checked through
#    the SDK), and the kept staging files are still there after unmount;
#  - SIGTERM with a file open and the service down: the daemon fails the
#    commit within its deadline, logs where the bytes were kept, unmounts
#    and exits 0.
# shellcheck disable=SC2034 # read by lib.sh
PRIVATE_AZURITE=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/write_lib.sh"

C=$CONTAINER
STAGE=$TEST_DIR/stage
DEADLINE=5
# Seconds allowed past the deadline (scheduling, Azurite, Python): as much
# again, so twice the deadline in all, which a slow machine meets and a
# commit that waited a deadline per attempt (3 x 5 s) does not.
SLACK=$DEADLINE
MiB=$((1024 * 1024))

# A writer we drive step by step: it opens FILE, writes DATA_FILE's bytes in
# 1 MiB pieces, prints "written", then runs one command per input line:
#   fsync | close | putblocks N (wait up to 30 s until N Put Blocks of this
#   mount succeeded) -> prints "OK <ms>" or "<ERRNO> <ms>"
WRITER='
import errno, json, os, sys, time
path, data_file, mnt = sys.argv[1:4]
def ok_put_blocks():
    s = json.loads(os.getxattr(mnt, "user.azblobfs.stats"))
    return s["requests"].get("PutBlock", {}).get("ok", 0)
base = ok_put_blocks()
data = open(data_file, "rb").read()
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for i in range(0, len(data), 1 << 20):
    os.write(fd, data[i:i + (1 << 20)])
print("written", flush=True)
for line in sys.stdin:
    cmd = line.split()
    t0 = time.monotonic()
    res = "OK"
    try:
        if cmd[0] == "fsync":
            os.fsync(fd)
        elif cmd[0] == "close":
            os.close(fd)
        elif cmd[0] == "putblocks":
            deadline = time.monotonic() + 30
            while ok_put_blocks() - base < int(cmd[1]):
                if time.monotonic() > deadline:
                    res = "TIMEOUT"
                    break
                time.sleep(0.05)
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    print(res, int((time.monotonic() - t0) * 1000), flush=True)
    if cmd[0] == "close":
        break
'

# writer_start FILE DATA_FILE: start the writer (its stdin and stdout are
# FIFOs held open by this shell as WR_TO / WR_FROM) and wait for "written".
writer_start() {
	local line
	rm -f "$TMPD/wr.in" "$TMPD/wr.out"
	mkfifo "$TMPD/wr.in" "$TMPD/wr.out" || return 1
	python3 -c "$WRITER" "$1" "$2" "$MNT" <"$TMPD/wr.in" >"$TMPD/wr.out" 2>"$TMPD/wr.err" &
	WR_PID=$!
	OWN_PIDS+=("$WR_PID")
	exec {WR_TO}>"$TMPD/wr.in" {WR_FROM}<"$TMPD/wr.out"
	IFS= read -r -t 60 line <&"$WR_FROM"
	[[ $line == written ]] || { diag "writer said: $line" "$(cat "$TMPD/wr.err")"; return 1; }
}

# writer_do CMD: send CMD, print the writer's answer ("OK 12", "EIO 5003").
writer_do() {
	local line
	printf '%s\n' "$1" >&"$WR_TO"
	IFS= read -r -t 120 line <&"$WR_FROM" || line="no answer: $(cat "$TMPD/wr.err")"
	printf '%s\n' "$line"
}

# writer_end: close the FIFOs and reap the writer.
writer_end() {
	exec {WR_TO}>&- {WR_FROM}<&-
	wait "$WR_PID" 2>/dev/null
}

# kept_copy_of WANT_FILE: a staging file in $STAGE with exactly WANT_FILE's bytes.
kept_copy_of() {
	local f
	for f in "$STAGE"/*; do
		[[ -f $f && $f != *.info ]] || continue
		if [[ $(stat -c %s "$f") == "$(stat -c %s "$1")" ]] && cmp -s "$f" "$1"; then
			echo "$f"
			return 0
		fi
	done
	return 1
}

# log_line_for BLOB PATH: the daemon log lines naming both BLOB and PATH.
log_lines_for() {
	grep -F -- "$1" "$DAEMON_LOG" | grep -cF -- "$2"
}

mount_fs "cache_dir=$STAGE,timeout=$DEADLINE,retries=2" "$C" || bail "mount $C read-write"
mkdir "$MNT/out" || bail "mkdir out"

# ---------------------------------------------------------------- refused connections
head -c 100000 /dev/urandom >"$TMPD/small.data"
writer_start "$MNT/out/small.dat" "$TMPD/small.data" || bail "start the writer"
s1=$(stats_json 2>/dev/null)
azurite_stop || bail "stop Azurite"
r=$(writer_do fsync)
check_eq "with Azurite stopped, fsync gives EIO" EIO "${r% *}"
check_int "fsync failed within the deadline ($DEADLINE s + $SLACK s): ${r#* } ms" "${r#* }" -le $(((DEADLINE + SLACK) * 1000))
r=$(writer_do close)
writer_end
s2=$(stats_json 2>/dev/null)
check_eq "with Azurite stopped, close gives EIO" EIO "${r% *}"
check_int "close failed within the deadline ($DEADLINE s + $SLACK s): ${r#* } ms" "${r#* }" -le $(((DEADLINE + SLACK) * 1000))
retries=$(($(json_get retries "$s2") - $(json_get retries "$s1")))
check_int "the failed commits were retried first (retries counted: $retries)" "$retries" -ge 2
kept=$(kept_copy_of "$TMPD/small.data")
check "a staging file holds exactly the 100000 bytes written" test -n "$kept"
if [[ -n $kept ]]; then
	check_int "the daemon log has a line naming the blob and the staging file" \
		"$(log_lines_for "$C/out/small.dat" "$kept")" -ge 1
	diag "kept at $kept; log: $(grep -F -- "$kept" "$DAEMON_LOG" | head -n 3)"
else
	fail "the daemon log has a line naming the blob and the staging file" "no staging file to look for"
	diag "staging dir: $(ls -la "$STAGE" 2>&1)"
	diag_file "$DAEMON_LOG" 10
fi

# ---------------------------------------------------------------- no answer at all
# Azurite back, a file written; then Azurite gone and something accepting
# connections on its port that never answers: only the deadline can end the
# commit.
azurite_start || bail "restart Azurite"
head -c 200000 /dev/urandom >"$TMPD/silent.data"
writer_start "$MNT/out/silent.dat" "$TMPD/silent.data" || bail "start the writer"
azurite_stop || bail "stop Azurite"
PORT=$AZURITE_PORT
node -e '
const net = require("net");
const srv = net.createServer((s) => { s.on("data", () => {}); s.on("error", () => {}); });
srv.listen(Number(process.argv[1]), "127.0.0.1", () => console.log("listening"));
' "$PORT" >"$TMPD/blackhole.out" 2>&1 &
HOLE_PID=$!
OWN_PIDS+=("$HOLE_PID")
wait_until 10 grep -qs listening "$TMPD/blackhole.out" || bail "start a silent listener on $PORT: $(cat "$TMPD/blackhole.out")"
r=$(writer_do close)
writer_end
check_eq "with a service that never answers, close gives EIO" EIO "${r% *}"
check_int "close waited for the deadline (>= $((DEADLINE - 1)) s): ${r#* } ms" "${r#* }" -ge $(((DEADLINE - 1) * 1000))
check_int "close failed within the deadline ($DEADLINE s + $SLACK s, retries included): ${r#* } ms" "${r#* }" -le $(((DEADLINE + SLACK) * 1000))
kept=$(kept_copy_of "$TMPD/silent.data")
check "a staging file holds exactly the 200000 bytes written" test -n "$kept"
[[ -n $kept ]] && check_int "the daemon log names the blob and that staging file" \
	"$(log_lines_for "$C/out/silent.dat" "$kept")" -ge 1
kill -TERM "$HOLE_PID" 2>/dev/null
wait "$HOLE_PID" 2>/dev/null
azurite_start || bail "restart Azurite"

# ---------------------------------------------------------------- blocks already sent
head -c $((20 * MiB + 4321)) /dev/urandom >"$TMPD/big.data"
writer_start "$MNT/out/big.dat" "$TMPD/big.data" || bail "start the writer"
r=$(writer_do "putblocks 2")
check_eq "two 8 MiB blocks of the 20 MiB file were uploaded while it is open" OK "${r% *}"
azurite_stop || bail "stop Azurite"
r=$(writer_do close)
writer_end
check_eq "with Azurite stopped after some blocks went up, close gives EIO" EIO "${r% *}"
check_int "close failed within the deadline ($DEADLINE s + $SLACK s): ${r#* } ms" "${r#* }" -le $(((DEADLINE + SLACK) * 1000))
kept=$(kept_copy_of "$TMPD/big.data")
check "a staging file holds every byte written (20 MiB + 4321), uploaded blocks included" test -n "$kept"
if [[ -z $kept ]]; then
	diag "staging files: $(cd "$STAGE" && for f in *; do printf '%s (%s bytes) ' "$f" "$(stat -c %s "$f")"; done)"
	diag "daemon log lines about out/big.dat:" "$(grep -F "out/big.dat" "$DAEMON_LOG" | tail -n 3)"
	for f in "$STAGE"/*.info; do grep -qF out/big.dat "$f" 2>/dev/null && diag "$(basename "$f"):" "$(cat "$f")"; done
fi
check "the daemon log says the changes to out/big.dat were not committed and where they are" \
	grep -qE "out/big\.dat.*$STAGE/" "$DAEMON_LOG"
azurite_start || bail "restart Azurite"

# ---------------------------------------------------------------- a refusing service
# The service answers but refuses the commit (another client holds a lease on
# the blob): not retryable; close gives EIO, the new content is kept.
printf 'base content\n' >"$TMPD/leased.base"
check "write a file to lease" cp "$TMPD/leased.base" "$MNT/out/leased.txt"
lease_id=$(blobtool lease "$C" out/leased.txt) || bail "lease out/leased.txt through the SDK"
{ cat "$TMPD/leased.base"; head -c 5000 /dev/urandom; } >"$TMPD/leased.want"
head -c 5000 <(tail -c 5000 "$TMPD/leased.want") >"$TMPD/leased.tail"
r=$(pyrun '
import errno, os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
os.write(fd, open(sys.argv[2], "rb").read())
t0 = time.monotonic()
try:
    os.close(fd); res = "OK"
except OSError as e:
    res = errno.errorcode.get(e.errno, str(e.errno))
print(res, int((time.monotonic() - t0) * 1000))
' "$MNT/out/leased.txt" "$TMPD/leased.tail" 2>&1)
check_eq "close of an append to a blob leased by someone else gives EIO" EIO "${r% *}"
check_blob_file "the leased blob is unchanged on the service" out/leased.txt "$TMPD/leased.base"
kept=$(kept_copy_of "$TMPD/leased.want")
check "a staging file holds the whole new content (old bytes + appended)" test -n "$kept"
[[ -n $kept ]] && check_int "the daemon log names the blob and that staging file" \
	"$(log_lines_for "$C/out/leased.txt" "$kept")" -ge 1
blobtool unlease "$C" out/leased.txt "$lease_id" >/dev/null

# ---------------------------------------------------------------- the service back
check "the service answers the SDK again" blobtool list "$C"
printf 'after the outage\n' >"$TMPD/after.txt"
check "with Azurite back, the same mount writes a new file" cp "$TMPD/after.txt" "$MNT/out/after.txt"
check_blob_file "the new file is on the service with its bytes" out/after.txt "$TMPD/after.txt"
head -c 9000000 /dev/urandom >"$TMPD/after.bin"
check "with Azurite back, a 9 MB file streams in blocks again" cp "$TMPD/after.bin" "$MNT/out/after.bin"
check_blob_file "the 9 MB file is on the service with its bytes" out/after.bin "$TMPD/after.bin"
check "the failed small file never reached the service half-written" \
	bash -c '[[ $1 == false ]]' _ "$(blobtool exists "$C" out/small.dat 2>&1)"
unmount_fs
check "after unmount the kept copy of the small file is still in the staging directory" kept_copy_of "$TMPD/small.data"
check "after unmount the kept copy of the silent-service file is still there" kept_copy_of "$TMPD/silent.data"

# ---------------------------------------------------------------- SIGTERM with the service down
# A file written but not closed when the daemon is told to stop while the
# service is away: the daemon tries to commit it (within its deadline),
# logs that it failed and where the bytes were kept, unmounts and exits.
mount_fs "cache_dir=$STAGE,timeout=$DEADLINE,retries=1" "$C" || bail "mount $C again"
head -c 300000 /dev/urandom >"$TMPD/term.data"
writer_start "$MNT/out/term.dat" "$TMPD/term.data" || bail "start the writer"
azurite_stop || bail "stop Azurite"
t0=$SECONDS
kill -TERM "$DAEMON_PID"
check "after SIGTERM the daemon exits" wait_until $((DEADLINE * 4 + 30)) not pid_alive "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
check_eq "with status 0 (the failure is in the log, the bytes in staging)" 0 "$?"
diag "SIGTERM to exit: $((SECONDS - t0)) s"
check "and within twice its deadline and the shutdown slack ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -le $((DEADLINE * 2 + 35))
check "the mount is gone" not in_mountinfo "$MNT"
unset 'MOUNT_PID[$MNT]'
writer_end
kept=$(kept_copy_of "$TMPD/term.data")
check "a staging file holds every byte of the file open at SIGTERM" test -n "$kept"
[[ -n $kept ]] && check_int "the daemon log names the blob and that staging file" \
	"$(log_lines_for "$C/out/term.dat" "$kept")" -ge 1
azurite_start || bail "restart Azurite"
check "the uncommitted file never reached the service" \
	bash -c '[[ $1 == false ]]' _ "$(blobtool exists "$C" out/term.dat 2>&1)"

done_testing
