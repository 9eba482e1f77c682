#!/bin/bash
# Harness fixture: exits 0 without done_testing (expected: 1 passed, 1 failed).
. "$(dirname "$0")/../lib.sh"
check "true passes" true
exit 0
