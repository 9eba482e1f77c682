#!/bin/bash
# bench/run.sh - the azblobfs benchmark (issue 6, "Benchmark"): azblobfs
# against the raw backend, rclone mount and a null FUSE file system, in one
# run, on a private Azurite (in memory, loopback). See bench/README.md.
#
#   bench/run.sh [--quick] [--only W1,W2,...] [--systems S1,S2,...]
#                [--repeat N] [--no-build] [--keep] [--quiet-wait S]
#
#   --quick      smaller fixtures (256 MiB blob, 2,000-name directory,
#                500-blob tree, 200 small files) and a 5 s W7: about 3 min
#   --only       workloads to run (default all: W1..W8)
#   --systems    among null,raw,raw-sdk,raw-1,azblobfs,rclone-off,rclone-writes
#                (default all; the rclone ones are skipped when rclone is
#                not installed)
#   --repeat N   run every workload N times (rounds; even rounds take the
#                systems in reverse order) and report medians: the median
#                rate, and azblobfs / raw as the median of each round's
#                ratio (default 1)
#   --no-build   use build/azblobfs (or $AZBLOBFS) as it is, no ninja
#   --keep       keep the scratch files in /dev/shm
#   --quiet-wait S   before each workload, wait up to S seconds (default 20;
#                at most 300 s per run) for other programs to use < 20% of
#                the CPU; 0 disables. The report flags disturbed workloads.
#
# AZBLOBFS_OPTS: extra -o options for the azblobfs mounts (mem_mb=64, ...).
#
# Needs root (drop_caches, FUSE), scripts/deps.sh done (Azurite and the SDK
# in scripts/node/node_modules, fio, rclone, fuse3, libfuse3-dev, cc).
# Writes bench/results/<date>-<host>.md and .json and prints the table.
# Per-workload logs stay in bench/work/<stamp>/ (git-ignored).
# It asserts no times: the exit status is non-zero only when the benchmark
# itself could not run (no Azurite, no build), not when a workload failed or
# was slow; those show in the table.
set -uo pipefail
shopt -s nullglob

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
NODE_MODULES=$REPO_ROOT/scripts/node/node_modules
CONTAINER=bench
AZ_ACCOUNT=devstoreaccount1
# Azurite's well-known development key (public, published in its README).
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
unset AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN

QUICK=0
ONLY=W1,W2,W3,W4,W5,W6,W7,W8
SYSTEMS=null,raw,raw-sdk,raw-1,azblobfs,rclone-off,rclone-writes
BUILD=1
KEEP=0
QUIET_WAIT=20
QUIET_BUDGET=300
REPEAT=1
ROUND=1

usage() {
	sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while (($#)); do
	case $1 in
	--quick) QUICK=1 ;;
	--only) ONLY=${2:?--only needs a list}; shift ;;
	--only=*) ONLY=${1#--only=} ;;
	--systems) SYSTEMS=${2:?--systems needs a list}; shift ;;
	--systems=*) SYSTEMS=${1#--systems=} ;;
	--repeat) REPEAT=${2:?--repeat needs a count}; shift ;;
	--repeat=*) REPEAT=${1#--repeat=} ;;
	--no-build) BUILD=0 ;;
	--keep) KEEP=1 ;;
	--quiet-wait) QUIET_WAIT=${2:?--quiet-wait needs seconds}; shift ;;
	--quiet-wait=*) QUIET_WAIT=${1#--quiet-wait=} ;;
	-h | --help) usage 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage 2 ;;
	esac
	shift
done

if ((QUICK)); then
	BIG=$((256 * 1024 * 1024)) LS_N=2000 TREE=5,5,20 SMALL_N=200 MV_N=200 W7_SECS=5
else
	BIG=$((1024 * 1024 * 1024)) LS_N=10000 TREE=10,10,20 SMALL_N=1000 MV_N=1000 W7_SECS=20
fi
SMALL_SIZE=4096
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --repeat needs a positive count" >&2; exit 2; }

say() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "error: $*"; exit 1; }
tool() { node "$BENCH_DIR/tool.js" "$@"; }
jget() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v==null?v:v[k];console.log(v===undefined||v===null?"":typeof v==="object"?JSON.stringify(v):v)})' "$1"; }
in_list() { [[ ,$2, == *,$1,* ]]; }

# ------------------------------------------------------------ preconditions

[[ $(id -u) == 0 ]] || die "run as root (drop_caches, FUSE mounts)"
[[ -d $NODE_MODULES/azurite && -d $NODE_MODULES/@azure/storage-blob ]] ||
	die "Azurite/@azure/storage-blob missing in $NODE_MODULES: run scripts/deps.sh"
