#!/bin/bash
# t_ops.sh - running as a service (issue 5): sd_notify READY=1 arrives only
# once the mount answers stat, and STOPPING=1 on shutdown; SIGTERM with an
# upload in flight commits it (checked through the REST API), unmounts and
# exits 0; a config file carries options and credentials; bad configs,
# world-readable credential files, unknown and conflicting options each
# exit 1 with one line and leave nothing mounted.
# timeout: 300
. "$(dirname "$0")/lib.sh"

C=$CONTAINER
no_daemon() { [[ -z $(daemon_pids "$1") ]]; }
printf 'seeded\n' >"$TMPD/seeded"
seed put "$C" seeded.txt "$TMPD/seeded"

# ---- readiness ----
cat >"$TMPD/notify.py" <<'EOF'
import os, socket, subprocess, sys, time
azblobfs, source, mnt, sock = sys.argv[1:5]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock)
s.settimeout(30)
env = dict(os.environ, NOTIFY_SOCKET=sock)
d = subprocess.Popen([azblobfs, "-f", source, mnt], env=env,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("pid", d.pid, flush=True)
msg = s.recv(4096).decode()
# The moment READY=1 arrives, the mount must already answer.
mounted = os.path.ismount(mnt)
try:
    with open(os.path.join(mnt, "seeded.txt")) as f:
        content = f.read().strip()
except OSError as e:
    content = "error: " + str(e)
print("first", msg.replace("\n", "|"), flush=True)
print("mounted", mounted, flush=True)
print("content", content, flush=True)
d.terminate()
msg2 = s.recv(4096).decode()
print("second", msg2.replace("\n", "|"), flush=True)
print("exit", d.wait(timeout=60), flush=True)
EOF
mkdir -p "$MNT"
out=$(python3 "$TMPD/notify.py" "$AZBLOBFS" "$C" "$MNT" "$TMPD/notify.sock" 2>&1)
diag "$out"
pid=$(sed -n 's/^pid //p' <<<"$out")
[[ -n $pid ]] && OWN_PIDS+=("$pid")
check "the first notification is READY=1" grep -q '^first READY=1' <<<"$out"
check_eq "when READY=1 arrives the mount is in place" "True" "$(sed -n 's/^mounted //p' <<<"$out")"
check_eq "and answers reads" "seeded" "$(sed -n 's/^content //p' <<<"$out")"
check "SIGTERM sends STOPPING=1" grep -q '^second STOPPING=1' <<<"$out"
check_eq "and the daemon exits 0" "0" "$(sed -n 's/^exit //p' <<<"$out")"
check "nothing is left mounted" not in_mountinfo "$MNT"

# ---- SIGTERM with an upload in flight ----
mount_fs "cache_dir=$TEST_DIR/stage" "$C" || bail "mount $C"
head -c $((12 * 1024 * 1024 + 12345)) /dev/urandom >"$TMPD/inflight"
want=$(sha256sum <"$TMPD/inflight" | cut -d' ' -f1)
# A writer that has written everything but not closed: one block has gone
# up with Put Block, the tail is in memory, nothing is committed yet. One
# process writes and holds the descriptor (every close(), even of a dup,
# is a FUSE flush, which commits); it says "written" and waits for its
# stdin to close.
coproc HOLDER { python3 -c '
import sys
with open(sys.argv[1], "rb") as src, open(sys.argv[2], "wb") as dst:
    dst.write(src.read())
    print("written", flush=True)
    sys.stdin.read()
' "$TMPD/inflight" "$MNT/inflight.bin" 2>/dev/null; }
OWN_PIDS+=("$HOLDER_PID")
holder_pid=$HOLDER_PID
holder_in=${HOLDER[1]}
read -r -t 60 word <&"${HOLDER[0]}"
check_eq "the writer has written everything" written "${word:-}"
before=$(blobtool sha256 "$C" inflight.bin 2>/dev/null)
check_ne "before SIGTERM the service does not have the content" "$want" "$before"
kill -TERM "$DAEMON_PID"
check "after SIGTERM the daemon exits" wait_until 60 not pid_alive "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
check_eq "with status 0" 0 "$?"
exec {holder_in}>&- 2>/dev/null
wait "$holder_pid" 2>/dev/null
check "the mount is gone" not in_mountinfo "$MNT"
got=$(blobtool sha256 "$C" inflight.bin)
check_eq "the blob on the service holds every byte written" "$want" "$got"
check "the shutdown is logged" grep -q "committing pending changes" "$DAEMON_LOG"
unset 'MOUNT_PID[$MNT]'

# ---- a config file ----
key_of() { sed -n 's/.*AccountKey=\([^;]*\).*/\1/p' <<<"$AZURE_STORAGE_CONNECTION_STRING"; }
cfg=$TEST_DIR/az.conf
cat >"$cfg" <<EOF
# azblobfs configuration
account = $AZ_ACCOUNT
endpoint = $AZ_ENDPOINT
account_key = $(key_of)
metadata_ttl = 5
EOF
chmod 600 "$cfg"
check "a private config file with the credentials mounts" env -u AZURE_STORAGE_CONNECTION_STRING \
	"$AZBLOBFS" -o "config=$cfg" "$C" "$MNT"
check_eq "and reads" "seeded" "$(cat "$MNT/seeded.txt" 2>&1)"
check "the daemon has left the caller" fusermount3 -u "$MNT"
check "nothing is left mounted" wait_until 10 not in_mountinfo "$MNT"

# one failure: exit 1, one line on stderr starting "azblobfs: ", nothing mounted
refused() {
	local name=$1 pattern=$2 err rc
	shift 2
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	check_eq "$name: exit status 1" 1 "$rc"
	check_eq "$name: one line" 1 "$(printf '%s\n' "$err" | wc -l)"
	check "$name: says why ($pattern)" grep -qE -- "^azblobfs: .*$pattern" <<<"$err"
	check "$name: no key in it" not grep -qF -- "$(key_of)" <<<"$err"
	check "$name: nothing mounted" not in_mountinfo "$MNT"
	check "$name: no daemon left" no_daemon "$MNT"
}
chmod 644 "$cfg"
refused "a world-readable config with a key" "readable by group or others" \
	env -u AZURE_STORAGE_CONNECTION_STRING "$AZBLOBFS" -o "config=$cfg" "$C" "$MNT"
key_of >"$TEST_DIR/key"
chmod 644 "$TEST_DIR/key"
refused "a world-readable key file" "readable by group or others" \
	env -u AZURE_STORAGE_CONNECTION_STRING "$AZBLOBFS" \
	-o "account=$AZ_ACCOUNT,endpoint=$AZ_ENDPOINT,key_file=$TEST_DIR/key" "$C" "$MNT"
printf 'metadata_ttl = 5\nfrobnicate = yes\n' >"$TEST_DIR/bad.conf"
refused "a config with an unknown option" "line 2.*frobnicate|frobnicate" \
	"$AZBLOBFS" -o "config=$TEST_DIR/bad.conf" "$C" "$MNT"
refused "an unknown option" "unknown option 'nosuchoption'" "$AZBLOBFS" -o nosuchoption "$C" "$MNT"
refused "a bad value" "invalid value" "$AZBLOBFS" -o mem_mb=lots "$C" "$MNT"
refused "conflicting options" "conflict" "$AZBLOBFS" \
	-o "key_file=$TEST_DIR/key,connection_string_file=$TEST_DIR/key" "$C" "$MNT"
refused "a secret on the command line" "not accepted on the command line" \
	"$AZBLOBFS" -o "account_key=$(key_of)" "$C" "$MNT"

# ---- daemonised, it logs to syslog ----
# With no syslog daemon here (/dev/log absent), the test is the syslog: it
# binds /dev/log itself for the duration, and removes it afterwards.
if [[ -e /dev/log ]]; then
	skip "a daemonised mount logs to syslog" "/dev/log exists: a syslog daemon owns it"
else
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1] + ".ready", "w").close()
with open(sys.argv[1], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).rstrip(b"\0") + b"\n")
' "$TMPD/syslog" 2>"$TMPD/syslog.err" &
	SYSLOG_PID=$!
	OWN_PIDS+=("$SYSLOG_PID")
	OWN_FILES+=(/dev/log)
	if wait_until 10 test -e "$TMPD/syslog.ready"; then
		mount_fs_daemon "$C"
		check_eq "a daemonised mount returns 0" 0 "$?"
		check_eq "and nothing on its stderr" "" "$(cat "$TEST_DIR/daemon-cmd.err")"
		cat "$MNT/seeded.txt" >/dev/null
		fusermount3 -u "$MNT"
		check "nothing is left mounted" wait_until 10 not in_mountinfo "$MNT"
		check "syslog got the daemon's 'mounted' line, tagged azblobfs[PID]" \
			wait_until 10 grep -qE "azblobfs\[[0-9]+\]: .*mounted at '$MNT'" "$TMPD/syslog"
		check "with the daemon facility and info level (<30>)" grep -qE "^<30>.*mounted at" "$TMPD/syslog"
	else
		fail "bind /dev/log for the syslog check" "$(cat "$TMPD/syslog.err")"
	fi
	kill "$SYSLOG_PID" 2>/dev/null
	wait "$SYSLOG_PID" 2>/dev/null
	rm -f /dev/log
