#!/bin/bash
# t_mount_check.sh - the mount-time check is the first listing, not a probe.
# A container whose root holds a folder of 10,000 blobs mounts at once (the
# check used to ask for one name, which Azurite answers by walking the
# folder: 256 s, and the mount failed after 75 s), the check's page is the
# root's listing (the first ls makes no request), and a service that
# accepts the connection but never answers gets "no answer from ... within
# N s", not "cannot reach".
. "$(dirname "$0")/lib.sh"

blobtool bulk-put "$CONTAINER" big/f 10000 --size 4 >/dev/null || bail "seed 10,000 blobs under big/"
printf 'x' | blobtool put "$CONTAINER" other.txt - >/dev/null || bail "seed other.txt"
check "the container mounts (within MOUNT_TIMEOUT=${MOUNT_TIMEOUT}s)" mount_fs "$CONTAINER"
if is_mounted; then
	s=$(stats_json)
	check_eq "the mount made one List Blobs: the check" 1 "$(stats_ops "$s" ListBlobs)"
	check_eq "ls of the root shows the folder and the file" "big other.txt" "$(ls "$MNT" | xargs)"
	check_eq "and made no request: the check's page is the root's listing" 0 \
		"$(requests_during total ls -la "$MNT")"
	unmount_fs
fi

# A listener that accepts and never answers.
python3 - "$TMPD/silent.port" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
conns = []
end = time.monotonic() + 120
while time.monotonic() < end:
    s.settimeout(1)
    try:
        conns.append(s.accept()[0])
    except socket.timeout:
        pass
PY
OWN_PIDS+=($!)
wait_until 10 test -s "$TMPD/silent.port" || bail "start the silent listener"
port=$(cat "$TMPD/silent.port")
cs="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=http://127.0.0.1:$port/$AZ_ACCOUNT;"
out=$(AZURE_STORAGE_CONNECTION_STRING=$cs timeout 60 "$AZBLOBFS" -f "$CONTAINER" "$MNT" 2>&1)
rc=$?
check "a silent service: the mount fails" test "$rc" -ne 0 -a "$rc" -ne 124
check "with 'no answer from ... within N s'" grep -q "no answer from 'http://127.0.0.1:$port/$AZ_ACCOUNT' within [0-9]* s" <<<"$out"
diag "$out"
check "and nothing is mounted" not in_mountinfo "$MNT"
done_testing