for c in node fio fusermount3 cc pkg-config curl getfattr mountpoint timeout; do
	command -v "$c" >/dev/null || die "$c not found: run scripts/deps.sh"
done
[[ -c /dev/fuse ]] || die "/dev/fuse missing"
if ! command -v rclone >/dev/null; then
	say "rclone not installed: the rclone baselines are skipped"
	SYSTEMS=$(echo ",$SYSTEMS," | sed 's/,rclone-off,/,/; s/,rclone-writes,/,/; s/^,//; s/,$//')
fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$BENCH_DIR/work/$STAMP
SHM=/dev/shm/azblobfs-bench.$$
mkdir -p "$WORK/rec" "$WORK/records" "$SHM" || die "cannot create $WORK or $SHM"
CLK_TCK=$(getconf CLK_TCK)

# ------------------------------------------------------------ clean-up

OWN_PIDS=()    # every daemon this script started (only these are ever signalled)
MOUNTS=()      # every mountpoint it used
AZ_PID=""

pid_alive() {
	local st
	[[ -n $1 && -r /proc/$1/stat ]] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[[ -n $st && $st != Z ]]
}
in_mountinfo() { awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; }

# our_child PID: PID is a child of this shell that has not been reaped (so
# not a recycled PID now belonging to someone else).
our_child() { [[ $(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2) == "$$" ]]; }

# stop_pid PID [SECS]: TERM, wait, then KILL. Only for PIDs we started and
# that are still our children.
stop_pid() {
	local pid=$1 secs=${2:-10} i
	pid_alive "$pid" && our_child "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do pid_alive "$pid" || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	sleep 0.2
}

