#!/bin/bash
# Harness fixture: a private Azurite can be stopped and restarted with its
# data kept (expected: 4 passed).
# shellcheck disable=SC2034 # read by lib.sh
PRIVATE_AZURITE=1
. "$(dirname "$0")/../lib.sh"
printf 'kept\n' | blobtool put "$CONTAINER" k.txt -
check_eq "the private Azurite serves the blob" kept "$(blobtool get "$CONTAINER" k.txt)"
azurite_stop
check_fail "with Azurite stopped the SDK fails" blobtool get "$CONTAINER" k.txt
check "azurite_start brings it back" azurite_start
check_eq "the blob survived the restart" kept "$(blobtool get "$CONTAINER" k.txt)"
done_testing
