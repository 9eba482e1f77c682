#!/bin/bash
# timeout: 300
# t_outage.sh - an outage shorter than timeout= does not fail a close. With
# the default options (timeout=60, retries=5), a 12 MiB file is written,
# the service is stopped (connections refused), close is called, and the
# service comes back 20 s later: close returns 0 once it is back, and the
# service holds exactly the bytes written (checked through the SDK). Before
# uploads retried until their deadline, close gave EIO about 4 s into the
# outage, when the retry count ran out.
# shellcheck disable=SC2034 # read by lib.sh
PRIVATE_AZURITE=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/write_lib.sh"

OUTAGE=20
head -c $((12 * 1024 * 1024 + 333)) /dev/urandom >"$TMPD/data"
mount_fs "cache_dir=$TEST_DIR/stage" "$CONTAINER" || bail "mount"

# The writer: writes everything, says so, waits for "go", closes, reports.
python3 - "$MNT/outage.bin" "$TMPD/data" "$TMPD" <<'PY' &
import errno, os, sys, time
path, data, tmp = sys.argv[1:4]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
with open(data, "rb") as f:
    while chunk := f.read(1 << 20):
        os.write(fd, chunk)
open(tmp + "/written", "w").close()
while not os.path.exists(tmp + "/go"):
    time.sleep(0.05)
try:
    os.close(fd)
    r = "OK"
except OSError as e:
    r = errno.errorcode.get(e.errno, str(e.errno))
with open(tmp + "/result.tmp", "w") as f:
    f.write(r + "\n")
os.rename(tmp + "/result.tmp", tmp + "/result")
PY
WPID=$!
OWN_PIDS+=("$WPID")
wait_until 60 test -e "$TMPD/written" || bail "the writer did not write its data"
retries0=$(json_get retries "$(stats_json)")
azurite_stop || bail "stop Azurite"
t0=$SECONDS
: >"$TMPD/go"
# close is under way and retrying, past what retries=5 alone allows.
more_retries() { (($(json_get retries "$(stats_json)") >= retries0 + 6)); }
check "close keeps retrying while the service is away" wait_until 60 more_retries
check "close has not returned yet" not test -e "$TMPD/result"
# The outage lasts OUTAGE seconds from the stop (its length, not a wait for anything).
left=$((OUTAGE - (SECONDS - t0)))
((left > 0)) && sleep "$left"
check "close has still not returned after a ${OUTAGE} s outage" not test -e "$TMPD/result"
azurite_start || bail "start Azurite again"
check "close returns once the service is back" wait_until 120 test -e "$TMPD/result"
check_eq "close returned 0" OK "$(cat "$TMPD/result" 2>/dev/null)"
wait "$WPID" 2>/dev/null
check_blob_file "the service holds the bytes written before the outage" outage.bin "$TMPD/data"
unmount_fs
done_testing