cleanup() {
	local m p
	trap - EXIT INT TERM
	for m in "${MOUNTS[@]}"; do
		in_mountinfo "$m" && { fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null; }
	done
	for p in "${OWN_PIDS[@]}"; do stop_pid "$p" 5; done
	[[ -n $AZ_PID ]] && stop_pid "$AZ_PID" 10
	if ((KEEP)); then say "scratch kept in $SHM"; else rm -rf "$SHM"; fi
	rm -rf "$WORK/azcache" "$WORK"/rclone-cache-*
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# ------------------------------------------------------------ builds

AZBLOBFS=${AZBLOBFS:-$REPO_ROOT/build/azblobfs}
if ((BUILD)) && [[ $AZBLOBFS == "$REPO_ROOT/build/azblobfs" ]]; then
	say "building azblobfs (ninja -C build)"
	if [[ ! -f $REPO_ROOT/build/build.ninja ]]; then
		(cd "$REPO_ROOT" && meson setup build >"$WORK/build.log" 2>&1) || die "meson setup failed; see $WORK/build.log"
	fi
	ninja -C "$REPO_ROOT/build" azblobfs >>"$WORK/build.log" 2>&1 ||
		die "ninja -C build azblobfs failed; see $WORK/build.log (use --no-build to bench the existing binary)"
fi
[[ -x $AZBLOBFS ]] || die "$AZBLOBFS missing: meson setup build && ninja -C build"
NULLFS=$WORK/nullfs
cc -O2 -Wall -Wextra -o "$NULLFS" "$BENCH_DIR/nullfs.c" $(pkg-config --cflags --libs fuse3) >"$WORK/nullfs-build.log" 2>&1 ||
	die "building bench/nullfs.c failed; see $WORK/nullfs-build.log"

# ------------------------------------------------------------ Azurite

free_port() {
	node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
answers() {
	local code
	code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/$AZ_ACCOUNT?comp=list" 2>/dev/null) || true
	[[ -n $code && $code != 000 ]]
}

AZ_PORT=$(free_port) || die "no free port"
AZ_LOG=$WORK/azurite.log
say "starting Azurite on 127.0.0.1:$AZ_PORT (in memory; access log $AZ_LOG)"
setsid node "$BENCH_DIR/azurite-launch.js" "$NODE_MODULES" --blobHost 127.0.0.1 --blobPort "$AZ_PORT" \
	--inMemoryPersistence --disableTelemetry >"$AZ_LOG" 2>&1 </dev/null &
AZ_PID=$!
for ((i = 0; i < 300; i++)); do
	pid_alive "$AZ_PID" || die "Azurite exited: $(tail -n 3 "$AZ_LOG")"
	answers "$AZ_PORT" && break
	sleep 0.1
done
answers "$AZ_PORT" || die "Azurite does not answer on port $AZ_PORT"
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=http://127.0.0.1:$AZ_PORT/$AZ_ACCOUNT"

# ------------------------------------------------------------ fixtures

SRC=$SHM/src.bin          # what W1 writes; also the seed of big.bin
READ_OUT=$SHM/read.out    # what W2 reads into (pre-allocated tmpfs pages)
W5_SRC=$SHM/w5src         # what W5 copies
MANIFEST=$WORK/manifest.json

say "generating $((BIG >> 20)) MiB of random data and $SMALL_N local files in $SHM"
SRC_SHA=$(tool gen "$SRC" "$BIG" | jget sha256) || die "gen failed"
dd if=/dev/zero of="$READ_OUT" bs=1M count=$((BIG >> 20)) status=none || die "cannot fill $READ_OUT"
tool gen-dir "$W5_SRC" "$SMALL_N" "$SMALL_SIZE" >/dev/null || die "gen-dir failed"
ZERO_SHA=$(tool zero-sha "$BIG" | jget sha256)

say "seeding container '$CONTAINER': big.bin, ls10k/ ($LS_N), tree/ ($TREE), small/ ($SMALL_N x $SMALL_SIZE B)"
tool seed "$CONTAINER" "$MANIFEST" --big "$SRC" --ls "$LS_N" --tree "$TREE" --small "$SMALL_N" \
	--small-size "$SMALL_SIZE" >"$WORK/seed.json" || die "seeding failed"
[[ $(jget big.sha256 <"$MANIFEST") == "$SRC_SHA" ]] || die "big.bin read back through the REST API differs from what was uploaded"
BIG_SHA=$SRC_SHA
SMALL_SHA=$(jget small.sha256 <"$MANIFEST")
say "seeded in $(jget seed_s <"$WORK/seed.json" | cut -c1-5) s"
SAS_URL=$(tool sas-url "$CONTAINER" | jget url)
export BENCH_SAS_URL=$SAS_URL   # the lean REST client of the raw small-request baselines
: >"$WORK/rclone.conf"

# The raw W1/W2 run curl (libcurl, the HTTP stack azblobfs uses; 16
# transfers in flight): its Put Blocks read 8 MiB parts of the source from
# tmpfs, its ranged GETs go to /dev/null (and again, not timed, to parts in
# tmpfs for the check).
if in_list raw "$SYSTEMS"; then
	if in_list W1 "$ONLY"; then
		mkdir -p "$SHM/parts"
		split -b 8388608 -d -a 4 "$SRC" "$SHM/parts/p" || die "split failed"
		tool curl-cfg put "$SAS_URL" w1-raw.bin "$WORK/curl-put.cfg" --parts "$SHM/parts" \
			--list "$WORK/blocklist.xml" --list-url "$WORK/blocklist.url" >/dev/null || die "curl-cfg put failed"
	fi
	if in_list W2 "$ONLY"; then
		tool curl-cfg get "$SAS_URL" big.bin "$WORK/curl-get.cfg" --size "$BIG" >/dev/null &&
			tool curl-cfg get "$SAS_URL" big.bin "$WORK/curl-get-check.cfg" --size "$BIG" --out-dir "$SHM/dl" >/dev/null ||
			die "curl-cfg get failed"
	fi
fi
CURL_Z=(curl -sS -f -Z --parallel-max 16 --no-progress-meter)

# ------------------------------------------------------------ mounts

DPID=""
mount_sys() { # mount_sys SYS MNT LOG: start the daemon in the foreground (background job)
	local sys=$1 mnt=$2 log=$3 i args=()
	mkdir -p "$mnt"
	in_mountinfo "$mnt" && { say "$mnt is still mounted"; return 1; }
	MOUNTS+=("$mnt")
	case $sys in
	azblobfs)
		mkdir -p "$WORK/azcache"
		"$AZBLOBFS" -f -o "cache_dir=$WORK/azcache${AZBLOBFS_OPTS:+,$AZBLOBFS_OPTS}" "$CONTAINER" "$mnt" >>"$log" 2>&1 </dev/null &
		;;
	rclone-off | rclone-writes)
		mkdir -p "$WORK/rclone-cache-$sys"
		rclone mount ":azureblob:$CONTAINER" "$mnt" --config "$WORK/rclone.conf" \
			--azureblob-sas-url "$SAS_URL" --vfs-cache-mode "${sys#rclone-}" \
			--cache-dir "$WORK/rclone-cache-$sys" >>"$log" 2>&1 </dev/null &
		;;
	null)
		"$NULLFS" -f -o "size=$BIG" "$mnt" >>"$log" 2>&1 </dev/null &
		;;
	esac
	DPID=$!
	OWN_PIDS+=("$DPID")
	for ((i = 0; i < 300; i++)); do
		if in_mountinfo "$mnt" && timeout -k 1 5 mountpoint -q "$mnt"; then return 0; fi
		pid_alive "$DPID" || { say "$sys exited before mounting: $(tail -n 2 "$log")"; return 1; }
		sleep 0.1
	done
	say "$sys: $mnt not mounted after 30 s"
	stop_pid "$DPID"
	return 1
}

