#!/bin/bash
# Harness fixture: a mount that fails bails out (expected: 1 failed).
. "$(dirname "$0")/../lib.sh"
# shellcheck disable=SC2034 # read by mount_fs
AZBLOBFS=/bin/false
mount_fs "ro" "$CONTAINER" || bail "mount through a daemon that exits at once"
check "never reached" true
done_testing
