# shellcheck shell=bash
# tests/integration/lib.sh - sourced by every tests/integration/t_*.sh.
#
#   . "$(dirname "$0")/lib.sh"
#   mount_fs "ro" "$CONTAINER" || bail "mount failed"
#   check_eq "size of a" "$(blobtool props "$CONTAINER" a | json_get size)" "$(stat -c %s "$MNT/a")"
#   unmount_fs
#   done_testing
#
# Output is TAP-like, one line per check: "ok - NAME", "not ok - NAME",
# "ok - NAME # SKIP reason", diagnostics as "# ..." lines, and at the end
# (done_testing) the plan "1..N". tests/integration/run.sh counts these.
#
# Environment it reads (all optional):
#   AZBLOBFS             daemon binary (default <repo>/build/azblobfs)
#   AZURITE_PORT         port of a running Azurite (run.sh exports it); when
#                        unset, lib.sh starts a private in-memory Azurite on a
#                        free loopback port and stops it at exit
#   AZURITE_LOG          Azurite's access log (one line per request), if known
#   INTEG_WORK           directory for per-test work dirs (run.sh sets it;
#                        default a new mktemp -d /tmp/azblobfs-it.XXXXXX)
#   AZBLOBFS_EXTRA_OPTS  comma-separated options appended to every mount_fs
#   MOUNT_TIMEOUT        seconds to wait for a mount to go live (default 20)
#   UNMOUNT_TIMEOUT      seconds to wait for the daemon to exit (default 20)
#   KEEP_CONTAINERS=1    do not delete the test's containers at exit
#   PRIVATE_AZURITE=1    (set before sourcing) ignore AZURITE_PORT and run a
#                        private Azurite for this test, with its data on disk
#                        so azurite_stop/azurite_start can take the service
#                        away and bring it back (failure tests)
#   PRIVATE_AZURITE=memory  a private Azurite in memory: for a test that
#                        seeds thousands of blobs, which would slow the shared
#                        one down for every later test (its in-memory store
#                        slows as it grows, and deleting such a container
#                        keeps it busy for minutes)
#
# What it sets and exports for the test:
#   REPO_ROOT IT_DIR TEST_NAME TEST_DIR (work dir, kept after the test: logs)
#   TMPD (scratch under TEST_DIR, removed at exit)
#   MNT (mountpoint, $TEST_DIR/mnt)  DAEMON_LOG ($TEST_DIR/daemon.log)
#   AZ_ACCOUNT (devstoreaccount1)  AZ_KEY (Azurite's public dev key)
#   AZURITE_PORT  AZ_ENDPOINT (http://127.0.0.1:PORT/devstoreaccount1)
#   AZURE_STORAGE_CONNECTION_STRING (account key + BlobEndpoint on AZURITE_PORT)
#   CONTAINER (a fresh, empty container made for this test)
# AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY and AZURE_STORAGE_SAS_TOKEN are
# unset so that only what a test passes reaches the daemon.

set -uo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IT_DIR=$REPO_ROOT/tests/integration
TEST_NAME=$(basename "$0" .sh)
export REPO_ROOT IT_DIR TEST_NAME