# unmount_sys MNT: fusermount3 -u (retried while busy), wait for the daemon.
UNMOUNT_NOTE=""
unmount_sys() {
	local mnt=$1 i
	UNMOUNT_NOTE=""
	for ((i = 0; i < 50; i++)); do
		in_mountinfo "$mnt" || break
		fusermount3 -u "$mnt" 2>/dev/null && break
		sleep 0.2
	done
	if in_mountinfo "$mnt"; then
		UNMOUNT_NOTE="fusermount3 -u failed; lazy unmount"
		fusermount3 -uz "$mnt" 2>/dev/null
	fi
	for ((i = 0; i < 600; i++)); do pid_alive "$DPID" || break; sleep 0.1; done
	if pid_alive "$DPID"; then
		UNMOUNT_NOTE="${UNMOUNT_NOTE:+$UNMOUNT_NOTE; }daemon still running 60 s after unmount; killed"
		stop_pid "$DPID"
	else
		wait "$DPID" 2>/dev/null
		local rc=$?
		((rc == 0)) || UNMOUNT_NOTE="${UNMOUNT_NOTE:+$UNMOUNT_NOTE; }daemon exit status $rc"
	fi
}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# ------------------------------------------------------------ measurement

cpu_ticks() { # utime+stime of PID, in clock ticks
	[[ -r /proc/$1/stat ]] || { echo 0; return; }
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
log_lines() { wc -l <"$AZ_LOG"; }

# machine_busy: CPU ticks the whole machine spent busy (all CPUs, /proc/stat).
machine_busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
# self_ticks: this shell's CPU plus that of every child it has reaped
# (dd, cp, fio, the node tools...), so that what remains of machine_busy
# after the daemon and Azurite is what other programs on the machine used.
self_ticks() { sed 's/^.*) //' "/proc/$$/stat" | awk '{ print $12 + $13 + $14 + $15 }'; }

# snap TAG DIR [PID] [MNT]: counters before/after a measured command, into
# $DIR/snap-TAG.json: time, the daemon's CPU ticks and VmHWM, Azurite's CPU
# ticks, the machine's busy ticks, the access log's length, the daemon's
# stats attribute.
snap() {
	local tag=$1 dir=$2 pid=${3:-} mnt=${4:-} stats=""
	if [[ -n $mnt && $mnt != none ]]; then
		stats=$(getfattr -n user.azblobfs.stats --only-values "$mnt" 2>/dev/null) || stats=""
	fi
	[[ $stats == \{* ]] || stats=null
	local t=$EPOCHREALTIME alive=false cpu=0 hwm=0 busy self az azrss
	busy=$(machine_busy)
	self=$(self_ticks)
	az=$(cpu_ticks "$AZ_PID")
	azrss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$AZ_PID/status")
	if [[ -n $pid ]]; then
		pid_alive "$pid" && alive=true
		cpu=$(cpu_ticks "$pid")
		hwm=$(hwm_kib "$pid")
	fi
	# printf, not node: the gap between W3's cold and warm ls stays short.
	printf '{"t":%s,"cpu":%s,"hwm_kib":%s,"alive":%s,"az_cpu":%s,"az_rss_kib":%s,"machine_busy":%s,"self_cpu":%s,"loadavg":%s,"log":%s,"stats":%s}\n' \
		"$t" "${cpu:-0}" "${hwm:-0}" "$alive" "${az:-0}" "${azrss:-0}" "$busy" "$self" \
		"$(cut -d' ' -f1 /proc/loadavg)" "$(log_lines)" "$stats" >"$dir/snap-$tag.json"
}

# wait_quiet: before a workload, wait (at most QUIET_WAIT s, and at most
# QUIET_BUDGET s over the whole run) until programs outside the benchmark
# use less than 20% of the machine's CPU over one second. The machine this
# runs on may be shared; the report flags the workloads that were disturbed.
QUIET_SPENT=0
wait_quiet() {
	local deadline=$((SECONDS + QUIET_WAIT)) b0 b1 a0 a1 s0 s1 other pct
	while :; do
		b0=$(machine_busy) a0=$(cpu_ticks "$AZ_PID") s0=$(self_ticks)
		sleep 1
		b1=$(machine_busy) a1=$(cpu_ticks "$AZ_PID") s1=$(self_ticks)
		other=$(((b1 - b0) - (a1 - a0) - (s1 - s0)))
		pct=$((other * 100 / (CLK_TCK * $(nproc))))
		((pct < 20)) && return 0
		if ((SECONDS >= deadline || QUIET_SPENT >= QUIET_BUDGET)); then
			say "  the machine is busy: other programs use ${pct}% of its CPU; going on"
			return 0
		fi
		QUIET_SPENT=$((QUIET_SPENT + 1))
	done
}

# timed DIR TAG TIMEOUT CMD...: run CMD (stdout to DIR/TAG.out, stderr to
# DIR/TAG.err) and write DIR/run-TAG.json {t0, t1, rc}.
timed() {
	local dir=$1 tag=$2 tmo=$3 t0 t1 rc
	shift 3
	t0=$EPOCHREALTIME
	timeout -k 10 "$tmo" "$@" >"$dir/$tag.out" 2>"$dir/$tag.err"
	rc=$?
	t1=$EPOCHREALTIME
	tool json t0="$t0" t1="$t1" rc="$rc" cmd="$(printf '%q ' "$@")" >"$dir/run-$tag.json"
	return "$rc"
}

# record SYS WL VARIANT DIR TAG k=v...: one result record.
N_REC=0
record() {
	local sys=$1 wl=$2 variant=$3 dir=$4 tag=$5
	shift 5
	N_REC=$((N_REC + 1))
	tool json system="$sys" workload="$wl" variant="$variant" round:="$ROUND" clk_tck="$CLK_TCK" \
		run@="$dir/run-$tag.json" before@="$dir/snap-$tag-0.json" after@="$dir/snap-$tag-1.json" \
		check@="$dir/check-$tag.json" wait@="$dir/wait-$tag.json" fio@="$dir/fio.json" \
		raw@="$dir/$tag.out" "$@" >"$WORK/records/$(printf '%03d' "$N_REC")-$wl-$sys-$variant.json"
}

fail_record() { # fail_record SYS WL REASON
	N_REC=$((N_REC + 1))
	tool json system="$1" workload="$2" variant=main round:="$ROUND" error="$3" >"$WORK/records/$(printf '%03d' "$N_REC")-$2-$1-fail.json"
	say "  $2 $1: FAILED: $3"
}

# The short line printed after each measurement.
summary() {
	local dir=$1 tag=$2
	node -e '
const fs = require("fs"); const [dir, tag] = process.argv.slice(1);
const rd = (f) => { try { return JSON.parse(fs.readFileSync(dir + "/" + f, "utf8")); } catch (e) { return null; } };
const run = rd("run-" + tag + ".json") || {}; const c = rd("check-" + tag + ".json") || {};
const raw = rd(tag + ".out");
const wall = raw && raw.wall_s !== undefined ? raw.wall_s : run.t1 - run.t0;
console.log(`wall ${wall.toFixed(2)} s, rc ${run.rc}, check ${c.ok === true ? "ok" : c.ok === false ? "MISMATCH " + (c.detail || "") : "n/a"}`);' "$dir" "$tag"
}

# ------------------------------------------------------------ workloads

round_suffix() { ((REPEAT > 1)) && echo "-r$ROUND"; }

tmo_for() { case $1 in W1 | W2) echo 900 ;; W7) echo $((W7_SECS + 180)) ;; *) echo 600 ;; esac; }

