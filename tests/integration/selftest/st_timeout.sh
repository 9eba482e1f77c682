#!/bin/bash
# timeout: 4
# Harness fixture: hangs past its timeout (expected: 1 passed, 1 failed).
. "$(dirname "$0")/../lib.sh"
check "true passes" true
wait_until 60 false
done_testing
