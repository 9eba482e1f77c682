#!/bin/bash
# t_torture.sh - several processes doing random POSIX operations on one
# mount for a bounded time (tests/integration/torture.py), against a daemon
# built with AddressSanitizer and UBSan, with a cache_dir small enough that
# staged writes meet ENOSPC. Passes only if every operation agreed with the
# workers' models (errnos included: EFBIG, ENOSPC, ENAMETOOLONG, ENOENT,
# EEXIST, ENOTEMPTY, ENOTDIR, EISDIR), the daemon is alive afterwards and
# exits cleanly, its log has no sanitizer report, no writer is left once
# every file is closed, and the service (through the SDK) holds exactly the
# files, bytes and directories the models say exist.
#
# TORTURE_SEED (default 12; "random" for a new one, printed),
# TORTURE_SECONDS (default 40), TORTURE_PROCS (default 4). The daemon is
# $AZBLOBFS_SAN (default build-asan/azblobfs).
# timeout: 600
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AZBLOBFS=${AZBLOBFS_SAN:-$REPO_ROOT/build-asan/azblobfs}
export AZBLOBFS
. "$(dirname "$0")/lib.sh"

[[ -x $AZBLOBFS ]] || skip_all "no sanitizer build at $AZBLOBFS (meson setup build-asan -Db_sanitize=address,undefined)"
SEED=${TORTURE_SEED:-12}
[[ $SEED == random ]] && SEED=""
SECS=${TORTURE_SECONDS:-40}
PROCS=${TORTURE_PROCS:-4}
CACHE_MB=16
STAGE=$TEST_DIR/stage
# LeakSanitizer needs ptrace; it stays off (heap errors, UB are still fatal).
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=0:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

mount_fs "cache_dir=$STAGE,cache_size_mb=$CACHE_MB" "$CONTAINER" || bail "mount with the sanitizer build"
PID=$DAEMON_PID

args=("$MNT" --seconds "$SECS" --procs "$PROCS" --cache-mb "$CACHE_MB" --out "$TEST_DIR/model.json" --log "$TEST_DIR")
[[ -n $SEED ]] && args+=(--seed "$SEED")
python3 "$IT_DIR/torture.py" "${args[@]}" >"$TEST_DIR/torture.out" 2>&1
rc=$?
diag "$(cat "$TEST_DIR/torture.out")"
check_eq "every operation agreed with the workers' models" 0 "$rc"
check "the daemon is alive after the run" pid_alive "$PID"
check "the mount still answers" stat "$MNT/shared"

# Every expected failure was met at least once.
if [[ -s $TEST_DIR/model.json ]]; then
	for e in create:ENOSPC fill-cache:ENOSPC truncate-huge:EFBIG unlink-missing:ENOENT \
		create-excl:EEXIST mkdir-existing:EEXIST rmdir-nonempty:ENOTEMPTY rename-file-over-dir:EISDIR \
		rmdir-file:ENOTDIR getxattr-absent:ENODATA; do
		[[ $e == create:ENOSPC ]] && continue # only when a race fills the cache
		n=$(json_get "errnos.$e" "$(cat "$TEST_DIR/model.json")" 2>/dev/null || echo 0)
		check "the run met $e (seen ${n:-0} times)" test "${n:-0}" -gt 0
	done
	n=0
	for op in longname-create:ENAMETOOLONG longname-mkdir:ENAMETOOLONG longname-stat:ENAMETOOLONG longname-rename:ENAMETOOLONG; do
		c=$(json_get "errnos.$op" "$(cat "$TEST_DIR/model.json")" 2>/dev/null || echo 0)
		n=$((n + ${c:-0}))
	done
	check "the run met ENAMETOOLONG ($n times)" test "$n" -gt 0
fi

# Once every file is closed no node keeps a writer (the kernel sends the
# last release after close returns, so wait for it, bounded).
writers_gone() { [[ $(json_get writers "$(stats_json)") == 0 ]]; }
check "no writer is left once every file is closed" wait_until 60 writers_gone

# The service holds what the models say (through the SDK, not the mount).
blobtool dump "$CONTAINER" --sha256 >"$TEST_DIR/service.json" 2>"$TEST_DIR/dump.err" ||
	diag "blobtool dump failed: $(cat "$TEST_DIR/dump.err")"
cmp_out=$(node -e '
const fs = require("fs");
const model = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const blobs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const bad = [];
const files = new Map(), dirs = new Set();
for (const b of blobs) {
	if (b.name === "shared" || b.name.startsWith("shared/")) continue;
	const parts = b.name.split("/");
	for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
	if (b.metadata && b.metadata.hdi_isfolder === "true") dirs.add(b.name);
	else files.set(b.name, b);
}
for (const [name, m] of Object.entries(model.files)) {
	const b = files.get(name);
	if (!b) { bad.push("missing on the service: " + name); continue; }
	if (b.size !== m.size || b.sha256 !== m.sha256)
		bad.push(`${name}: service has ${b.size} bytes sha ${b.sha256.slice(0, 12)}, model ${m.size} sha ${m.sha256.slice(0, 12)}`);
	files.delete(name);
}
for (const name of files.keys()) bad.push("on the service, not in the model: " + name);
const want = new Set(model.dirs.filter((d) => d !== "shared"));
for (const d of want) if (!dirs.has(d)) bad.push("directory missing on the service: " + d);
for (const d of dirs) if (!want.has(d)) bad.push("directory on the service, not in the model: " + d);
console.log(`${Object.keys(model.files).length} files, ${want.size} directories compared`);
for (const b of bad.slice(0, 20)) console.log("MISMATCH " + b);
process.exit(bad.length ? 1 : 0);
' "$TEST_DIR/model.json" "$TEST_DIR/service.json" 2>&1)
rc=$?
diag "$cmp_out"
check_eq "the service holds exactly the files, bytes and directories of the models" 0 "$rc"

# Modes through a fresh mount (metadata, not this daemon's memory).
unmount_fs
mount_fs "cache_dir=$STAGE,cache_size_mb=$CACHE_MB" "$CONTAINER" || bail "remount"
mode_out=$(python3 - "$MNT" "$TEST_DIR/model.json" <<'PY'
import json, os, stat, sys
mnt, model = sys.argv[1], json.load(open(sys.argv[2]))
bad = 0
for name, m in sorted(model["files"].items()):
    st = os.stat(os.path.join(mnt, name))
    if stat.S_IMODE(st.st_mode) != m["mode"] or st.st_size != m["size"]:
        bad += 1
        print("%s: mode %o size %d, model %o %d" % (name, stat.S_IMODE(st.st_mode), st.st_size, m["mode"], m["size"]))
print("%d files checked, %d differ" % (len(model["files"]), bad))
PY
)
diag "$mode_out"
check "a fresh mount shows every file with the model's mode and size" grep -q ' 0 differ$' <<<"$mode_out"
unmount_fs
check "the daemon's log has no sanitizer report" not grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$DAEMON_LOG"
done_testing