# applies SYS WL: which workloads each system runs.
applies() {
	case $1 in
	null) [[ $2 == W1 || $2 == W2 ]] ;;
	raw-sdk) [[ $2 == W1 || $2 == W2 ]] ;;
	raw-1) [[ $2 == W5 || $2 == W6 || $2 == W8 ]] ;;
	*) return 0 ;;
	esac
}

run_fs() { # run_fs SYS WL: one workload on a fresh mount
	local sys=$1 wl=$2 mnt=$WORK/mnt-$1 dir=$WORK/rec/$2-$1$(round_suffix) tmo
	local log=$dir/daemon.log
	tmo=$(tmo_for "$wl")
	mkdir -p "$dir"
	case $wl in
	W1) tool delete-prefix "$CONTAINER" "w1-$sys" >/dev/null ;;
	W5) tool delete-prefix "$CONTAINER" "w5-$sys" >/dev/null ;;
	W8)
		tool delete-prefix "$CONTAINER" "w8-$sys" >/dev/null
		tool seed-dir "$CONTAINER" "w8-$sys-src" "$MV_N" "$SMALL_SIZE" "$dir/mv-manifest.json" >/dev/null ||
			{ fail_record "$sys" "$wl" "seeding w8-$sys-src failed"; return; }
		;;
	esac
	mount_sys "$sys" "$mnt" "$log" || { fail_record "$sys" "$wl" "mount failed: $(tail -n 2 "$log" | tr '\n' ' ')"; return; }
	local ra
	ra=$(cat "/sys/class/bdi/$(mountpoint -d "$mnt")/read_ahead_kb" 2>/dev/null || echo "")
	local smnt=none
	[[ $sys == azblobfs ]] && smnt=$mnt
	drop_caches
	local tag=main variant=main target
	snap "$tag-0" "$dir" "$DPID" "$smnt"
	case $wl in
	W1)
		target=$mnt/w1-$sys.bin
		[[ $sys == null ]] && target=$mnt/zero
		timed "$dir" "$tag" "$tmo" dd if="$SRC" of="$target" bs=1M conv=fsync
		if [[ $sys == null ]]; then
			tool json ok:=null detail="the null fs discards writes" >"$dir/check-$tag.json"
		else
			tool check-blob "$CONTAINER" "w1-$sys.bin" "$SRC_SHA" "$BIG" --wait 300 --only-wait 1 >"$dir/wait-$tag.json"
		fi
		snap "$tag-1" "$dir" "$DPID" "$smnt"
		[[ $sys != null ]] && tool check-blob "$CONTAINER" "w1-$sys.bin" "$SRC_SHA" "$BIG" --wait 5 >"$dir/check-$tag.json"
		;;
	W2)
		target=$mnt/big.bin
		[[ $sys == null ]] && target=$mnt/zero
		timed "$dir" "$tag" "$tmo" dd if="$target" of="$READ_OUT" bs=1M conv=notrunc
		snap "$tag-1" "$dir" "$DPID" "$smnt"
		if grep -q "^$BIG bytes" "$dir/$tag.err"; then
			tool check-file "$READ_OUT" "$([[ $sys == null ]] && echo "$ZERO_SHA" || echo "$BIG_SHA")" >"$dir/check-$tag.json"
		else
			tool json ok:=false detail="dd did not read $BIG bytes: $(tail -n 1 "$dir/$tag.err")" >"$dir/check-$tag.json"
		fi
		;;
	W3)
		timed "$dir" "$tag" "$tmo" ls -l "$mnt/ls10k"
		snap "$tag-1" "$dir" "$DPID" "$smnt"
		snap "warm-0" "$dir" "$DPID" "$smnt"
		timed "$dir" warm "$tmo" ls -l "$mnt/ls10k"
		snap "warm-1" "$dir" "$DPID" "$smnt"
		tool check-ls "$dir/$tag.out" "$MANIFEST" >"$dir/check-$tag.json"
		tool check-ls "$dir/warm.out" "$MANIFEST" >"$dir/check-warm.json"
		record "$sys" "$wl" cold "$dir" "$tag" bdi_ra_kb="$ra"
		summary "$dir" "$tag" | sed "s/^/  $wl $sys, cold: /" >&2
		tag=warm variant=warm
		;;
	W4)
		timed "$dir" "$tag" "$tmo" find "$mnt/tree"
		snap "$tag-1" "$dir" "$DPID" "$smnt"
		tool check-find "$dir/$tag.out" "$mnt" "$MANIFEST" >"$dir/check-$tag.json"
		;;
	W5)
		timed "$dir" "$tag" "$tmo" cp -r "$W5_SRC" "$mnt/w5-$sys"
		tool check-dir "$CONTAINER" "w5-$sys" "$W5_SRC" --wait 300 --only-wait 1 >"$dir/wait-$tag.json"
		snap "$tag-1" "$dir" "$DPID" "$smnt"
		tool check-dir "$CONTAINER" "w5-$sys" "$W5_SRC" --wait 5 >"$dir/check-$tag.json"
		;;
	W6)
		rm -f "$SHM/w6.out"
		timed "$dir" "$tag" "$tmo" env LC_ALL=C bash -c 'cat "$1"/small/* >"$2"' _ "$mnt" "$SHM/w6.out"
		snap "$tag-1" "$dir" "$DPID" "$smnt"
		tool check-file "$SHM/w6.out" "$SMALL_SHA" >"$dir/check-$tag.json"
		;;
	W7)
		timed "$dir" "$tag" "$tmo" fio --name=w7 --filename="$mnt/big.bin" --readonly --rw=randread --bs=4k \
			--ioengine=psync --numjobs=4 --time_based --runtime="$W7_SECS" --group_reporting \
			--output-format=json --output="$dir/fio.json"
		snap "$tag-1" "$dir" "$DPID" "$smnt"
		tool check-sample "$mnt/big.bin" "$SRC" 64 >"$dir/check-$tag.json"
		;;
	W8)
		timed "$dir" "$tag" "$tmo" mv "$mnt/w8-$sys-src" "$mnt/w8-$sys-dst"
		tool check-mv "$CONTAINER" "w8-$sys-src" "w8-$sys-dst" "$dir/mv-manifest.json" --wait 300 --only-wait 1 >"$dir/wait-$tag.json"
		snap "$tag-1" "$dir" "$DPID" "$smnt"
		tool check-mv "$CONTAINER" "w8-$sys-src" "w8-$sys-dst" "$dir/mv-manifest.json" --wait 5 >"$dir/check-$tag.json"
		;;
	esac
	unmount_sys "$mnt"
	local errs
	errs=$(grep -ciE 'error|warn|fail' "$log" 2>/dev/null)
	record "$sys" "$wl" "$variant" "$dir" "$tag" bdi_ra_kb="$ra" unmount_note="$UNMOUNT_NOTE" \
		daemon_log_problem_lines="${errs:-0}"
	summary "$dir" "$tag" | sed "s/^/  $wl $sys$([[ $variant != main ]] && echo ", $variant"): /" >&2
	[[ -n $UNMOUNT_NOTE ]] && say "  $wl $sys: $UNMOUNT_NOTE"
	case $wl in
	W1) tool delete-prefix "$CONTAINER" "w1-$sys" >/dev/null ;;
	W5) tool delete-prefix "$CONTAINER" "w5-$sys" >/dev/null ;;
	W8) tool delete-prefix "$CONTAINER" "w8-$sys" >/dev/null ;;
	esac
	rm -rf "$WORK/azcache" "$WORK/rclone-cache-$sys"
}

