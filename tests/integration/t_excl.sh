#!/bin/bash
# t_excl.sh - O_CREAT|O_EXCL from two mounts of one container: exactly one
# close returns 0 and the service holds that writer's bytes (through the
# SDK); the other close gives EEXIST and its bytes are kept in its
# cache_dir. Sequential: mount B's negative cache still says "absent" (it
# looked before A created the name), so the kernel lets B create it too.
# Concurrent: both create before either closes. O_CREAT|O_TRUNC from two
# mounts stays last-writer-wins.
. "$(dirname "$0")/lib.sh"

MNT_A=$TEST_DIR/a
MNT_B=$TEST_DIR/b
# negative_timeout: B keeps believing the name absent for the test's length.
OPTS="negative_timeout=300,metadata_ttl=300"
MNT=$MNT_A mount_fs "$OPTS,cache_dir=$TEST_DIR/stage-a" "$CONTAINER" || bail "mount A"
MNT=$MNT_B mount_fs "$OPTS,cache_dir=$TEST_DIR/stage-b" "$CONTAINER" || bail "mount B"

# excl FILE TEXT [HOLD]: O_CREAT|O_EXCL, write TEXT, close; prints "OK" or the
# errno's name for the open, then for the close ("OK OK", "OK EEXIST", ...).
# With HOLD, waits for the file HOLD to exist before closing.
excl() {
	python3 - "$@" <<'PY'
import errno, os, sys, time
path, text = sys.argv[1:3]
hold = sys.argv[3] if len(sys.argv) > 3 else None
name = lambda e: errno.errorcode.get(e.errno, str(e.errno))
try:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
except OSError as e:
    print(name(e), "-"); sys.exit()
os.write(fd, text.encode())
if hold:
    open(hold + ".ready", "w").close()
    while not os.path.exists(hold):
        time.sleep(0.02)
try:
    os.close(fd); print("OK OK")
except OSError as e:
    print("OK", name(e))
PY
}

# ---- sequential, within B's negative TTL
check_fail_errno "B sees no 'seq' yet (and caches that)" ENOENT stat -- "$MNT_B/seq"
check_eq "A creates 'seq' exclusively" "OK OK" "$(excl "$MNT_A/seq" from-A)"
check_eq "B's exclusive create of 'seq' opens (it believes the name absent) but its close gives EEXIST" \
	"OK EEXIST" "$(excl "$MNT_B/seq" from-B)"
check_eq "the service holds A's bytes" from-A "$(blobtool get "$CONTAINER" seq)"
check "B logged that it did not overwrite 'seq'" grep -q "another client created this name" "$DAEMON_LOG"
check "B kept its bytes in its cache_dir" grep -rqx from-B "$TEST_DIR/stage-b" --include='*.stage'
check_eq "B now shows A's file" from-A "$(cat "$MNT_B/seq" 2>&1)"

# ---- concurrent: both open before either closes
check_fail_errno "A sees no 'con' yet" ENOENT stat -- "$MNT_A/con"
check_fail_errno "B sees no 'con' yet" ENOENT stat -- "$MNT_B/con"
excl "$MNT_A/con" from-A "$TMPD/go-a" >"$TMPD/a.out" &
pa=$!
excl "$MNT_B/con" from-B "$TMPD/go-b" >"$TMPD/b.out" &
pb=$!
wait_until 30 test -e "$TMPD/go-a.ready" -a -e "$TMPD/go-b.ready" || diag "the writers did not get ready"
: >"$TMPD/go-a"
wait "$pa"
: >"$TMPD/go-b"
wait "$pb"
a=$(cat "$TMPD/a.out") b=$(cat "$TMPD/b.out")
diag "A: $a, B: $b"
ok=0
[[ $a == "OK OK" ]] && ok=$((ok + 1))
[[ $b == "OK OK" ]] && ok=$((ok + 1))
check_eq "exactly one of the two concurrent exclusive creates closes with 0" 1 "$ok"
want=from-A
[[ $b == "OK OK" ]] && want=from-B
check_eq "the service holds the bytes of the writer whose close returned 0" "$want" "$(blobtool get "$CONTAINER" con)"

# ---- O_TRUNC stays last-writer-wins
printf 'one' >"$MNT_A/trunc" || diag "A cannot write 'trunc'"
printf 'two' >"$MNT_B/trunc"
check_eq "O_CREAT|O_TRUNC from the other mount replaces the file (last writer wins)" two \
	"$(blobtool get "$CONTAINER" trunc)"
MNT=$MNT_A unmount_fs "$MNT_A"
MNT=$MNT_B unmount_fs "$MNT_B"
done_testing
