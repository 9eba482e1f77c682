#!/bin/bash
# Harness fixture: skips one check, passes one, then a skipped script
# part (expected: 1 passed, 1 skipped).
. "$(dirname "$0")/../lib.sh"
skip "needs something absent" "not available here"
check "true passes" true
done_testing
