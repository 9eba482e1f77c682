#!/bin/bash
# scripts/test.sh - everything CI checks, in one command (README command 2):
#
#   1. scripts/deps.sh (Debian packages, Azurite and the SDK from npm)
#   2. build/       meson -Dwerror=true, debugoptimized; unit tests; the
#                   module arrows (scripts/check-layers.sh, one check); the
#                   C sources against .clang-format (one check)
#   3. build-asan/  -Db_sanitize=address,undefined; unit tests with CK_FORK=no,
#                   LeakSanitizer on (when it works here), UBSan halting
#   4. the integration harness self-test, then the integration tests
#      (tests/integration/run.sh) against build/azblobfs on Azurite
#      (t_torture runs build-asan/azblobfs itself)
#   5. the write and namespace integration tests again, against
#      build-asan/azblobfs (any sanitizer report in a daemon log fails)
#   6. scripts/fuzz.sh: the libFuzzer targets (build-fuzz/, clang), each
#      for FUZZ_SECONDS (default 60) against its seed corpus
#
# Unit test binaries end with "checks: run=N passed=P failed=F"
# (tests/check_main.h); those are summed from meson's test logs, and a
# binary that fails without that line (crash, sanitizer report, timeout)
# counts as one more failure. A build that fails counts as one failure.
# Near the end: how long each step took and the five slowest integration
# tests. The last line printed is "N passed, N failed" (", N skipped" when
# some were); the exit status is non-zero on any failure.
#
# Environment: SKIP_DEPS=1 skips step 1; SKIP_ASAN=1 skips steps 3 and 5;
# SKIP_INTEGRATION=1 skips steps 4 and 5; SKIP_FUZZ=1 skips step 6.
# INTEG_WORK=DIR puts the integration work dirs and logs under DIR
# (default: a new /tmp/azblobfs-test.XXXXXX per run, so that runs at the
# same time do not meet). Arguments are passed to run.sh (a subset of
# integration tests; steps 5 and 6 are then skipped).
set -uo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT" || exit 1
JOBS=$(nproc 2>/dev/null || echo 2)
PASS=0
FAIL=0
SKIP=0
T0=$SECONDS
STEPS=()      # "SECONDS<TAB>STEP" per step run
TEST_TIMES=() # "SECONDS<TAB>TEST (RUN)" per integration test run