fi

# ---- --help and --version ----
help=$("$AZBLOBFS" --help 2>&1)
check_eq "--help exits 0" 0 "$?"
for opt in ro uid= gid= umask= allow_other attr_timeout= entry_timeout= metadata_ttl= mem_mb= \
	cache_dir= cache_size_mb= max_connections= timeout= retries= config= log_level= key_file=; do
	check "--help lists $opt" grep -qF -- "$opt" <<<"$help"
done
check "--help gives defaults" grep -q "default" <<<"$help"
# Every option the parser knows (its tables in src/fuse/options.c, but the
# mount(8) ones it ignores) is in --help with a default in its entry (its line and the indented ones after).
undocumented=$(python3 - "$IT_DIR/../../src/fuse/options.c" "$help" <<'EOF'
import re, sys
src, text = open(sys.argv[1]).read(), sys.argv[2].split("\n")
names = re.findall(r'^\s*\{"([a-z_]+)", K_', src, re.M)
names += [n for n, k in re.findall(r'FUSE_OPT_KEY\("([a-z_]+)", (K_\w+)\)', src) if k != "K_IGNORE"]
missing = []
for n in names:
    hits = [i for i, l in enumerate(text) if re.search(r"(^|[\s,|])%s(=|\s|,|$)" % re.escape(n), l)]
    def entry(i):  # the option's line and its continuation lines (indented further)
        j = i + 1
        while j < len(text) and text[j].startswith(" " * 20):
            j += 1
        return " ".join(text[i:j])
    if not any("default" in entry(i) for i in hits):
        missing.append(n)
print(" ".join(missing) if names else "no options found in the source")
EOF
)
check_eq "--help lists every option of the parser with its default" "" "$undocumented"
ver=$("$AZBLOBFS" --version 2>&1)
for lib in azblobfs libfuse libcurl OpenSSL libxml2; do
	check "--version names $lib" grep -q "^$lib" <<<"$ver"
done

done_testing
