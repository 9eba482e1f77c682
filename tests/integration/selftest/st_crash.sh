#!/bin/bash
# Harness fixture: dies from a signal after one passing check
# (expected: 1 passed, 1 failed).
. "$(dirname "$0")/../lib.sh"
check "true passes" true
trap - EXIT
kill -SEGV $$