run_raw() { # run_raw SYS WL: the same transfer through the SDK, no file system
	local sys=$1 wl=$2 dir=$WORK/rec/$2-$1$(round_suffix) tmo inflight=32 tag=main
	[[ $sys == raw-1 ]] && inflight=1
	tmo=$(tmo_for "$wl")
	mkdir -p "$dir"
	case $wl in
	W8)
		tool delete-prefix "$CONTAINER" "w8-$sys" >/dev/null
		tool seed-dir "$CONTAINER" "w8-$sys-src" "$MV_N" "$SMALL_SIZE" "$dir/mv-manifest.json" >/dev/null ||
			{ fail_record "$sys" "$wl" "seeding failed"; return; }
		;;
	esac
	drop_caches
	local variants=(main)
	[[ $wl == W3 ]] && variants=(cold warm)
	for tag in "${variants[@]}"; do
		snap "$tag-0" "$dir"
		case $wl in
		W1)
			if [[ $sys == raw-sdk ]]; then
				timed "$dir" "$tag" "$tmo" node "$BENCH_DIR/tool.js" raw-put-big "$CONTAINER" "w1-$sys.bin" "$SRC" --client sdk
			else
				timed "$dir" "$tag" "$tmo" bash -c '"${@:4}" -K "$1" && curl -sS -f -X PUT -H "x-ms-version: 2025-11-05" --data-binary @"$2" "$(cat "$3")"' \
					_ "$WORK/curl-put.cfg" "$WORK/blocklist.xml" "$WORK/blocklist.url" "${CURL_Z[@]}"
			fi
			;;
		W2)
			if [[ $sys == raw-sdk ]]; then
				timed "$dir" "$tag" "$tmo" node "$BENCH_DIR/tool.js" raw-get-big "$CONTAINER" big.bin "$BIG" "$BIG_SHA" --client sdk
			else
				timed "$dir" "$tag" "$tmo" "${CURL_Z[@]}" -K "$WORK/curl-get.cfg"
			fi
			;;
		W3) timed "$dir" "$tag" "$tmo" node "$BENCH_DIR/tool.js" raw-list "$CONTAINER" ls10k/ "$MANIFEST" ;;
		W4) timed "$dir" "$tag" "$tmo" node "$BENCH_DIR/tool.js" raw-list-flat "$CONTAINER" tree/ "$MANIFEST" ;;
		W5) timed "$dir" "$tag" "$tmo" node "$BENCH_DIR/tool.js" raw-put-files "$CONTAINER" "w5-$sys" "$W5_SRC" --inflight "$inflight" ;;
		W6) timed "$dir" "$tag" "$tmo" node "$BENCH_DIR/tool.js" raw-get-files "$CONTAINER" small "$MANIFEST" --inflight "$inflight" ;;
		W7) timed "$dir" "$tag" "$tmo" node "$BENCH_DIR/tool.js" raw-randread "$CONTAINER" big.bin "$BIG" "$SRC" --jobs 4 --seconds "$W7_SECS" ;;
		W8) timed "$dir" "$tag" "$tmo" node "$BENCH_DIR/tool.js" raw-mv "$CONTAINER" "w8-$sys-src" "w8-$sys-dst" --inflight "$inflight" ;;
		esac
		snap "$tag-1" "$dir"
		case $wl in
		W1) tool check-blob "$CONTAINER" "w1-$sys.bin" "$SRC_SHA" "$BIG" --wait 5 >"$dir/check-$tag.json" ;;
		W2)
			if [[ $sys == raw ]]; then
				rm -rf "$SHM/dl" && mkdir -p "$SHM/dl"
				"${CURL_Z[@]}" -K "$WORK/curl-get-check.cfg" >/dev/null 2>&1
				tool check-curl-get "$dir/$tag.out" "$SHM/dl" "$BIG_SHA" "$BIG" >"$dir/check-$tag.json"
				rm -rf "$SHM/dl"
			else
				jget check <"$dir/$tag.out" >"$dir/check-$tag.json"
			fi
			;;
		W5) tool check-dir "$CONTAINER" "w5-$sys" "$W5_SRC" --wait 5 >"$dir/check-$tag.json" ;;
		W8) tool check-mv "$CONTAINER" "w8-$sys-src" "w8-$sys-dst" "$dir/mv-manifest.json" --wait 5 >"$dir/check-$tag.json" ;;
		*) jget check <"$dir/$tag.out" >"$dir/check-$tag.json" 2>/dev/null || echo null >"$dir/check-$tag.json" ;;
		esac
		local variant=main
		[[ $wl == W3 ]] && variant=$tag
		record "$sys" "$wl" "$variant" "$dir" "$tag" inflight="$inflight"
		summary "$dir" "$tag" | sed "s/^/  $wl $sys$([[ $variant != main ]] && echo ", $variant"): /" >&2
	done
	case $wl in
	W1) tool delete-prefix "$CONTAINER" "w1-$sys" >/dev/null ;;
	W5) tool delete-prefix "$CONTAINER" "w5-$sys" >/dev/null ;;
	W8) tool delete-prefix "$CONTAINER" "w8-$sys" >/dev/null ;;
	esac
}

