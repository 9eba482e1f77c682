#!/bin/bash
# packaging/build-deb.sh - build the azblobfs Debian package.
#
#   packaging/build-deb.sh [--install-deps] [OUTDIR]
#
# Copies the source tree (what git tracks plus untracked files that are not
# ignored, so uncommitted changes are included; build trees, node_modules and
# .git are not) to a temporary directory, puts packaging/debian at ./debian
# there, runs "dpkg-buildpackage -us -uc -b" and copies the .deb to OUTDIR
# (default: build-deb/ in the repository). The last line printed is the path
# of the .deb. By hand, from a copy of the tree, the same is:
#
#   cp -a packaging/debian debian && dpkg-buildpackage -us -uc -b
#
# --install-deps: install missing build dependencies first (apt-get, as
# root). Without it, missing ones make dpkg-buildpackage stop with a list.
# DEB_BUILD_OPTIONS is passed on (e.g. nocheck skips the unit tests,
# parallel=N; the default is parallel=$(nproc)). The full log is kept in
# OUTDIR/build-deb.log.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
install_deps=0
OUTDIR=""
for a in "$@"; do
	case $a in
	--install-deps) install_deps=1 ;;
	-h | --help) sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "build-deb: unknown option '$a'" >&2; exit 2 ;;
	*) [[ -z $OUTDIR ]] || { echo "build-deb: one OUTDIR only" >&2; exit 2; }; OUTDIR=$a ;;
	esac
done
OUTDIR=${OUTDIR:-$REPO_ROOT/build-deb}

say() { echo "build-deb: $*"; }
die() { echo "build-deb: error: $*" >&2; exit 1; }

mkdir -p -- "$OUTDIR" || die "cannot create $OUTDIR"
OUTDIR=$(cd -- "$OUTDIR" && pwd)
LOG=$OUTDIR/build-deb.log
: >"$LOG"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/azblobfs-deb.XXXXXX")
trap 'rm -rf --one-file-system -- "$WORK"' EXIT

apt_install() {
	[[ $(id -u) == 0 ]] || die "--install-deps needs root"
	command -v apt-get >/dev/null || die "--install-deps needs apt-get"
	export DEBIAN_FRONTEND=noninteractive
	say "installing build dependencies: $*"
	# apt-get satisfy takes Build-Depends syntax, version and profiles included.
	if ! apt-get satisfy -y -qq --no-install-recommends "$*" >>"$LOG" 2>&1; then
		apt-get update -qq >>"$LOG" 2>&1 || die "apt-get update failed (see $LOG)"
		apt-get satisfy -y -qq --no-install-recommends "$*" >>"$LOG" 2>&1 ||
			die "could not install the build dependencies (see $LOG)"
	fi
}

if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
	((install_deps)) || die "dpkg-buildpackage or dh is missing: install dpkg-dev and debhelper, or pass --install-deps"
	apt_install "dpkg-dev, debhelper"
fi

# ---------------------------------------------------------------- the tree
VERSION=$(dpkg-parsechangelog -l "$REPO_ROOT/packaging/debian/changelog" -S Version)
SRC=$WORK/azblobfs-$VERSION
mkdir -p "$SRC"
if git -C "$REPO_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked and untracked-but-not-ignored files that exist right now.
	git -C "$REPO_ROOT" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[[ -e $REPO_ROOT/$f || -L $REPO_ROOT/$f ]] && printf '%s\0' "$f"
		done |
		tar -C "$REPO_ROOT" --null --no-recursion -T - -cf - | tar -C "$SRC" -xf -
else
	tar -C "$REPO_ROOT" --exclude='./build*' --exclude=./.git --exclude=node_modules \
		--exclude=./mnt --exclude=./.demo --exclude=./.azurite --exclude=./bench/work \
		-cf - . | tar -C "$SRC" -xf -
fi
[[ -f $SRC/meson.build && -d $SRC/packaging/debian ]] || die "the copy of the tree in $SRC is incomplete"
rm -rf "$SRC/debian"
cp -a "$SRC/packaging/debian" "$SRC/debian"

meson_version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" "$SRC/meson.build" | head -n 1)
if [[ -n $meson_version && $meson_version != "${VERSION%%-*}" ]]; then
	say "warning: meson.build says version $meson_version but packaging/debian/changelog says $VERSION"
fi

if ((install_deps)) && ! (cd "$SRC" && dpkg-checkbuilddeps >>"$LOG" 2>&1); then
	bd=$(cd "$SRC" && perl -MDpkg::Control::Info -e '
		my $s = Dpkg::Control::Info->new("debian/control")->get_source;
		print join(", ", grep { defined && length } $s->{"Build-Depends"}, $s->{"Build-Depends-Arch"});')
	apt_install "$(tr -s ' \n' ' ' <<<"$bd")"
fi

# ---------------------------------------------------------------- build
opts=${DEB_BUILD_OPTIONS:-}
[[ $opts == *parallel=* ]] || opts="${opts:+$opts }parallel=$(nproc 2>/dev/null || echo 2)"
say "building azblobfs $VERSION in $SRC (DEB_BUILD_OPTIONS='$opts'; log $LOG)"
if ! (cd "$SRC" && DEB_BUILD_OPTIONS=$opts dpkg-buildpackage -us -uc -b >>"$LOG" 2>&1); then
	tail -n 40 "$LOG" | sed 's/^/build-deb:   /' >&2
	die "dpkg-buildpackage failed (full log: $LOG)"
fi

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=azblobfs_${VERSION}_$arch.deb
[[ -f $WORK/$deb ]] || die "dpkg-buildpackage succeeded but $WORK/$deb is missing"
for f in "$WORK"/*.deb "$WORK"/*.buildinfo "$WORK"/*.changes; do
	[[ -e $f ]] && cp -f -- "$f" "$OUTDIR/"
done
say "built $deb"
echo "$OUTDIR/$deb"
