#!/bin/bash
# tests/integration/run.sh - run the integration tests against a real mount.
#
#   tests/integration/run.sh [TEST...]
#
# TEST is a name (t_big), a file name (t_big.sh) or a path; default: every
# tests/integration/t_*.sh. Each test runs in its own bash process under a
# timeout (INTEG_TIMEOUT seconds, default 300; a script may raise its own with
# a line "# timeout: N" near its top). One Azurite (in memory, random free
# loopback port) serves the whole run; AZURITE_PORT and
# AZURE_STORAGE_CONNECTION_STRING are exported to the tests (see lib.sh).
#
# Counting: "ok" lines pass, "ok ... # SKIP" lines and a "1..0 # SKIP" plan
# are skipped, "not ok" lines fail. A script also adds one failure when it
# times out, exits with a status other than 0/1, exits 1 without a failing
# check, ends without its plan (done_testing) or with a plan that does not
# match its checks, or leaves a mount or an azblobfs process behind.
#
# Work directory: INTEG_WORK if given (its logs/ is cleared first), else a
# new one per run (mktemp -d /tmp/azblobfs-it.XXXXXX), so that two runs at
# once share neither logs nor mountpoints. It is exported to the tests and
# kept afterwards: per-test work dirs (daemon logs) and logs/NAME.tap/.stderr.
#
# Output: one line per test with its time, the TAP output of failing tests
# (all of it with INTEG_VERBOSE=1), where the logs are, and last
# "integration: passed=N failed=M skipped=K". Exit 1 on any failure.
set -uo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IT_DIR=$REPO_ROOT/tests/integration
INTEG_TIMEOUT=${INTEG_TIMEOUT:-300}
INTEG_VERBOSE=${INTEG_VERBOSE:-0}
AZBLOBFS=${AZBLOBFS:-$REPO_ROOT/build/azblobfs}
[[ $AZBLOBFS == /* ]] || AZBLOBFS=$PWD/$AZBLOBFS
export AZBLOBFS

die() { echo "run.sh: $*" >&2; exit 2; }

if [[ -n ${INTEG_WORK:-} ]]; then
	mkdir -p -- "$INTEG_WORK" || die "cannot create $INTEG_WORK"
else
	INTEG_WORK=$(mktemp -d /tmp/azblobfs-it.XXXXXX) || die "cannot create a work directory in /tmp"
	# mktemp makes it 0700; tests read mounts below it as another user.
	chmod 755 -- "$INTEG_WORK"
fi
# Physical path: /proc/self/mountinfo shows mountpoints without symlinks.
INTEG_WORK=$(cd -- "$INTEG_WORK" && pwd -P) || die "cannot enter $INTEG_WORK"
export INTEG_WORK
LOG_DIR=$INTEG_WORK/logs
rm -rf --one-file-system -- "$LOG_DIR"
mkdir -p -- "$LOG_DIR"

# ---------------------------------------------------------------- tests to run
tests=()
if [[ $# -eq 0 ]]; then
	for t in "$IT_DIR"/t_*.sh; do
		[[ -e $t ]] && tests+=("$t")
	done
else
	for a in "$@"; do
		if [[ -f $a ]]; then
			tests+=("$(cd "$(dirname "$a")" && pwd)/$(basename "$a")")
		elif [[ -f $IT_DIR/$a ]]; then
			tests+=("$IT_DIR/$a")
		elif [[ -f $IT_DIR/$a.sh ]]; then
			tests+=("$IT_DIR/$a.sh")
		else
			die "no test '$a' (looked for $a, $IT_DIR/$a, $IT_DIR/$a.sh)"
		fi
	done
fi
((${#tests[@]} > 0)) || die "no tests found in $IT_DIR"

[[ -x $AZBLOBFS ]] || echo "run.sh: warning: $AZBLOBFS is not an executable; mounts will fail" >&2

# ---------------------------------------------------------------- Azurite
OWN_AZURITE=""
AZ_STATE=$INTEG_WORK/azurite
stop_azurite() {
	if [[ -n $OWN_AZURITE ]]; then
		AZURITE_STATE_DIR=$AZ_STATE "$REPO_ROOT/scripts/azurite.sh" stop "$OWN_AZURITE" || true
		OWN_AZURITE=""
	fi
}
trap stop_azurite EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z ${AZURITE_PORT:-} ]]; then
	for ((i = 0; i < 5; i++)); do
		port=$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });') ||
			die "node cannot pick a free port"
		if AZURITE_STATE_DIR=$AZ_STATE "$REPO_ROOT/scripts/azurite.sh" start "$port"; then
			OWN_AZURITE=$port
			break
		fi
	done
	[[ -n $OWN_AZURITE ]] || die "could not start Azurite"
	AZURITE_PORT=$OWN_AZURITE
	AZURITE_LOG=$AZ_STATE/azurite-$AZURITE_PORT.log
fi
AZURITE_LOG=${AZURITE_LOG:-}
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZ_KEY;BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/devstoreaccount1;"
export AZURITE_PORT AZURITE_LOG AZURE_STORAGE_CONNECTION_STRING
echo "integration: azurite on 127.0.0.1:$AZURITE_PORT, daemon $AZBLOBFS, logs in $LOG_DIR"

# ---------------------------------------------------------------- helpers

# Mounts below DIR (from the mount table; never touches the mounts).
mounts_under() {
	awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo
}

# azblobfs processes whose arguments mention DIR.
procs_under() {
	local dir=$1 d pid exe
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		exe=$(readlink -- "$d/exe" 2>/dev/null) || continue
		[[ $(basename -- "${exe% (deleted)}") == azblobfs ]] || continue
		tr '\0' '\n' <"$d/cmdline" 2>/dev/null | grep -qF -- "$dir/" && echo "$pid"
	done
	return 0
}

# Cleans up what a test left behind; prints one reason per leftover.
reap_leftovers() {
	local dir=$1 m p
	for m in $(mounts_under "$dir"); do
		echo "left $m mounted"
		fusermount3 -u -- "$m" 2>/dev/null || fusermount3 -u -z -- "$m" 2>/dev/null || true
	done
	for p in $(procs_under "$dir"); do
		echo "left azblobfs pid $p running"
		kill -TERM "$p" 2>/dev/null
		for ((i = 0; i < 50; i++)); do [[ -d /proc/$p ]] || break; sleep 0.1; done
		[[ -d /proc/$p ]] && kill -KILL "$p" 2>/dev/null
	done
	return 0
}

# ---------------------------------------------------------------- run
total_pass=0
total_fail=0
total_skip=0
failed_tests=()

for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	tap=$LOG_DIR/$name.tap
	err=$LOG_DIR/$name.stderr
	to=$(sed -n '1,20s/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$t" | head -n 1)
	to=${to:-$INTEG_TIMEOUT}
	start=$SECONDS
	timeout -k 30 "$to" bash "$t" >"$tap" 2>"$err" </dev/null
	rc=$?
	dur=$((SECONDS - start))

	n_ok=$(grep -cE '^ok\b' "$tap")
	n_skip=$(grep -ciE '^ok\b.*#[[:space:]]*skip' "$tap")
	n_pass=$((n_ok - n_skip))
	n_fail=$(grep -cE '^not ok\b' "$tap")
	n_results=$((n_ok + n_fail))
	plan=$(grep -E '^1\.\.[0-9]+' "$tap" | tail -n 1)
	problems=()
	skipped_all=0
	if [[ $plan =~ ^1\.\.0([^0-9]|$) ]] && grep -qiE '^1\.\.0[[:space:]]*#[[:space:]]*skip' <<<"$plan"; then
		skipped_all=1
	fi

	if ((rc == 124 || rc == 137)); then
		problems+=("timed out after ${to}s")
	elif ((rc != 0 && rc != 1)); then
		problems+=("exited with status $rc")
	elif ((skipped_all)); then
		((n_results == 0 && rc == 0)) || problems+=("skipped all but reported $n_results checks, status $rc")
	elif [[ -z $plan ]]; then
		((n_fail > 0)) || problems+=("ended without a plan (done_testing not reached), status $rc")
	elif [[ ${plan%%[^0-9.]*} != "1..$n_results" ]]; then
		problems+=("plan '$plan' but $n_results checks reported")
	elif ((rc == 1 && n_fail == 0)); then
		problems+=("exited with status 1 without a failing check")
	elif ((rc == 0 && n_fail > 0)); then
		problems+=("exited with status 0 despite failing checks")
	fi
	while IFS= read -r line; do
		[[ -n $line ]] && problems+=("$line")
	done < <(reap_leftovers "$INTEG_WORK/$name")

	t_fail=$((n_fail + ${#problems[@]}))
	total_pass=$((total_pass + n_pass))
	total_fail=$((total_fail + t_fail))
	total_skip=$((total_skip + n_skip + skipped_all))

	if ((t_fail > 0)); then
		failed_tests+=("$name")
		printf 'FAIL %-20s %3d passed, %d failed, %d skipped (%ds)\n' "$name" "$n_pass" "$t_fail" "$((n_skip + skipped_all))" "$dur"
		for p in "${problems[@]}"; do printf '  not ok - %s: %s\n' "$name" "$p"; done
		head -n 300 "$tap" | sed 's/^/  | /'
		if [[ -s $err ]]; then
			echo "  stderr (last 20 lines, $err):"
			tail -n 20 "$err" | cut -c1-300 | sed 's/^/  ! /'
		fi
	else
		if ((skipped_all)); then
			reason=${plan#*#}
			reason=${reason#"${reason%%[! ]*}"}
			printf 'SKIP %-20s %s\n' "$name" "${reason#[Ss][Kk][Ii][Pp] }"
		else
			printf 'PASS %-20s %3d passed, %d skipped (%ds)\n' "$name" "$n_pass" "$n_skip" "$dur"
		fi
		((INTEG_VERBOSE)) && sed 's/^/  | /' "$tap"
	fi
done

stop_azurite
((${#failed_tests[@]} > 0)) && echo "integration: failing tests: ${failed_tests[*]}"
echo "integration: logs in $LOG_DIR, work dirs in $INTEG_WORK"
echo "integration: passed=$total_pass failed=$total_fail skipped=$total_skip"
((total_fail == 0))