AZBLOBFS=${AZBLOBFS:-$REPO_ROOT/build/azblobfs}
[[ $AZBLOBFS == /* ]] || AZBLOBFS=$REPO_ROOT/$AZBLOBFS
export AZBLOBFS
MOUNT_TIMEOUT=${MOUNT_TIMEOUT:-20}
UNMOUNT_TIMEOUT=${UNMOUNT_TIMEOUT:-20}
AZBLOBFS_EXTRA_OPTS=${AZBLOBFS_EXTRA_OPTS:-}

# Azurite's well-known development account (public, published in its README).
AZ_ACCOUNT=devstoreaccount1
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export AZ_ACCOUNT AZ_KEY
unset AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN

# Run standalone, a test gets a work directory of its own, like a run.sh run.
if [[ -z ${INTEG_WORK:-} ]]; then
	INTEG_WORK=$(mktemp -d /tmp/azblobfs-it.XXXXXX) || { echo "Bail out! cannot create a work directory in /tmp"; exit 1; }
	# mktemp makes it 0700; tests read mounts below it as another user.
	chmod 755 -- "$INTEG_WORK"
fi
# Physical path: /proc/self/mountinfo shows mountpoints without symlinks.
if ! mkdir -p -- "$INTEG_WORK" || ! INTEG_WORK=$(cd -- "$INTEG_WORK" && pwd -P); then
	echo "Bail out! cannot create $INTEG_WORK"
	exit 1
fi
export INTEG_WORK
TEST_DIR=$INTEG_WORK/$TEST_NAME
TMPD=$TEST_DIR/tmp
MNT=$TEST_DIR/mnt
DAEMON_LOG=$TEST_DIR/daemon.log
export TEST_DIR TMPD MNT DAEMON_LOG

TESTS_RUN=0
TESTS_FAILED=0
declare -A MOUNT_PID=()     # mountpoint -> PID of its foreground daemon
declare -A MOUNTS_USED=()   # every mountpoint mount_fs/mount_fs_daemon used
OWN_PIDS=()                 # every background process this test started
OWN_FILES=()                # files outside TEST_DIR this test made (removed at exit)
LIB_AZURITE_PORT=""         # set when lib.sh started its own Azurite
LAST_MOUNT_OPTS=""
LAST_MOUNT_SRC=""
_CLEANED=0

# ---------------------------------------------------------------- output

# diag MSG...: each argument (and each line in it) as a "# " line.
diag() {
	local arg line
	for arg in "$@"; do
		while IFS= read -r line; do printf '# %s\n' "$line"; done <<<"$arg"
	done
}

# diag_file FILE [LINES]: the last LINES (default 20) lines of FILE as diagnostics.
diag_file() {
	[[ -s $1 ]] || { diag "($1 is empty)"; return 0; }
	tail -n "${2:-20}" "$1" | cut -c1-400 | sed 's/^/#   /'
}

pass() {
	TESTS_RUN=$((TESTS_RUN + 1))
	printf 'ok - %s\n' "$1"
}

fail() {
	TESTS_RUN=$((TESTS_RUN + 1))
	TESTS_FAILED=$((TESTS_FAILED + 1))
	printf 'not ok - %s\n' "$1"
	shift
	[[ $# -gt 0 ]] && diag "$@"
	return 1
}

# skip NAME REASON: a check that could not run here.
skip() {
	TESTS_RUN=$((TESTS_RUN + 1))
	printf 'ok - %s # SKIP %s\n' "$1" "$2"
}

# skip_all REASON: the whole script does not apply here (counts as 1 skip).
skip_all() {
	_cleanup
	printf '1..0 # SKIP %s\n' "$1"
	exit 0
}

# bail REASON: stop the test now; the reason counts as one failed check.
bail() {
	fail "$1" "${@:2}"
	printf 'Bail out! %s\n' "$1"
	exit 1
}

# done_testing: clean up (which may add checks), print the plan, exit 0 if
# every check passed and 1 otherwise.
done_testing() {
	_cleanup
	printf '1..%d\n' "$TESTS_RUN"
	((TESTS_FAILED == 0))
	exit $?
}

# ---------------------------------------------------------------- checks

# check NAME CMD [ARGS...]: passes when CMD exits 0; otherwise shows the
# command, its status and its last output lines.
check() {
	local name=$1 rc out
	shift
	out=$(mktemp "$TEST_DIR/check.XXXXXX")
	"$@" >"$out" 2>&1
	rc=$?
	if ((rc == 0)); then
		pass "$name"
	else
		fail "$name" "command: $(_quote "$@")" "exit status: $rc"
		diag_file "$out"
	fi
	rm -f "$out"
	return "$rc"
}

# check_fail NAME CMD [ARGS...]: passes when CMD exits non-zero.
check_fail() {
	local name=$1 rc out
	shift
	out=$(mktemp "$TEST_DIR/check.XXXXXX")
	"$@" >"$out" 2>&1
	rc=$?
	rm -f "$out"
	if ((rc != 0)); then
		pass "$name"
	else
		fail "$name" "command: $(_quote "$@")" "expected failure, got exit status 0"
	fi
}

# check_fail_errno NAME ERRNO CMD [ARGS...]: passes when CMD exits non-zero
# and its output carries strerror(ERRNO) (e.g. EROFS -> "Read-only file
# system"), the way coreutils and the shell report a failed system call.
check_fail_errno() {
	local name=$1 errname=$2 rc out msg
	shift 2
	msg=$(errno_msg "$errname") || { fail "$name" "unknown errno name $errname"; return 1; }
	out=$(mktemp "$TEST_DIR/check.XXXXXX")
	"$@" >"$out" 2>&1
	rc=$?
	if ((rc != 0)) && grep -qF -- "$msg" "$out"; then
		pass "$name"
		rm -f "$out"
		return 0
	fi
	fail "$name" "command: $(_quote "$@")" "exit status: $rc; expected failure with $errname ($msg)"
	diag_file "$out"
	rm -f "$out"
	return 1
}

# check_eq NAME EXPECTED ACTUAL: string equality; multi-line values are shown
# as a unified diff.
check_eq() {
	if [[ $2 == "$3" ]]; then
		pass "$1"
		return 0
	fi
	if [[ $2 == *$'\n'* || $3 == *$'\n'* ]]; then
		fail "$1" "expected and actual differ (- expected, + actual):"
		diff -u <(printf '%s\n' "$2") <(printf '%s\n' "$3") | tail -n +3 | head -n 40 | cut -c1-300 | sed 's/^/#   /'
	else
		fail "$1" "expected: '${2:0:300}'" "actual:   '${3:0:300}'"
	fi
	return 1
}

# check_ne NAME UNEXPECTED ACTUAL
check_ne() {
	if [[ $2 != "$3" ]]; then
		pass "$1"
		return 0
	fi
	fail "$1" "value must differ from '${2:0:300}' but is equal"
}

# check_int NAME A OP B: integer comparison (OP: -eq -ne -lt -le -gt -ge).
check_int() {
	if [[ ! $2 =~ ^-?[0-9]+$ || ! $4 =~ ^-?[0-9]+$ ]]; then
		fail "$1" "not integers: '$2' $3 '$4'"
		return 1
	fi
	local ok=1
	case $3 in
	-eq) (($2 == $4)) ;;
	-ne) (($2 != $4)) ;;
	-lt) (($2 < $4)) ;;
	-le) (($2 <= $4)) ;;
	-gt) (($2 > $4)) ;;
	-ge) (($2 >= $4)) ;;
	*) fail "$1" "check_int: bad operator $3"; return 1 ;;
	esac && ok=0
	if ((ok == 0)); then
		pass "$1"
		return 0
	fi
	fail "$1" "expected $2 $3 $4"
}

# check_file_eq NAME FILE_EXPECTED FILE_ACTUAL: byte equality of two files.
check_file_eq() {
	if cmp -s -- "$2" "$3"; then
		pass "$1"
		return 0
	fi
	fail "$1" "$(cmp -- "$2" "$3" 2>&1 | head -n 1)" \
		"sizes: $(stat -c %s -- "$2" 2>&1) vs $(stat -c %s -- "$3" 2>&1)"
}

# fake_endpoint_start: start hostile_server.py, a fake blob endpoint on
# loopback (container "hostile"; see its header), and set SERVER (its
# script), SERVER_PID, HPORT, HCS (a connection string for it) and REQLOG
# (one line per request it got). Bails out if it does not start.
fake_endpoint_start() {
	SERVER=$IT_DIR/hostile_server.py
	REQLOG=$TEST_DIR/hostile-requests.log
	: >"$REQLOG"
	# It binds port 0 (no race for a free port) and writes its port down.
	python3 "$SERVER" serve "$TMPD/port" "$REQLOG" >"$TEST_DIR/hostile-server.log" 2>&1 </dev/null &
	SERVER_PID=$!
	OWN_PIDS+=("$SERVER_PID")
	wait_until 10 test -s "$TMPD/port" || bail "start the fake blob endpoint" "$(cat "$TEST_DIR/hostile-server.log")"
	HPORT=$(cat "$TMPD/port")
	# shellcheck disable=SC2034 # for the tests
	HCS="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=http://127.0.0.1:$HPORT/$AZ_ACCOUNT;"
}

# not CMD [ARGS...]: succeeds when CMD fails (for check).
not() { ! "$@"; }

# absent TEXT FILE...: no FILE contains TEXT (and every FILE is readable).
absent() {
	local text=$1
	shift
	grep -qF -- "$text" "$@"
	[[ $? == 1 ]]
}

# errno_msg NAME: strerror() text of an errno name, e.g. EROFS.
errno_msg() {
	[[ $1 =~ ^E[A-Z0-9]+$ ]] || return 1
	perl -MPOSIX -e 'my $n = eval "POSIX::$ARGV[0]()"; defined $n or exit 1; $! = $n; print "$!"' "$1"
}

_quote() {
	local s
	printf -v s '%q ' "$@"
	printf '%s' "${s% }" | cut -c1-500
}

# ---------------------------------------------------------------- helpers

# blobtool CMD ARGS...: the SDK-based second path (tests/integration/blobtool.js).
blobtool() {
	node "$IT_DIR/blobtool.js" "$@"
}

# seed SUBCOMMAND ARGS...: blobtool for setting up a test; bails on failure.
seed() {
	blobtool "$@" >/dev/null || bail "seed through the SDK: blobtool $(_quote "$@")"
}

# seed_add C NAME [FILE] [--meta k=v]... [--content-type T]: queue one
# upload (blobtool put's arguments) for seed_flush. Each node process costs
# the SDK's start-up, so a test that seeds many blobs queues them and
# uploads them all at once from one process.
seed_add() {
	printf '%s\0' "$@" '' >>"$TEST_DIR/seed.queue"
}

# seed_flush: upload everything seed_add queued (blobtool put-many, many
# requests in flight); bails on failure.
seed_flush() {
	[[ -s $TEST_DIR/seed.queue ]] || return 0
	blobtool put-many <"$TEST_DIR/seed.queue" >/dev/null ||
		bail "seed through the SDK: blobtool put-many of what seed_add queued"
	rm -f -- "$TEST_DIR/seed.queue"
}

# listing DIR: the names in DIR (one level, dot files included), one per
# line, sorted bytewise; fails if DIR cannot be read.
listing() {
	local out rc
	out=$(find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n') || rc=$?
	printf '%s\n' "$out" | LC_ALL=C sort | sed '/^$/d'
	return "${rc:-0}"
}

# json_get PATH [JSON]: a value from JSON (argument or stdin) by a dotted
# path ("size", "requests.GetBlob.ok"); objects and arrays print as JSON,
# strings raw. Fails when the path is absent or the JSON is invalid.
json_get() {
	local path=$1
	if [[ $# -ge 2 ]]; then
		printf '%s' "$2" | json_get "$path"
		return
	fi
	node -e '
let s = "";
process.stdin.on("data", (d) => (s += d)).on("end", () => {
	let v;
	try { v = JSON.parse(s); } catch (e) { console.error("json_get: invalid JSON: " + e.message); process.exit(1); }
	for (const k of process.argv[1] === "" ? [] : process.argv[1].split(".")) {
		if (v === null || typeof v !== "object" || !(k in v)) { console.error("json_get: no " + process.argv[1]); process.exit(1); }
		v = v[k];
	}
	console.log(typeof v === "string" ? v : JSON.stringify(v));
});' "$path"
}

# json_valid JSON: exit 0 if JSON parses.
json_valid() {
	node -e 'try { JSON.parse(process.argv[1]); } catch (e) { console.error(e.message); process.exit(1); }' "$1"
}

# json_lines: a JSON array of strings (stdin) as one element per line.
json_lines() {
	node -e '
let s = "";
process.stdin.on("data", (d) => (s += d)).on("end", () => {
	const a = JSON.parse(s);
	if (!Array.isArray(a)) { console.error("json_lines: not an array"); process.exit(1); }
	for (const x of a) process.stdout.write(String(x) + "\n");
});'
}

# stats_json [MNT]: the daemon's counters (the user.azblobfs.stats xattr).
stats_json() {
	getfattr -n user.azblobfs.stats --only-values -- "${1:-$MNT}"
}

# stats_ops STATS OP: requests of operation OP in a stats_json snapshot,
# summed over every outcome (ok, client_error, ...); 0 when OP is absent.
# Fails if STATS is not JSON with a "requests" object.
stats_ops() {
	node -e '
let o;
try { o = JSON.parse(process.argv[1]); } catch (e) { console.error("stats_ops: invalid JSON: " + e.message); process.exit(1); }
if (!o || typeof o.requests !== "object" || o.requests === null) { console.error("stats_ops: no requests object"); process.exit(1); }
const r = o.requests[process.argv[2]];
let n = 0;
if (r !== undefined) {
	if (typeof r !== "object" || r === null) { console.error("stats_ops: requests." + process.argv[2] + " is not an object"); process.exit(1); }
	for (const v of Object.values(r)) { if (!Number.isInteger(v)) { console.error("stats_ops: non-integer counter"); process.exit(1); } n += v; }
}
console.log(n);' "$1" "$2"
}

# stats_delta OP BEFORE AFTER: how many requests of OP (or "total" for
# total_requests) were made between two stats_json snapshots.
stats_delta() {
	local a b
	if [[ $1 == total ]]; then
		a=$(json_get total_requests "$2") && b=$(json_get total_requests "$3") || return 1
	else
		a=$(stats_ops "$2" "$1") && b=$(stats_ops "$3" "$1") || return 1
	fi
	echo $((b - a))
}

# requests_during OP CMD [ARGS...]: run CMD (output discarded) and print how
# many requests of OP ("total" for all) the mount at $MNT made meanwhile.
# Fails if CMD or reading the stats fails.
requests_during() {
	local op=$1 s1 s2
	shift
	s1=$(stats_json "$MNT") || return 1
	"$@" >/dev/null 2>&1 || return 1
	s2=$(stats_json "$MNT") || return 1
	stats_delta "$op" "$s1" "$s2"
}

# vmhwm_kib [PID]: peak resident memory (VmHWM, KiB) of PID (default the
# current foreground daemon).
vmhwm_kib() {
	awk '/^VmHWM:/ { print $2 }' "/proc/${1:-$DAEMON_PID}/status"
}

# wait_until SECONDS CMD [ARGS...]: poll CMD every 0.1 s until it succeeds;
# fails after SECONDS.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		((SECONDS >= deadline)) && return 1
		sleep 0.1
	done
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
	node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# pid_alive PID: running and not a zombie.
pid_alive() {
	local st
	[[ -r /proc/$1/stat ]] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[[ -n $st && $st != Z ]]
}

# daemon_pids [MNT]: PIDs of azblobfs processes serving MNT (their argv holds
# MNT and their executable is $AZBLOBFS). Finds daemonised instances, which
# are not our children.
daemon_pids() {
	local mnt=${1:-$MNT} d pid exe bin
	bin=$(readlink -f -- "$AZBLOBFS" 2>/dev/null || echo "$AZBLOBFS")
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		exe=$(readlink -- "$d/exe" 2>/dev/null) || continue
		exe=${exe% (deleted)}
		[[ $exe == "$bin" ]] || continue
		if tr '\0' '\n' <"$d/cmdline" 2>/dev/null | grep -qxF -- "$mnt"; then
			pid_alive "$pid" && echo "$pid"
		fi
	done
	return 0
}

# is_mounted [MNT]: mountpoint(1) says MNT is a mountpoint (this stats MNT,
# so it waits for a live daemon to answer).
is_mounted() {
	mountpoint -q -- "${1:-$MNT}"
}

# in_mountinfo [MNT]: MNT is in the mount table; never touches the mount
# itself, so it cannot hang on a stuck daemon.
in_mountinfo() {
	awk -v m="${1:-$MNT}" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo
}

# mount_opts [MNT]: the per-mount options of MNT from the mount table
# (e.g. "ro,nosuid,nodev,relatime").
mount_opts() {
	awk -v m="${1:-$MNT}" '$5 == m { o = $6 } END { if (o == "") exit 1; print o }' /proc/self/mountinfo
}

# azurite_log_lines: number of lines in Azurite's access log so far.
azurite_log_lines() {
	[[ -n ${AZURITE_LOG:-} && -r $AZURITE_LOG ]] || { echo 0; return 1; }
	wc -l <"$AZURITE_LOG"
}

# azurite_log_since N: the access-log lines after the first N.
azurite_log_since() {
	[[ -n ${AZURITE_LOG:-} && -r $AZURITE_LOG ]] || return 1
	tail -n +"$(($1 + 1))" "$AZURITE_LOG"
}

# new_container [TAG]: make a fresh container (deleted at exit), print its
# name. Safe inside $(...): the list of containers to delete is a file.
new_container() {
	local tag=${1:-} name
	name=$(printf 'it-%s-%s' "$TEST_NAME" "$tag" | tr 'A-Z_' 'a-z-' | tr -c 'a-z0-9-' '-' | tr -s '-')
	name=${name:0:48}
	name=${name%-}-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
	blobtool mkcontainer "$name" >&2 || return 1
	echo "$name" >>"$TEST_DIR/containers"
	echo "$name"
}

# ---------------------------------------------------------------- mounting

# mount_fs [OPTS] [SOURCE]: run "$AZBLOBFS -f [-o OPTS] SOURCE $MNT" in the
# background (output appended to $DAEMON_LOG), then wait until $MNT is a
# mountpoint. Fails (with diagnostics) if the daemon exits first or the
# mount is not live within MOUNT_TIMEOUT. SOURCE defaults to $CONTAINER.
# Sets DAEMON_PID.
mount_fs() {
	local opts="" src=$CONTAINER pid deadline
	case $# in
	0) ;;
	1) src=$1 ;;
	2) opts=$1 src=$2 ;;
	*) diag "usage: mount_fs [OPTS] [SOURCE]"; return 2 ;;
	esac
	LAST_MOUNT_OPTS=$opts
	LAST_MOUNT_SRC=$src
	opts=$(_join_opts "$opts" "$AZBLOBFS_EXTRA_OPTS")
	mkdir -p -- "$MNT"
	if in_mountinfo "$MNT"; then
		diag "mount_fs: $MNT is already a mountpoint"
		return 1
	fi
	local args=(-f)
	[[ -n $opts ]] && args+=(-o "$opts")
	printf '=== %s mount: %s\n' "$(date +%T.%N)" "$(_quote "$AZBLOBFS" "${args[@]}" "$src" "$MNT" | _redact)" >>"$DAEMON_LOG"
	"$AZBLOBFS" "${args[@]}" "$src" "$MNT" >>"$DAEMON_LOG" 2>&1 </dev/null &
	pid=$!
	# shellcheck disable=SC2034 # for the tests
	DAEMON_PID=$pid
	OWN_PIDS+=("$pid")
	MOUNT_PID[$MNT]=$pid
	MOUNTS_USED[$MNT]=1
	deadline=$((SECONDS + MOUNT_TIMEOUT))
	while ((SECONDS < deadline)); do
		if in_mountinfo "$MNT" && timeout -k 1 5 mountpoint -q -- "$MNT"; then
			return 0
		fi
		if ! pid_alive "$pid"; then
			wait "$pid" 2>/dev/null
			diag "mount_fs: azblobfs exited with status $? before $MNT was mounted; log $DAEMON_LOG:"
			diag_file "$DAEMON_LOG" 10
			unset 'MOUNT_PID[$MNT]'
			return 1
		fi
		sleep 0.1
	done
	diag "mount_fs: $MNT not mounted after ${MOUNT_TIMEOUT}s; daemon pid $pid still runs; log $DAEMON_LOG:"
	diag_file "$DAEMON_LOG" 10
	_stop_pid "$pid"
	return 1
}

# remount_fs: unmount (one check) and mount again with the same options and
# source as the last mount_fs, e.g. to see what a fresh mount shows.
remount_fs() {
	unmount_fs
	mount_fs "$LAST_MOUNT_OPTS" "$LAST_MOUNT_SRC"
}

# mount_fs_daemon [OPTS] [SOURCE]: run "$AZBLOBFS [-o OPTS] SOURCE $MNT"
# without -f (the daemon forks itself) and wait for the command to return
# (bounded by MOUNT_TIMEOUT). Returns the command's exit status (124 on
# timeout); its stderr is in $TEST_DIR/daemon-cmd.err.
mount_fs_daemon() {
	local opts="" src=$CONTAINER rc
	case $# in
	0) ;;
	1) src=$1 ;;
	2) opts=$1 src=$2 ;;
	*) diag "usage: mount_fs_daemon [OPTS] [SOURCE]"; return 2 ;;
	esac
	opts=$(_join_opts "$opts" "$AZBLOBFS_EXTRA_OPTS")
	mkdir -p -- "$MNT"
	local args=()
	[[ -n $opts ]] && args+=(-o "$opts")
	MOUNTS_USED[$MNT]=1
	printf '=== %s mount (daemon): %s\n' "$(date +%T.%N)" "$(_quote "$AZBLOBFS" "${args[@]}" "$src" "$MNT" | _redact)" >>"$DAEMON_LOG"
	timeout -k 5 "$MOUNT_TIMEOUT" "$AZBLOBFS" "${args[@]}" "$src" "$MNT" \
		>"$TEST_DIR/daemon-cmd.out" 2>"$TEST_DIR/daemon-cmd.err" </dev/null
	rc=$?
	cat "$TEST_DIR/daemon-cmd.out" "$TEST_DIR/daemon-cmd.err" >>"$DAEMON_LOG"
	return "$rc"
}

# unmount_fs [MNT]: fusermount3 -u, then wait (bounded) for the daemon to
# exit. Reports one check: the unmount worked and the daemon exited with
# status 0 (for a daemonised mount, that no azblobfs process serves MNT).
unmount_fs() {
	local mnt=${1:-$MNT} pid="" problems=() pids rc deadline
	[[ -n ${MOUNT_PID[$mnt]:-} ]] && pid=${MOUNT_PID[$mnt]}
	if in_mountinfo "$mnt"; then
		if ! _fusermount_u "$mnt"; then
			problems+=("fusermount3 -u failed: $(cat "$TEST_DIR/fusermount.err")")
			_force_unmount "$mnt"
		fi
	else
		problems+=("$mnt was not mounted at unmount time (daemon died?)")
	fi
	deadline=$((SECONDS + UNMOUNT_TIMEOUT))
	if [[ -n $pid ]]; then
		while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
		if pid_alive "$pid"; then
			problems+=("daemon pid $pid still runs ${UNMOUNT_TIMEOUT}s after unmount")
			_stop_pid "$pid"
		else
			wait "$pid" 2>/dev/null
			rc=$?
			((rc == 0)) || problems+=("daemon exited with status $rc")
		fi
		unset 'MOUNT_PID[$mnt]'
	fi
	while [[ -n $(daemon_pids "$mnt") ]] && ((SECONDS < deadline)); do sleep 0.1; done
	pids=$(daemon_pids "$mnt")
	if [[ -n $pids ]]; then
		problems+=("azblobfs processes still serve $mnt: $(echo "$pids" | tr '\n' ' ')")
		local p
		for p in $pids; do _stop_pid "$p"; done
	fi
	if in_mountinfo "$mnt"; then
		problems+=("$mnt is still a mountpoint")
		_force_unmount "$mnt"
	fi
	# A daemon built with sanitizers reports into its log (and may still exit 0).
	if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$DAEMON_LOG" 2>/dev/null; then
		problems+=("sanitizer report in $DAEMON_LOG: $(grep -m1 -E 'SUMMARY|runtime error:' "$DAEMON_LOG")")
	fi
	if ((${#problems[@]} == 0)); then
		pass "unmount $(basename "$mnt"): fusermount3 -u works and the daemon exits cleanly"
		return 0
	fi
	fail "unmount $(basename "$mnt"): fusermount3 -u works and the daemon exits cleanly" "${problems[@]}"
	diag_file "$DAEMON_LOG" 10
	return 1
}

# Hides SAS signatures in what lib.sh itself writes to the logs, so that a
# test can check that the daemon's own output never shows one.
_redact() {
	sed -E 's/([?&]|%26|%3[Ff])sig(=|%3[Dd])[^&[:space:]]*/\1sig=REDACTED/g'
}

_join_opts() {
	local a=$1 b=$2
	if [[ -n $a && -n $b ]]; then echo "$a,$b"; else echo "$a$b"; fi
}

_fusermount_u() {
	local i
	for ((i = 0; i < 20; i++)); do
		fusermount3 -u -- "$1" 2>"$TEST_DIR/fusermount.err" && return 0
		# Busy (a process still has a file open): give it a moment, bounded.
		in_mountinfo "$1" || return 0
		sleep 0.25
	done
	return 1
}

# Last resort for a stuck mount: abort its FUSE connection (only this mount's,
# by its device number), then lazy-unmount.
_force_unmount() {
	local mnt=$1 dev minor
	dev=$(awk -v m="$mnt" '$5 == m { print $3 }' /proc/self/mountinfo | tail -n 1)
	minor=${dev#*:}
	if [[ -n $dev && -w /sys/fs/fuse/connections/$minor/abort ]]; then
		echo 1 >"/sys/fs/fuse/connections/$minor/abort" 2>/dev/null || true
	fi
	fusermount3 -u -z -- "$mnt" 2>/dev/null || umount -l -- "$mnt" 2>/dev/null || true
}

# _stop_pid PID: SIGTERM, up to 5 s, then SIGKILL; reaps it if it is our child.
_stop_pid() {
	local pid=$1 i
	pid_alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		pid_alive "$pid" || break
		sleep 0.1
	done
	pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# azurite_stop / azurite_start: take this test's private Azurite away and
# bring it back on the same port with the same data (PRIVATE_AZURITE=1 only).
azurite_stop() {
	[[ ${PRIVATE_AZURITE:-0} == 1 && -n $LIB_AZURITE_PORT ]] || { diag "azurite_stop needs PRIVATE_AZURITE=1"; return 1; }
	AZURITE_STATE_DIR=$TEST_DIR/azurite "$REPO_ROOT/scripts/azurite.sh" stop "$LIB_AZURITE_PORT" >&2
}
azurite_start() {
	[[ ${PRIVATE_AZURITE:-0} == 1 && -n $LIB_AZURITE_PORT ]] || { diag "azurite_start needs PRIVATE_AZURITE=1"; return 1; }
	AZURITE_STATE_DIR=$TEST_DIR/azurite "$REPO_ROOT/scripts/azurite.sh" start "$LIB_AZURITE_PORT" "$TEST_DIR/azurite-data" >&2
}

# ---------------------------------------------------------------- setup/cleanup

_cleanup() {
	((_CLEANED)) && return 0
	_CLEANED=1
	local m p c
	for m in "${!MOUNTS_USED[@]}"; do
		if in_mountinfo "$m"; then
			diag "cleanup: $m was left mounted"
			unmount_fs "$m"
		fi
		for p in $(daemon_pids "$m"); do _stop_pid "$p"; done
	done
	for p in "${OWN_PIDS[@]}"; do _stop_pid "$p"; done
	for p in "${OWN_FILES[@]}"; do rm -f -- "$p"; done
	# A private Azurite goes away with its containers.
	if [[ ${KEEP_CONTAINERS:-0} != 1 && -z $LIB_AZURITE_PORT ]]; then
		if [[ -r $TEST_DIR/containers ]]; then
			while IFS= read -r c; do
				blobtool rmcontainer "$c" >/dev/null 2>&1 || diag "cleanup: could not delete container $c"
			done <"$TEST_DIR/containers"
		fi
	fi
	if [[ -n $LIB_AZURITE_PORT ]]; then
		AZURITE_STATE_DIR=$TEST_DIR/azurite "$REPO_ROOT/scripts/azurite.sh" stop "$LIB_AZURITE_PORT" >&2
	fi
	rm -rf --one-file-system -- "$TMPD"
	return 0
}

_on_exit() {
	local rc=$?
	_cleanup
	exit "$rc"
}

_setup() {
	# A previous run may have left this test's mount behind.
	if in_mountinfo "$MNT"; then
		fusermount3 -u -- "$MNT" 2>/dev/null || _force_unmount "$MNT"
	fi
	in_mountinfo "$MNT" && { echo "Bail out! $MNT is still mounted from an earlier run"; exit 1; }
	rm -rf --one-file-system -- "$TEST_DIR"
	mkdir -p -- "$TEST_DIR" "$TMPD" "$MNT" || { echo "Bail out! cannot create $TEST_DIR"; exit 1; }
	: >"$DAEMON_LOG"
	trap _on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP

	if [[ ${PRIVATE_AZURITE:-0} != 0 || -z ${AZURITE_PORT:-} ]]; then
		local i data=()
		[[ ${PRIVATE_AZURITE:-0} == 1 ]] && data=("$TEST_DIR/azurite-data")
		for ((i = 0; i < 5; i++)); do
			AZURITE_PORT=$(free_port) || break
			if AZURITE_STATE_DIR=$TEST_DIR/azurite "$REPO_ROOT/scripts/azurite.sh" start "$AZURITE_PORT" "${data[@]}" >&2; then
				LIB_AZURITE_PORT=$AZURITE_PORT
				AZURITE_LOG=$TEST_DIR/azurite/azurite-$AZURITE_PORT.log
				break
			fi
		done
		[[ -n $LIB_AZURITE_PORT ]] || bail "start a private Azurite"
	fi
	AZ_ENDPOINT=http://127.0.0.1:$AZURITE_PORT/$AZ_ACCOUNT
	AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_ENDPOINT;"
	export AZURITE_PORT AZURITE_LOG AZ_ENDPOINT AZURE_STORAGE_CONNECTION_STRING

	CONTAINER=$(new_container "") || bail "create the test container through the SDK"
	export CONTAINER
	diag "$TEST_NAME: azurite 127.0.0.1:$AZURITE_PORT, container $CONTAINER, daemon $AZBLOBFS, work $TEST_DIR"
}

AZURITE_LOG=${AZURITE_LOG:-}
_setup