# ------------------------------------------------------------ environment

git_rev=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git_dirty=$(git -C "$REPO_ROOT" status --porcelain -- src include meson.build 2>/dev/null | wc -l)
tool json date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" host="$(hostname -s)" kernel="$(uname -r)" \
	cpus="$(nproc)" cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
	mem_gib="$(awk '/^MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)" \
	azblobfs_rev="$git_rev" azblobfs_src_dirty_files="$git_dirty" \
	azblobfs_version="$("$AZBLOBFS" -V 2>&1 | head -n 1)" \
	rclone_version="$(rclone version 2>/dev/null | head -n 1)" fio_version="$(fio --version)" \
	node_version="$(node --version)" libfuse="$(pkg-config --modversion fuse3)" \
	azurite_version="$(node -p "require('$NODE_MODULES/azurite/package.json').version")" \
	sdk_version="$(node -p "require('$NODE_MODULES/@azure/storage-blob/package.json').version")" \
	quick:=$QUICK big="$BIG" ls_n="$LS_N" tree="$TREE" small_n="$SMALL_N" small_size="$SMALL_SIZE" \
	mv_n="$MV_N" w7_secs="$W7_SECS" repeat:="$REPEAT" az_port="$AZ_PORT" workloads="$ONLY" systems="$SYSTEMS" \
	>"$WORK/env.json"

