#!/bin/bash
# scripts/demo.sh - see azblobfs work (README command 1).
#
#   scripts/demo.sh        install deps, build, start Azurite on 127.0.0.1:10000
#                          (data in .demo/azurite), seed the container "demo",
#                          mount it at ./mnt and list it
#   scripts/demo.sh stop   unmount ./mnt (fusermount3 -u) and stop Azurite
#
# Running it again reuses what is already running. Credentials:
# AZURE_STORAGE_CONNECTION_STRING='UseDevelopmentStorage=true' (Azurite's
# public development account on 127.0.0.1:10000).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
DEMO_DIR=$REPO_ROOT/.demo
MNT=$REPO_ROOT/mnt
PORT=10000
CONTAINER=demo
BIN=$REPO_ROOT/build/azblobfs
DAEMON_PIDFILE=$DEMO_DIR/azblobfs.pid
export AZURITE_STATE_DIR=$DEMO_DIR
export AZURE_STORAGE_CONNECTION_STRING='UseDevelopmentStorage=true'

say() { echo "demo: $*"; }
die() { echo "demo: error: $*" >&2; exit 1; }
blobtool() { node "$REPO_ROOT/tests/integration/blobtool.js" "$@"; }
in_mountinfo() { awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; }

# PIDs of azblobfs processes serving $MNT (argv holds the absolute path).
daemon_pids() {
	local d pid exe bin
	bin=$(readlink -f "$BIN")
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		exe=$(readlink "$d/exe" 2>/dev/null) || continue
		[[ ${exe% (deleted)} == "$bin" ]] || continue
		tr '\0' '\n' <"$d/cmdline" 2>/dev/null | grep -qxF "$MNT" && echo "$pid"
	done
	return 0
}

stop() {
	local pid="" i
	[[ -s $DAEMON_PIDFILE ]] && pid=$(<"$DAEMON_PIDFILE")
	if in_mountinfo "$MNT"; then
		fusermount3 -u "$MNT" || die "fusermount3 -u $MNT failed (is a shell or a program still using it?)"
		say "unmounted $MNT"
	fi
	if [[ $pid =~ ^[0-9]+$ ]] && daemon_pids | grep -qx "$pid"; then
		for ((i = 0; i < 200; i++)); do
			daemon_pids | grep -qx "$pid" || break
			sleep 0.1
		done
		if daemon_pids | grep -qx "$pid"; then
			say "azblobfs (pid $pid) still runs 20 s after the unmount; sending SIGTERM"
			kill "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$DAEMON_PIDFILE"
	"$REPO_ROOT/scripts/azurite.sh" stop "$PORT"
	say "stopped Azurite on 127.0.0.1:$PORT (its data stays in .demo/azurite)"
}

start() {
	"$REPO_ROOT/scripts/deps.sh"

	say "building (build/)"
	if [[ ! -f build/build.ninja ]]; then
		meson setup build --buildtype=debugoptimized >"$DEMO_DIR.meson.log" 2>&1 ||
			{ tail -n 30 "$DEMO_DIR.meson.log"; die "meson setup build failed"; }
		rm -f "$DEMO_DIR.meson.log"
	fi
	ninja -C build >/dev/null || die "the build failed: run 'ninja -C build' to see why"
	[[ -x $BIN ]] || die "$BIN was not built"

	mkdir -p "$DEMO_DIR/azurite"
	say "starting Azurite on 127.0.0.1:$PORT (data in .demo/azurite)"
	"$REPO_ROOT/scripts/azurite.sh" start "$PORT" "$DEMO_DIR/azurite"

	say "seeding container '$CONTAINER'"
	local seed=$DEMO_DIR/seed
	mkdir -p "$seed"
	blobtool mkcontainer "$CONTAINER"
	printf 'Welcome to azblobfs: this is a blob in the container "%s",\nread through a FUSE mount.\n' "$CONTAINER" >"$seed/README.txt"
	printf 'hello, world\n' >"$seed/hello.txt"
	printf '# Documentation\n\nSee guides/.\n' >"$seed/index.md"
	printf '# Getting started\n\n1. Run scripts/demo.sh\n2. ls mnt\n' >"$seed/getting-started.md"
	printf '# Tuning\n\nRead-ahead, block size and caches are options.\n' >"$seed/tuning.md"
	printf 'Notes with spaces and unicode in the name.\n' >"$seed/notes.txt"
	seq 1 1000 >"$seed/numbers.txt"
	blobtool put "$CONTAINER" README.txt "$seed/README.txt" --content-type text/plain
	blobtool put "$CONTAINER" hello.txt "$seed/hello.txt" --content-type text/plain
	blobtool put "$CONTAINER" docs/index.md "$seed/index.md" --content-type text/markdown
	blobtool put "$CONTAINER" docs/guides/getting-started.md "$seed/getting-started.md" --content-type text/markdown
	blobtool put "$CONTAINER" docs/guides/advanced/tuning.md "$seed/tuning.md" --content-type text/markdown
	blobtool put "$CONTAINER" "notes/meeting notes – café ☕.txt" "$seed/notes.txt" --content-type text/plain
	blobtool put "$CONTAINER" data/numbers.txt "$seed/numbers.txt" --content-type text/plain
	# A blobfuse2-style empty folder: a 0-byte marker blob.
	blobtool put "$CONTAINER" photos --meta hdi_isfolder=true
	local size=0
	if blobtool exists "$CONTAINER" big/random.bin >/dev/null; then
		size=$(blobtool props "$CONTAINER" big/random.bin | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).size))')
	fi
	if [[ $size != 104857600 ]]; then
		say "uploading big/random.bin (100 MiB)"
		blobtool put-random "$CONTAINER" big/random.bin 104857600 --seed demo >"$DEMO_DIR/random.sha256"
	fi

	if in_mountinfo "$MNT" && ! timeout 10 stat "$MNT" >/dev/null 2>&1; then
		say "$MNT is a stale mount; unmounting it"
		fusermount3 -u -z "$MNT" || true
	fi
	if in_mountinfo "$MNT"; then
		say "$MNT is already mounted"
	else
		mkdir -p "$MNT"
		say "mounting '$CONTAINER' at ./mnt"
		timeout 60 "$BIN" "$CONTAINER" "$MNT" ||
			die "azblobfs could not mount '$CONTAINER' at $MNT (exit status $?)"
		in_mountinfo "$MNT" || die "azblobfs exited 0 but $MNT is not mounted"
		daemon_pids | head -n 1 >"$DAEMON_PIDFILE"
	fi

	echo
	echo "\$ ls -l mnt"
	ls -l mnt
	echo
	echo "\$ ls -lR mnt | head -n 40"
	# shellcheck disable=SC2012 # showing ls is the point
	ls -lR mnt 2>&1 | head -n 40 || true
	echo
	if [[ -s $DEMO_DIR/random.sha256 ]]; then
		echo "big/random.bin's sha256 (as uploaded): $(cat "$DEMO_DIR/random.sha256")"
		echo "compare with: sha256sum mnt/big/random.bin"
	fi
	echo "Unmount and stop Azurite: scripts/demo.sh stop"
	echo "  (that runs 'fusermount3 -u mnt', then stops Azurite by the PID in .demo/azurite-$PORT.pid)"
}

case ${1:-start} in
start) start ;;
stop) stop ;;
*) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac
