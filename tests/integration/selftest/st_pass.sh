#!/bin/bash
# Harness fixture: every check passes (expected: 5 passed).
. "$(dirname "$0")/../lib.sh"
check "true passes" true
check_eq "equal strings" "a b" "a b"
check_fail "false fails" false
check_fail_errno "missing file gives ENOENT" ENOENT cat "$TMPD/nonexistent"
check_int "integer comparison" 3 -lt 4
done_testing