say() { echo "test.sh: $*"; }
failure() {
	FAIL=$((FAIL + 1))
	say "FAILED: $*"
}
# took STEP START: record that STEP ran from SECONDS=START until now.
took() {
	STEPS+=("$((SECONDS - $2))"$'\t'"$1")
}
timings() {
	local l
	((${#STEPS[@]} > 0)) || return 0
	say "time per step (s):"
	for l in "${STEPS[@]}"; do printf 'test.sh:   %5d  %s\n' "${l%%$'\t'*}" "${l#*$'\t'}"; done
	((${#TEST_TIMES[@]} > 0)) || return 0
	say "slowest integration tests (s):"
	printf '%s\n' "${TEST_TIMES[@]}" | sort -t $'\t' -k1,1nr | head -n 5 |
		while IFS=$'\t' read -r secs name; do printf 'test.sh:   %5d  %s\n' "$secs" "$name"; done
}
finish() {
	timings
	[[ -n ${WORK_BASE:-} ]] && say "integration logs under $WORK_BASE"
	say "done in $((SECONDS - T0)) s"
	if ((SKIP > 0)); then
		echo "$PASS passed, $FAIL failed, $SKIP skipped"
	else
		echo "$PASS passed, $FAIL failed"
	fi
	((FAIL == 0))
	exit $?
}

# setup_tree DIR ARGS...: configure DIR (new, or reconfigured with ARGS).
setup_tree() {
	local dir=$1 log
	shift
	log=$(mktemp)
	if [[ -f $dir/meson-private/coredata.dat ]]; then
		meson configure "$dir" "$@" >"$log" 2>&1 ||
			meson setup --wipe "$dir" "$@" >"$log" 2>&1
	else
		meson setup "$dir" "$@" >"$log" 2>&1
	fi
	local rc=$?
	((rc == 0)) || { tail -n 40 "$log"; }
	rm -f "$log"
	return "$rc"
}

# build_tree DIR: ninja, output shown only on failure.
build_tree() {
	local log=$1/test-sh-build.log
	if ninja -C "$1" >"$log" 2>&1; then
		grep -E 'warning:' "$log" | head -n 20
		return 0
	fi
	grep -E 'error|warning|FAILED' "$log" | head -n 60
	echo "(full log: $log)"
	return 1
}

# unit_tests DIR LABEL: run meson test, then add up the checks lines.
unit_tests() {
	local dir=$1 label=$2 json=$1/meson-logs/testlog.json counts p f s name extra
	shift 2
	rm -f "$json" "$dir/test-sh-failures.txt"
	meson test -C "$dir" --print-errorlogs --num-processes "$JOBS" "$@" >"$dir/test-sh-unit.log" 2>&1
	grep -vE '^(ninja: |\[[0-9]+/[0-9]+\] )' "$dir/test-sh-unit.log" | grep -E '^ *[0-9]+/[0-9]+ |^(Ok|Fail|Skipped|Timeout|Expected|Unexpected):|ERROR|Summary|No tests' | tail -n 40
	if [[ ! -s $json ]]; then
		if grep -q 'No tests defined' "$dir/test-sh-unit.log"; then
			say "$label: no unit tests defined"
			return 0
		fi
		tail -n 30 "$dir/test-sh-unit.log"
		failure "$label: meson test produced no test log"
		return 1
	fi
	# One line per test binary: "passed failed skipped note".
	# shellcheck disable=SC2016 # JavaScript, not shell
	counts=$(node -e '
const fs = require("fs");
for (const line of fs.readFileSync(process.argv[1], "utf8").split("\n")) {
	if (!line.trim()) continue;
	const t = JSON.parse(line);
	const out = (t.stdout || "") + "\n" + (t.stderr || "");
	const m = [...out.matchAll(/^checks: run=(\d+) passed=(\d+) failed=(\d+)\s*$/gm)].pop();
	let p = 0, f = 0, s = 0, note = "";
	if (t.result === "SKIP") { s = 1; note = "skipped"; }
	else if (m) {
		p = +m[2]; f = +m[3];
		if (t.result !== "OK" && f === 0) { f = 1; note = `exited ${t.returncode} (${t.result}) after its checks passed`; }
	} else if (t.result === "OK") {
		f = 1; note = "printed no checks line";
	} else {
		f = 1; note = `${t.result}, exit ${t.returncode}, no checks line (crash?)`;
	}
	console.log([p, f, s, t.name, note].join("\t"));
	if (f > 0) {
		const tail = out.split("\n").filter((l) => l.trim()).slice(-40).map((l) => "    " + l.slice(0, 300));
		fs.appendFileSync(process.argv[2], `  ${t.name} (${t.result}, exit ${t.returncode}):\n${tail.join("\n")}\n`);
	}
}' "$json" "$dir/test-sh-failures.txt") || { failure "$label: cannot read $json"; return 1; }
	local sp=0 sf=0 ss=0
	while IFS=$'\t' read -r p f s name extra; do
		[[ -n ${name:-} ]] || continue
		sp=$((sp + p))
		sf=$((sf + f))
		ss=$((ss + s))
		[[ -n $extra ]] && say "$label: $name: $extra"
	done <<<"$counts"
	PASS=$((PASS + sp))
	FAIL=$((FAIL + sf))
	SKIP=$((SKIP + ss))
	if [[ -s $dir/test-sh-failures.txt ]]; then
		say "$label: output of the failing unit tests (last lines):"
		cat "$dir/test-sh-failures.txt"
	fi
	say "$label: checks passed=$sp failed=$sf skipped=$ss"
	return 0
}

# integration LABEL [TEST...]: tests/integration/run.sh, its summary added
# up and its tests' times ("(Ns)" on each PASS/FAIL line) kept for timings.
integration() {
	local label=$1 out line
	shift
	out=$(mktemp)
	tests/integration/run.sh "$@" | tee "$out"
	while IFS= read -r line; do
		[[ $line =~ ^(PASS|FAIL)\ +([^ ]+)\ .*\(([0-9]+)s\)$ ]] &&
			TEST_TIMES+=("${BASH_REMATCH[3]}"$'\t'"${BASH_REMATCH[2]}$label")
	done <"$out"
	line=$(tail -n 1 "$out")
	if [[ $line =~ ^integration:\ passed=([0-9]+)\ failed=([0-9]+)\ skipped=([0-9]+)$ ]]; then
		PASS=$((PASS + BASH_REMATCH[1]))
		FAIL=$((FAIL + BASH_REMATCH[2]))
		SKIP=$((SKIP + BASH_REMATCH[3]))
	else
		failure "tests/integration/run.sh$label ended without its summary"
	fi
	rm -f "$out"
}

# LeakSanitizer needs ptrace-free execution; probe it once.
lsan_works() {
	local d rc
	d=$(mktemp -d)
	printf '#include <stdlib.h>\nint main(void){ void *volatile p = malloc(33); p = 0; return 0; }\n' >"$d/l.c"
	if ! cc -fsanitize=address -g "$d/l.c" -o "$d/l" 2>/dev/null; then
		rm -rf "$d"
		return 1
	fi
	ASAN_OPTIONS=detect_leaks=1 "$d/l" >"$d/out" 2>&1
	rc=$?
	# Working LSan reports the leak; a broken one prints a fatal error.
	((rc != 0)) && grep -q 'detected memory leaks' "$d/out"
	rc=$?
	rm -rf "$d"
	return "$rc"
}

# ---------------------------------------------------------------- 1. deps
if [[ ${SKIP_DEPS:-0} != 1 ]]; then
	t=$SECONDS
	scripts/deps.sh || { failure "scripts/deps.sh"; finish; }
	took "deps" "$t"
fi

# ---------------------------------------------------------------- 2. build
build_ok=0
say "build/: meson -Dwerror=true -Dbuildtype=debugoptimized"
t=$SECONDS
if setup_tree build -Dwerror=true -Dbuildtype=debugoptimized && build_tree build; then
	build_ok=1
	took "build" "$t"
	t=$SECONDS
	unit_tests build "unit (build)"
	took "unit" "$t"
	# The module arrows, from the archives' symbols: one check.
	if scripts/check-layers.sh build; then
		PASS=$((PASS + 1))
	else
		failure "scripts/check-layers.sh: a module uses a layer it must not"
	fi
else
	took "build" "$t"
	failure "build/ does not build"
fi
# The C sources as .clang-format lays them out: one check.
if ! command -v clang-format >/dev/null; then
	failure "clang-format is not installed (scripts/deps.sh installs it)"
elif unformatted=$(git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run --Werror 2>&1 |
	grep -oE '^[^:]+\.[ch]:' | sort -u | tr -d ':' | xargs); [[ -z $unformatted ]]; then
	PASS=$((PASS + 1))
else
	failure "clang-format: these files differ from .clang-format: $unformatted (clang-format -i them)"
fi

# ---------------------------------------------------------------- 3. sanitizers
# The integration tests whose daemons step 5 runs from build-asan/.
SAN_TESTS=(t_write_namespace t_ops t_write_fail)
asan_ok=0
leaks=0
if [[ ${SKIP_ASAN:-0} != 1 ]]; then
	say "build-asan/: -Db_sanitize=address,undefined"
	# -Werror stays with build/: sanitizer instrumentation makes gcc emit
	# false maybe-uninitialized warnings.
	t=$SECONDS
	if setup_tree build-asan -Db_sanitize=address,undefined -Dbuildtype=debug -Dwerror=false &&
		build_tree build-asan; then
		asan_ok=1
		took "asan build" "$t"
		t=$SECONDS
		if lsan_works; then leaks=1; else say "LeakSanitizer does not work here; leak checks off"; fi
		CK_FORK=no \
			ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1" \
			UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
			unit_tests build-asan "unit (asan)" --timeout-multiplier 3
		took "asan unit" "$t"
	else
		took "asan build" "$t"
		failure "build-asan/ does not build"
	fi
fi

# ---------------------------------------------------------------- 4. integration
if [[ ${SKIP_INTEGRATION:-0} != 1 ]]; then
	# One private directory per run; under it one per integration run.
	if [[ -n ${INTEG_WORK:-} ]]; then
		WORK_BASE=$INTEG_WORK
		mkdir -p -- "$WORK_BASE" || { failure "cannot create $WORK_BASE"; finish; }
	else
		WORK_BASE=$(mktemp -d /tmp/azblobfs-test.XXXXXX) || { failure "cannot create a work directory in /tmp"; finish; }
		# mktemp makes it 0700; tests read mounts below it as another user.
		chmod 755 -- "$WORK_BASE"
	fi
	say "integration work dirs and logs under $WORK_BASE"
	say "integration harness self-test"
	t=$SECONDS
	out=$(mktemp)
	INTEG_WORK=$WORK_BASE tests/integration/selftest.sh >"$out" 2>&1
	grep -E '^not ok|^#' "$out" | head -n 60
	line=$(tail -n 1 "$out")
	if [[ $line =~ ^harness:\ passed=([0-9]+)\ failed=([0-9]+)$ ]]; then
		PASS=$((PASS + BASH_REMATCH[1]))
		FAIL=$((FAIL + BASH_REMATCH[2]))
		echo "$line"
	else
		tail -n 20 "$out"
		failure "tests/integration/selftest.sh ended without its summary"
	fi
	rm -f "$out"
	took "selftest" "$t"

	if ((build_ok)); then
		say "integration tests against build/azblobfs"
		t=$SECONDS
		AZBLOBFS=$REPO_ROOT/build/azblobfs INTEG_WORK=$WORK_BASE/integration integration "" "$@"
		took "integration" "$t"
	else
		say "integration tests not run: build/ failed"
	fi

	# ------------------------------------------------------------ 5. daemons under sanitizers
	if ((asan_ok)) && [[ $# -eq 0 ]]; then
		say "integration tests against build-asan/azblobfs: ${SAN_TESTS[*]}"
		t=$SECONDS
		AZBLOBFS=$REPO_ROOT/build-asan/azblobfs \
			ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=1:detect_stack_use_after_return=1" \
			UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
			INTEG_WORK=$WORK_BASE/asan \
			integration " (sanitizer daemons)" "${SAN_TESTS[@]}"
		took "sanitizer integration" "$t"
	fi
fi

# ---------------------------------------------------------------- 6. fuzz
if [[ ${SKIP_FUZZ:-0} != 1 && $# -eq 0 ]]; then
	say "fuzz targets, ${FUZZ_SECONDS:-60} s each"
	out=$(mktemp)
	scripts/fuzz.sh | tee "$out"
	line=$(tail -n 1 "$out")
	if [[ $line =~ ^fuzz:\ passed=([0-9]+)\ failed=([0-9]+)$ ]]; then
		PASS=$((PASS + BASH_REMATCH[1]))
		FAIL=$((FAIL + BASH_REMATCH[2]))
	else
		failure "scripts/fuzz.sh ended without its summary"
	fi
	rm -f "$out"
fi

finish
