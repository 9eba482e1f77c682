#!/bin/bash
# scripts/azurite.sh - start and stop Azurite's blob service on a loopback port.
#
#   scripts/azurite.sh start PORT [DIR]   start on 127.0.0.1:PORT; data in DIR
#                                         (created), or in memory without DIR
#   scripts/azurite.sh stop PORT          stop the instance started for PORT
#   scripts/azurite.sh status PORT        exit 0 if it runs and answers
#
# Shared Key checking stays on (never --loose), so a bad signature fails.
# The API version check stays on too: a client must send an x-ms-version this
# Azurite release knows (3.35.0: up to 2025-11-05).
#
# State (PID file and access log, one line per request, appended across
# restarts) lives in
# $AZURITE_STATE_DIR (default <repo>/.azurite): azurite-PORT.pid and
# azurite-PORT.log. Only the PID recorded at start is ever signalled, and only
# after checking that it still is an azurite-blob process.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=${AZURITE_STATE_DIR:-$REPO_ROOT/.azurite}
BIN=$REPO_ROOT/scripts/node/node_modules/.bin/azurite-blob
START_TIMEOUT=${AZURITE_START_TIMEOUT:-30}
STOP_TIMEOUT=${AZURITE_STOP_TIMEOUT:-15}

die() { echo "azurite.sh: $*" >&2; exit 1; }

usage() {
	echo "usage: $0 start PORT [DIR] | stop PORT | status PORT" >&2
	exit 2
}

check_port() {
	if ! [[ $1 =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > 65535)); then die "bad port '$1'"; fi
}

# Prints the PID recorded for PORT if that process is alive and is Azurite.
our_pid() {
	local pidfile=$STATE_DIR/azurite-$1.pid pid
	[[ -s $pidfile ]] || return 1
	pid=$(<"$pidfile")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -r /proc/$pid/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'azurite-blob' || return 1
	# A zombie is not running.
	[[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] || return 1
	echo "$pid"
}

# True when something answers HTTP on the port (any status, 403 included).
answers() {
	local code
	code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
		"http://127.0.0.1:$1/devstoreaccount1?comp=list" 2>/dev/null) || true
	[[ -n $code && $code != 000 ]]
}

start() {
	local port=$1 dir=${2:-} pid log pidfile i
	check_port "$port"
	[[ -x $BIN ]] || die "$BIN missing: run scripts/deps.sh first"
	mkdir -p "$STATE_DIR"
	pidfile=$STATE_DIR/azurite-$port.pid
	log=$STATE_DIR/azurite-$port.log
	if pid=$(our_pid "$port"); then
		answers "$port" && return 0
		die "azurite (pid $pid) for port $port runs but does not answer; stop it first"
	fi
	answers "$port" && die "port $port on 127.0.0.1 is already used by another program"
	local args=(--blobHost 127.0.0.1 --blobPort "$port" --disableTelemetry)
	if [[ -n $dir ]]; then
		mkdir -p "$dir"
		args+=(--location "$dir")
	else
		args+=(--inMemoryPersistence)
	fi
	# setsid: Azurite must not receive the terminal's Ctrl-C meant for a test.
	setsid "$BIN" "${args[@]}" >>"$log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$pidfile"
	for ((i = 0; i < START_TIMEOUT * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$pidfile"
			die "azurite exited during start on port $port; log $log: $(tail -n 3 "$log" | tr '\n' ' ')"
		fi
		answers "$port" && return 0
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	rm -f "$pidfile"
	die "azurite did not answer on 127.0.0.1:$port within ${START_TIMEOUT}s; log $log"
}

stop() {
	local port=$1 pid i
	check_port "$port"
	if ! pid=$(our_pid "$port"); then
		rm -f "$STATE_DIR/azurite-$port.pid"
		return 0
	fi
	kill "$pid" 2>/dev/null || true
	for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
		our_pid "$port" >/dev/null || break
		sleep 0.1
	done
	if our_pid "$port" >/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		echo "azurite.sh: azurite (pid $pid) ignored SIGTERM, killed" >&2
	fi
	rm -f "$STATE_DIR/azurite-$port.pid"
}

status() {
	local port=$1 pid
	check_port "$port"
	pid=$(our_pid "$port") || { echo "azurite on port $port: not running"; return 1; }
	answers "$port" || { echo "azurite on port $port: pid $pid, not answering"; return 1; }
	echo "azurite on port $port: pid $pid, answering"
}

[[ $# -ge 2 ]] || usage
case $1 in
start) [[ $# -le 3 ]] || usage; start "$2" "${3:-}" ;;
stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
status) [[ $# -eq 2 ]] || usage; status "$2" ;;
*) usage ;;
esac