# ------------------------------------------------------------ the run

T_START=$SECONDS
# W2 before W1: every W1 run leaves its 1 GiB in Azurite's memory as unreferenced
# blocks until the extent GC, which azurite-launch.js defers; after five W1
# rounds even the raw client read slower (W2 median 501 against 632-816 MB/s).
for wl in W2 W1 W3 W4 W5 W6 W7 W8; do
	in_list "$wl" "$ONLY" || continue
	for ((ROUND = 1; ROUND <= REPEAT; ROUND++)); do
		order=(null raw raw-sdk raw-1 azblobfs rclone-off rclone-writes)
		((ROUND % 2 == 0)) && order=(rclone-writes rclone-off azblobfs raw-1 raw-sdk raw null)
		for sys in "${order[@]}"; do
			in_list "$sys" "$SYSTEMS" || continue
			applies "$sys" "$wl" || continue
			((QUIET_WAIT > 0)) && wait_quiet
			say "$wl $sys$( ((REPEAT > 1)) && echo ", round $ROUND of $REPEAT")"
			case $sys in
			raw*) run_raw "$sys" "$wl" ;;
			*) run_fs "$sys" "$wl" ;;
			esac
		done
	done
done
say "workloads done in $((SECONDS - T_START)) s"

# ------------------------------------------------------------ report

mkdir -p "$BENCH_DIR/results"
base=$BENCH_DIR/results/$(date -u +%Y-%m-%d)-$(hostname -s)
[[ -e $base.md ]] && base=$base-$(date -u +%H%M%S)
node "$BENCH_DIR/report.js" "$WORK" "$base" || die "report.js failed"
say "results: ${base#"$REPO_ROOT"/}.md and .json; logs: ${WORK#"$REPO_ROOT"/}"
