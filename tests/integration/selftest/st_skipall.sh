#!/bin/bash
# Harness fixture: the whole script is skipped (expected: 1 skipped).
. "$(dirname "$0")/../lib.sh"
skip_all "does not apply here"
