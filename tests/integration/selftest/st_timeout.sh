#!/bin/bash
# timeout: 4
# Harness fixture: hangs past its timeout (expected: 1 passed, 1 failed,
# reported as timed out). The passing check is printed before lib.sh's
# set-up (a node process creating a container), which on a busy machine
# may itself take longer than the timeout: the count must not depend on
# how fast the machine is. Were the timeout not enforced, the script would
# end after 60 s with 2 passed and no failure.
printf 'ok - true passes\n'
. "$(dirname "$0")/../lib.sh"
# shellcheck disable=SC2034 # counted by done_testing: the check printed above
TESTS_RUN=1
wait_until 60 false
pass "never reached: the timeout ends the script first"
done_testing
