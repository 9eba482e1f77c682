#!/bin/bash
# scripts/deps.sh - install what azblobfs needs to build and test on Debian 12.
#
# Idempotent and quick when everything is present: only missing Debian
# packages are installed (as root, apt-get), nodejs/npm only when `node` is
# missing, and `npm ci` in scripts/node (pinned Azurite and
# @azure/storage-blob, into scripts/node/node_modules, git-ignored) only when
# package-lock.json changed since the last install.
# Prints one line per action; on failure, one line saying what failed and
# the tail of the tool's output.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODE_DIR=$REPO_ROOT/scripts/node
LOG=$(mktemp /tmp/azblobfs-deps.XXXXXX)
trap 'rm -f "$LOG"' EXIT

say() { echo "deps: $*"; }
die() {
	echo "deps: error: $*" >&2
	if [[ -s $LOG ]]; then
		echo "deps: last lines of the output:" >&2
		tail -n 25 "$LOG" | sed 's/^/deps:   /' >&2
	fi
	exit 1
}

PKGS=(
	# build
	build-essential meson ninja-build pkg-config
	libfuse3-dev fuse3 libcurl4-openssl-dev libssl-dev libxml2-dev check
	# tests and demo
	attr curl file git psmisc procps rsync sqlite3 fio rclone man-db groff-base
	xxd util-linux coreutils findutils perl ca-certificates python3
	# packaging test: building the .deb, checking the man page
	debhelper dpkg-dev fakeroot lintian mandoc
	# fuzz targets (scripts/fuzz.sh): clang with libFuzzer; the format check
	clang libclang-rt-14-dev clang-format
)
command -v node >/dev/null 2>&1 || PKGS+=(nodejs npm)
command -v npm >/dev/null 2>&1 || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[[ $st == installed ]] || missing+=("$p")
done

if ((${#missing[@]} > 0)); then
	[[ $(id -u) == 0 ]] || die "missing Debian packages (${missing[*]}); run this script as root"
	command -v apt-get >/dev/null || die "apt-get not found: this script supports Debian 12"
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Refresh the lists only when needed: a first install on a fresh
	# machine, or a package the current lists do not know.
	if [[ -z $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -print -quit 2>/dev/null) ]] ||
		! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$LOG" 2>&1; then
		apt-get update -qq >"$LOG" 2>&1 || die "apt-get update failed"
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$LOG" 2>&1 ||
			die "apt-get install ${missing[*]} failed"
	fi
fi

command -v node >/dev/null || die "node is still missing after installing nodejs"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 18)) || die "node $(node --version) is too old; Azurite 3.35 and @azure/storage-blob 12.32 need node 18 or later"

# npm ci only when the lock file differs from the one last installed.
stamp=$NODE_DIR/node_modules/.azblobfs-lock.sha256
want=$(sha256sum "$NODE_DIR/package-lock.json" | awk '{ print $1 }')
if [[ ! -s $stamp || $(cat "$stamp") != "$want" ||
	! -x $NODE_DIR/node_modules/.bin/azurite-blob ||
	! -d $NODE_DIR/node_modules/@azure/storage-blob ]]; then
	say "npm ci in scripts/node (azurite, @azure/storage-blob)"
	(cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >"$LOG" 2>&1) ||
		die "npm ci in $NODE_DIR failed"
	echo "$want" >"$stamp"
fi

[[ -c /dev/fuse ]] || say "warning: /dev/fuse is missing: mounts (demo, integration tests) will fail"
say "ok"
