#!/bin/bash
# Harness fixture: one check passes, three fail (expected: 1 passed, 3 failed).
. "$(dirname "$0")/../lib.sh"
check "true passes" true
check_eq "deliberately unequal" "expected" "actual"
check "false is a failure" false
check_fail_errno "wrong errno is a failure" EROFS cat "$TMPD/nonexistent"
done_testing
