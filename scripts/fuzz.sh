#!/bin/bash
# scripts/fuzz.sh - build the libFuzzer targets (tests/fuzz) with clang and
# run each against its seed corpus for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]     default FUZZ_SECONDS or 60 per target
#
# Targets run two at a time (the CI machine has 2 CPUs). New inputs go to a
# scratch corpus (the checked-in seeds stay as they are); a crash leaves its
# input in build-fuzz/artifacts/ and the target's log is shown. Turn every
# crash into a unit test under tests/<module>/.
# Last line: "fuzz: passed=N failed=M" (one check per target, and one
# failure if the build fails). Exit status 1 on any failure.
set -uo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT" || exit 1
SECS=${1:-${FUZZ_SECONDS:-60}}
B=build-fuzz
TARGETS=(xml headers connstr options)
pass=0
fail=0

finish() {
	echo "fuzz: passed=$pass failed=$fail"
	((fail == 0))
	exit $?
}

if ! command -v clang >/dev/null; then
	echo "fuzz: clang is not installed (scripts/deps.sh installs it)"
	fail=1
	finish
fi
log=$(mktemp)
if [[ -f $B/meson-private/coredata.dat ]]; then
	meson configure "$B" -Dfuzz=true >"$log" 2>&1
else
	CC=clang meson setup "$B" -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debugoptimized -Dwerror=true >"$log" 2>&1
fi
if ! ninja -C "$B" >>"$log" 2>&1; then
	grep -E 'error|FAILED' "$log" | head -n 30
	rm -f "$log"
	echo "fuzz: the targets do not build"
	fail=1
	finish
fi
rm -f "$log"
mkdir -p "$B/artifacts"
work=$(mktemp -d /tmp/azblobfs-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

run_one() {
	local t=$1
	mkdir -p "$work/$t"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$B/tests/fuzz/fuzz_$t" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$REPO_ROOT/$B/artifacts/$t-" \
		"$work/$t" "tests/fuzz/corpus/$t" >"$work/$t.log" 2>&1
}

declare -A pid
for t in "${TARGETS[@]}"; do
	# Two at a time.
	while (($(jobs -rp | wc -l) >= 2)); do wait -n; done
	run_one "$t" &
	pid[$t]=$!
done
for t in "${TARGETS[@]}"; do
	if wait "${pid[$t]}"; then
		pass=$((pass + 1))
		runs=$(grep -m1 -oE 'stat::number_of_executed_units: *[0-9]+' "$work/$t.log" | grep -oE '[0-9]+$')
		echo "fuzz: ok - fuzz_$t: ${runs:-?} inputs in ${SECS}s, no crash"
	else
		fail=$((fail + 1))
		echo "fuzz: not ok - fuzz_$t crashed; input in $B/artifacts/, last lines of its log:"
		grep -vE '^#[0-9]+' "$work/$t.log" | tail -n 40 | sed 's/^/fuzz:   /'
	fi
done
finish
