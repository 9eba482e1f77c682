#!/bin/bash
# tests/integration/selftest.sh - proves that the integration harness counts
# honestly: runs tests/integration/run.sh on the fixtures in selftest/ (which
# pass, fail, crash, time out, skip and bail on purpose) and compares what it
# reports with what each fixture must produce. Needs Azurite (scripts/deps.sh)
# but not azblobfs. Last line: "harness: passed=N failed=M".
set -uo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Its own work directory under INTEG_WORK, or a new one per run.
if [[ -n ${INTEG_WORK:-} ]]; then
	WORK=$INTEG_WORK/selftest
	mkdir -p -- "$WORK" || exit 1
else
	WORK=$(mktemp -d /tmp/azblobfs-selftest.XXXXXX) || exit 1
fi
echo "# selftest: work and logs in $WORK"
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - harness: $1"; }
nok() {
	failed=$((failed + 1))
	echo "not ok - harness: $1"
	shift
	local l
	for l in "$@"; do echo "#   $l"; done
}
expect_eq() {
	if [[ $2 == "$3" ]]; then ok "$1"; else nok "$1" "expected: $2" "actual:   $3"; fi
}

# name -> "STATUS passed failed skipped" as run.sh must report it.
declare -A want=(
	[st_pass]="PASS 5 0 0"
	[st_fail]="FAIL 1 3 0"
	[st_crash]="FAIL 1 1 0"
	[st_noplan]="FAIL 1 1 0"
	[st_timeout]="FAIL 1 1 0"
	[st_skip]="PASS 1 0 1"
	[st_skipall]="SKIP 0 0 1"
	[st_bail]="FAIL 0 1 0"
	[st_blobtool]="PASS 6 0 0"
	[st_private]="PASS 4 0 0"
)

out=$WORK/run-all.out
INTEG_WORK=$WORK INTEG_TIMEOUT=60 "$IT_DIR/run.sh" "$IT_DIR"/selftest/st_*.sh >"$out" 2>&1
rc=$?
expect_eq "run.sh exits 1 when a test fails" 1 "$rc"
expect_eq "run.sh totals" "integration: passed=20 failed=7 skipped=2" "$(tail -n 1 "$out")"
check_line() {
	if grep -qF -- "$2" "$out"; then ok "$1"; else nok "$1" "no line '$2' in $out"; fi
}
check_line "st_timeout is reported as timed out after its own 4 s" "not ok - st_timeout: timed out after 4s"
for name in $(printf '%s\n' "${!want[@]}" | sort); do
	line=$(grep -E "^(PASS|FAIL|SKIP) +$name " "$out" | head -n 1)
	got="missing"
	if [[ $line =~ ^(PASS|FAIL)\ +$name\ +([0-9]+)\ passed,\ (([0-9]+)\ failed,\ )?([0-9]+)\ skipped ]]; then
		got="${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[4]:-0} ${BASH_REMATCH[5]}"
	elif [[ $line =~ ^SKIP\ +$name\  ]]; then
		got="SKIP 0 0 1"
	fi
	expect_eq "$name counted as ${want[$name]}" "${want[$name]}" "$got"
done

out2=$WORK/run-one.out
INTEG_WORK=$WORK INTEG_TIMEOUT=60 "$IT_DIR/run.sh" st_x "$IT_DIR/selftest/st_pass.sh" >"$out2" 2>&1
expect_eq "run.sh refuses an unknown test name (status 2)" 2 "$?"
INTEG_WORK=$WORK INTEG_TIMEOUT=60 "$IT_DIR/run.sh" "$IT_DIR/selftest/st_pass.sh" >"$out2" 2>&1
rc=$?
expect_eq "run.sh exits 0 when every test passes" 0 "$rc"
expect_eq "run.sh totals for a passing run" "integration: passed=5 failed=0 skipped=0" "$(tail -n 1 "$out2")"

if ((failed > 0)); then
	echo "# run.sh output ($out):"
	sed 's/^/#   /' "$out"
fi
echo "harness: passed=$passed failed=$failed"
((failed == 0))
