#!/bin/bash
# Harness fixture: lib.sh's container and blobtool work against Azurite
# (expected: 6 passed).
. "$(dirname "$0")/../lib.sh"
printf 'hello\n' | blobtool put "$CONTAINER" "d/a b.txt" - --meta k=v
check_eq "blobtool get returns the bytes put" "hello" "$(blobtool get "$CONTAINER" "d/a b.txt")"
props=$(blobtool props "$CONTAINER" "d/a b.txt")
check_eq "props size" 6 "$(json_get size "$props")"
check_eq "props metadata" v "$(json_get metadata.k "$props")"
check_eq "list with delimiter" 'd/' "$(blobtool list "$CONTAINER" --delimiter / --lines)"
check_fail "exists of a missing blob fails" blobtool exists "$CONTAINER" nope
c2=$(new_container extra)
check_eq "a second container is listed once" 1 "$(blobtool containers | json_lines | grep -cxF "$c2")"
done_testing
