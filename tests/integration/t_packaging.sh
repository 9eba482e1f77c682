#!/bin/bash
# t_packaging.sh - the Debian package and the mount(8) paths (issue 5).
# timeout: 900
#
# Builds the .deb with packaging/build-deb.sh (DEB_BUILD_OPTIONS=nocheck: the
# unit tests run elsewhere), or takes the one named by $AZBLOBFS_DEB; checks
# its dependencies and contents; installs it with dpkg -i (apt-get -f install
# for missing dependencies); then, with the installed /usr/bin/azblobfs and
# credentials from a config file (the caller's AZURE_STORAGE_* are removed),
# mounts through "mount -t fuse.azblobfs" and through an /etc/fstab line and
# "mount MNT" (fstab restored afterwards, on failure too), reading a seeded
# blob each time and checking it against blobtool. Also: mount(8) passes the
# caller's environment on (credentials from AZURE_STORAGE_CONNECTION_STRING
# alone work), a group-readable config is refused through mount(8), the man
# page renders without warnings (groff -ww, man -l, mandoc -Tlint when
# installed) and covers every option --help lists, systemd-analyze verify
# accepts the units, and azblobfs@.service's ExecStart/ExecStop, run as the
# unit says (its capability bounding set, no_new_privs, a NOTIFY_SOCKET
# listener in place of systemd), report READY=1 with the mount live, unmount
# cleanly with STOPPING=1, and leave no dead mount when the daemon is killed.
# Needs root; removes the package at the end unless it was installed before.
. "$(dirname "$0")/lib.sh"

PKG_DIR=$REPO_ROOT/packaging
MAN=$PKG_DIR/azblobfs.1
FSTAB=/etc/fstab
FSTAB_SAVED=""
PKG_WAS_INSTALLED=0
PKG_INSTALLED_BY_US=0
ETC_CONF=""          # /etc/azblobfs/INSTANCE.conf made for the unit check
ETC_DIR_MADE=0

[[ $(id -u) == 0 ]] || skip_all "needs root (dpkg -i, mount -t, /etc/fstab)"
if ! command -v dpkg >/dev/null || ! command -v apt-get >/dev/null; then
	skip_all "needs dpkg and apt-get (Debian)"
fi

# ---------------------------------------------------------------- cleanup

# Puts /etc/fstab back as it was (same inode, so its mode and owner stay).
restore_fstab() {
	[[ -n $FSTAB_SAVED ]] || return 0
	if [[ $FSTAB_SAVED == none ]]; then
		rm -f -- "$FSTAB"
	else
		cat -- "$FSTAB_SAVED" >"$FSTAB"
	fi
	FSTAB_SAVED=""
}

remove_package() {
	((PKG_INSTALLED_BY_US)) || return 0
	PKG_INSTALLED_BY_US=0
	dpkg --purge azblobfs >"$TEST_DIR/dpkg-purge.log" 2>&1
}

remove_etc_conf() {
	[[ -n $ETC_CONF ]] && rm -f -- "$ETC_CONF"
	ETC_CONF=""
	((ETC_DIR_MADE)) && rmdir -- /etc/azblobfs 2>/dev/null
	ETC_DIR_MADE=0
}

# Runs on every exit: fstab first, then lib.sh's cleanup (unmounts, Azurite),
# then the package (after its daemons are gone).
_pkg_exit() {
	local rc=$?
	restore_fstab
	remove_etc_conf
	_cleanup
	remove_package || diag "cleanup: dpkg --purge azblobfs failed; see $TEST_DIR/dpkg-purge.log"
	exit "$rc"
}
trap _pkg_exit EXIT

# A run killed with SIGKILL cannot restore /etc/fstab: drop its line now.
if [[ -f $FSTAB ]] && grep -q 'comment=t_packaging,' "$FSTAB"; then
	diag "removing a line an earlier run left in $FSTAB"
	sed -i '/comment=t_packaging,/d' "$FSTAB"
fi

# ---------------------------------------------------------------- man page

check_quiet() { # NAME CMD...: CMD exits 0 and prints nothing on stderr
	local name=$1 rc
	shift
	"$@" >/dev/null 2>"$TEST_DIR/quiet.err"
	rc=$?
	if ((rc == 0)) && [[ ! -s $TEST_DIR/quiet.err ]]; then
		pass "$name"
		return 0
	fi
	fail "$name" "command: $(_quote "$@")" "exit status: $rc; stderr:"
	diag_file "$TEST_DIR/quiet.err"
	return 1
}

check_quiet "groff -ww renders the man page without warnings" groff -ww -man -Tutf8 "$MAN"
check_quiet "man -l renders the man page without warnings" env MANWIDTH=80 man --warnings=w -l "$MAN"
rendered=$(MANWIDTH=80 man -l "$MAN" 2>/dev/null | col -b)
missing=()
for s in NAME SYNOPSIS DESCRIPTION SOURCES OPTIONS CREDENTIALS "CONFIGURATION FILE" SEMANTICS FILES "EXIT STATUS" EXAMPLES "SEE ALSO"; do
	grep -q "^$s\$" <<<"$rendered" || missing+=("$s")
done
check_eq "the man page has every section" "" "${missing[*]}"
if command -v mandoc >/dev/null; then
	check_quiet "mandoc -Tlint finds nothing in the man page" mandoc -Tlint "$MAN"
else
	skip "mandoc -Tlint finds nothing in the man page" "mandoc is not installed"
fi

# ---------------------------------------------------------------- the package

if [[ -n ${AZBLOBFS_DEB:-} ]]; then
	DEB=$AZBLOBFS_DEB
	diag "using AZBLOBFS_DEB=$DEB"
	[[ -f $DEB ]] || bail "AZBLOBFS_DEB=$DEB does not exist"
else
	DEB=$(DEB_BUILD_OPTIONS=nocheck "$PKG_DIR/build-deb.sh" --install-deps "$TEST_DIR/deb" 2>"$TEST_DIR/build-deb.err" | tail -n 1)
	if [[ -f $DEB ]]; then
		pass "packaging/build-deb.sh builds the .deb ($(basename "$DEB"))"
	else
		fail "packaging/build-deb.sh builds the .deb" "stderr:"
		diag_file "$TEST_DIR/build-deb.err" 30
		bail "no package to install"
	fi
fi

DEB_VERSION=$(dpkg-deb -f "$DEB" Version)
depends=$(dpkg-deb -f "$DEB" Depends)
diag "Depends: $depends"
missing=()
for d in fuse3 libfuse3-3 libcurl4 libssl3 libxml2; do
	grep -qE "(^|, )$d( |,|$)" <<<"$depends" || missing+=("$d")
done
check_eq "the package depends on fuse3, libfuse3-3, libcurl4, libssl3, libxml2" "" "${missing[*]}"

contents=$(dpkg-deb -c "$DEB" | awk '{ print $6 }')
missing=()
for f in ./usr/bin/azblobfs ./usr/share/man/man1/azblobfs.1.gz \
	./lib/systemd/system/azblobfs@.service \
	./usr/share/doc/azblobfs/examples/azblobfs@.service \
	./usr/share/doc/azblobfs/examples/mnt-blob.mount \
	./usr/share/doc/azblobfs/examples/azblobfs.conf.example \
	./var/lib/azblobfs/; do
	grep -qxF -- "$f" <<<"$contents" || missing+=("$f")
done
check_eq "the package holds the daemon, the man page, the units and the example config" "" "${missing[*]}"

[[ $(dpkg-query -W -f='${db:Status-Status}' azblobfs 2>/dev/null) == installed ]] && PKG_WAS_INSTALLED=1
((PKG_WAS_INSTALLED)) && diag "azblobfs was installed before this test; it stays installed afterwards"
if dpkg -i "$DEB" >"$TEST_DIR/dpkg-i.log" 2>&1; then
	pass "dpkg -i installs the package"
else
	diag "dpkg -i failed (missing dependencies?); trying apt-get -f install"
	diag_file "$TEST_DIR/dpkg-i.log" 10
	if DEBIAN_FRONTEND=noninteractive apt-get -f install -y -qq >"$TEST_DIR/apt-f.log" 2>&1 &&
		[[ $(dpkg-query -W -f='${db:Status-Status}' azblobfs 2>/dev/null) == installed ]]; then
		pass "dpkg -i, then apt-get -f install, installs the package"
	else
		fail "dpkg -i, then apt-get -f install, installs the package"
		diag_file "$TEST_DIR/apt-f.log" 20
	fi
fi
((PKG_WAS_INSTALLED)) || PKG_INSTALLED_BY_US=1
[[ -x /usr/bin/azblobfs ]] || bail "/usr/bin/azblobfs is not installed"
# lib.sh finds daemons by their executable.
AZBLOBFS=/usr/bin/azblobfs
export AZBLOBFS

check_eq "the installed azblobfs --version names the package's version" \
	"azblobfs ${DEB_VERSION%%-*}" "$(/usr/bin/azblobfs --version 2>&1 | head -n 1)"
check_eq "the installed man page is packaging/azblobfs.1" \
	"$(cat "$MAN")" "$(zcat /usr/share/man/man1/azblobfs.1.gz 2>&1)"
check_eq "man finds the installed page" /usr/share/man/man1/azblobfs.1.gz "$(man -w azblobfs 2>&1)"
check "/var/lib/azblobfs (for cache_dir=) exists" test -d /var/lib/azblobfs

# Every option --help lists is in the man page.
help=$(/usr/bin/azblobfs --help 2>&1)
opts=$( (grep -oE '\b[a-z_]{2,}=' <<<"$help" | tr -d '='
	grep -oE '^  (-[a-zA-Z]|--[a-z-]+|[a-z_]{2,})\b' <<<"$help" | tr -d ' '
	grep -oE '^  -[a-zA-Z], (--)?[a-z_-]+' <<<"$help" | sed 's/.*, //') | LC_ALL=C sort -u)
missing=()
for o in $opts; do
	grep -qE -- "(^|[^a-z_-])$o([^a-z_]|\$)" <<<"$rendered" || missing+=("$o")
done
diag "options in --help: $(tr '\n' ' ' <<<"$opts")"
check_eq "the man page describes every option --help lists" "" "${missing[*]}"

if command -v systemd-analyze >/dev/null; then
	mkdir -p "$TMPD/units"
	cp /lib/systemd/system/azblobfs@.service "$TMPD/units/azblobfs@blob.service"
	cp /usr/share/doc/azblobfs/examples/mnt-blob.mount "$TMPD/units/mnt-blob.mount"
	check_quiet "systemd-analyze verify accepts azblobfs@.service (as azblobfs@blob)" \
		systemd-analyze verify "$TMPD/units/azblobfs@blob.service"
	check_quiet "systemd-analyze verify accepts mnt-blob.mount" \
		systemd-analyze verify "$TMPD/units/mnt-blob.mount"
else
	skip "systemd-analyze verify accepts the units" "systemd-analyze is not installed"
fi

# ---------------------------------------------------------------- seed, config

C=$CONTAINER
printf 'hello from azblobfs, mounted through mount(8)\n' >"$TMPD/hello"
seed put "$C" docs/hello.txt "$TMPD/hello"
seed put-random "$C" data/random.bin 3145728 --seed packaging
want_small=$(blobtool sha256 "$C" docs/hello.txt) || bail "sha256 of docs/hello.txt through the SDK"
want_big=$(blobtool sha256 "$C" data/random.bin) || bail "sha256 of data/random.bin through the SDK"

CONF=$TEST_DIR/blob.conf
old_umask=$(umask)
umask 077
cat >"$CONF" <<EOF
# written by t_packaging.sh
account = $AZ_ACCOUNT
endpoint = $AZ_ENDPOINT
account_key = $AZ_KEY
cache_dir = $TEST_DIR/staging
EOF
umask "$old_umask"
chmod 600 "$CONF"
SOURCE=$AZ_ACCOUNT/$C

# mount8 ARGS...: mount(8) with no AZURE_STORAGE_* in its environment, so
# that only the config file can supply credentials. Output in mount8.out.
mount8() {
	env -u AZURE_STORAGE_CONNECTION_STRING -u AZURE_STORAGE_ACCOUNT -u AZURE_STORAGE_KEY \
		-u AZURE_STORAGE_SAS_TOKEN timeout -k 5 "$MOUNT_TIMEOUT" mount "$@" >"$TEST_DIR/mount8.out" 2>&1
}

# reads_ok LABEL MNT: the seeded blobs read through MNT as the SDK sees them.
reads_ok() {
	check_eq "$1: a seeded blob reads as the service holds it" "$want_small" \
		"$(sha256sum <"$2/docs/hello.txt" | awk '{ print $1 }')"
	check_eq "$1: a 3 MiB seeded blob reads as the service holds it" "$want_big" \
		"$(sha256sum <"$2/data/random.bin" | awk '{ print $1 }')"
}

# served_by_package MNT: the daemon serving MNT is /usr/bin/azblobfs.
# mount.fuse3 runs "azblobfs" through sh's PATH, in which /usr/local/bin
# comes first: an azblobfs there (ninja install) would shadow the package's.
served_by_package() {
	local d exe
	[[ -n $(daemon_pids "$1") ]] && return 0
	echo "no /usr/bin/azblobfs process serves $1; azblobfs processes:"
	for d in /proc/[0-9]*; do
		exe=$(readlink -- "$d/exe" 2>/dev/null) || continue
		[[ $(basename -- "${exe% (deleted)}") == azblobfs ]] &&
			echo "  pid ${d#/proc/}: $exe $(tr '\0' ' ' <"$d/cmdline" 2>/dev/null | cut -c1-200)"
	done
	return 1
}

not_mounted() { ! in_mountinfo "$1"; }
no_daemon() { [[ -z $(daemon_pids "$1") ]]; }

# umount8 MNT: umount(8), as systemd does; one check that the daemon exits.
umount8() {
	local mnt=$1
	if umount -- "$mnt" >"$TEST_DIR/umount.out" 2>&1 &&
		wait_until "$UNMOUNT_TIMEOUT" not_mounted "$mnt" &&
		wait_until "$UNMOUNT_TIMEOUT" no_daemon "$mnt"; then
		pass "umount $(basename "$mnt"): the mount is gone and the daemon exits"
	else
		fail "umount $(basename "$mnt"): the mount is gone and the daemon exits" \
			"$(cat "$TEST_DIR/umount.out")" "daemons left: $(daemon_pids "$mnt" | tr '\n' ' ')"
	fi
}

# ---------------------------------------------------------------- mount -t

MOUNTS_USED[$MNT]=1
if mount8 -t fuse.azblobfs "$SOURCE" "$MNT" -o "config=$CONF"; then
	pass "mount -t fuse.azblobfs SOURCE MNT -o config=FILE mounts"
	check_eq "mount -t: the mount table shows type fuse.azblobfs and the source" \
		"fuse.azblobfs $SOURCE" "$(findmnt -n -o FSTYPE,SOURCE -- "$MNT" | awk '{ print $1, $2 }')"
	check "mount -t: the daemon is the installed /usr/bin/azblobfs" served_by_package "$MNT"
	reads_ok "mount -t" "$MNT"
	printf 'written through mount -t\n' >"$TMPD/w"
	if cp "$TMPD/w" "$MNT/written.txt"; then
		check_eq "mount -t: a file written through the mount is on the service" \
			"$(cat "$TMPD/w")" "$(blobtool get "$C" written.txt 2>&1)"
	else
		fail "mount -t: a file written through the mount is on the service" "cp failed"
	fi
	umount8 "$MNT"
else
	fail "mount -t fuse.azblobfs SOURCE MNT -o config=FILE mounts" "$(cat "$TEST_DIR/mount8.out")"
	diag_file "$DAEMON_LOG"
fi

# ---------------------------------------------------------------- /etc/fstab

MNT2=$TEST_DIR/mnt-fstab
mkdir -p -- "$MNT2"
MOUNTS_USED[$MNT2]=1
if [[ -e $FSTAB ]]; then
	cp -p -- "$FSTAB" "$TEST_DIR/fstab.orig" || bail "save $FSTAB"
	FSTAB_SAVED=$TEST_DIR/fstab.orig
else
	FSTAB_SAVED=none
fi
# fstab(5) fields are blank-separated: octal-escape blanks in the path.
fstab_mnt=$(sed 's/ /\\040/g; s/\t/\\011/g' <<<"$MNT2")
line="$SOURCE $fstab_mnt fuse.azblobfs ro,noauto,nofail,_netdev,x-systemd.automount,x-systemd.mount-timeout=30,comment=t_packaging,config=$CONF 0 0"
printf '%s\n' "$line" >>"$FSTAB"
diag "fstab line: $line"
mount8 "$MNT2"
rc=$?
restore_fstab
if [[ $FSTAB_SAVED == "" && -e $TEST_DIR/fstab.orig ]]; then
	check "/etc/fstab is restored byte for byte" cmp -- "$TEST_DIR/fstab.orig" "$FSTAB"
fi
if ((rc == 0)); then
	pass "an /etc/fstab line with _netdev, nofail, noauto, x-systemd.*, comment= mounts with 'mount MNT'"
	check "fstab: the daemon is the installed /usr/bin/azblobfs" served_by_package "$MNT2"
	case ",$(mount_opts "$MNT2")," in
	*,ro,*) pass "fstab: ro from the fstab line reaches the mount" ;;
	*) fail "fstab: ro from the fstab line reaches the mount" "options: $(mount_opts "$MNT2")" ;;
	esac
	reads_ok "fstab" "$MNT2"
	check_eq "fstab: the file written through mount -t reads back" \
		"$(cat "$TMPD/w")" "$(cat "$MNT2/written.txt" 2>&1)"
	check_fail_errno "fstab: the read-only mount refuses writes" EROFS \
		sh -c "echo x >'$MNT2/nope.txt'"
	unmount_fs "$MNT2"
else
	fail "an /etc/fstab line with _netdev, nofail, noauto, x-systemd.*, comment= mounts with 'mount MNT'" \
		"mount exit status $rc" "$(cat "$TEST_DIR/mount8.out")"
fi

# ---------------------------------------------------------------- environment

# mount(8) run by root hands the caller's environment to mount.fuse3 and
# azblobfs (the man page says so); boot-time mounts have none.
if timeout -k 5 "$MOUNT_TIMEOUT" mount -t fuse.azblobfs "$C" "$MNT" >"$TEST_DIR/mount8.out" 2>&1; then
	pass "mount -t with credentials only in AZURE_STORAGE_CONNECTION_STRING mounts"
	check_eq "environment: a seeded blob reads" "$(cat "$TMPD/hello")" "$(cat "$MNT/docs/hello.txt" 2>&1)"
	unmount_fs "$MNT"
else
	fail "mount -t with credentials only in AZURE_STORAGE_CONNECTION_STRING mounts" "$(cat "$TEST_DIR/mount8.out")"
fi

# ---------------------------------------------------------------- the service

# unit_cmd KEY: the unit's KEY= command line with %i and the two
# environment variables expanded, as systemd would run it.
unit_cmd() {
	sed -n "s/^$1=//p" /lib/systemd/system/azblobfs@.service | head -n 1 |
		sed -e "s|%i|$INST|g" -e "s|\${AZBLOBFS_SOURCE}|$SOURCE|g" -e "s|\${AZBLOBFS_MOUNTPOINT}|$MNT3|g"
}

# notify_has STATE: the listener got a datagram holding STATE.
notify_has() { grep -q -- "$1" "$TEST_DIR/notify.out"; }

# start_unit: ExecStartPre, then ExecStart in the background under the
# unit's restrictions (CapabilityBoundingSet=CAP_SYS_ADMIN, NoNewPrivileges)
# with NOTIFY_SOCKET set, like systemd. Sets UNIT_PID.
start_unit() {
	local pre start
	read -ra pre <<<"$(unit_cmd ExecStartPre)"
	read -ra start <<<"$(unit_cmd ExecStart)"
	"${pre[@]}" || return 1
	: >"$TEST_DIR/notify.out"
	printf '=== %s unit: %s\n' "$(date +%T.%N)" "${start[*]}" >>"$DAEMON_LOG"
	env -u AZURE_STORAGE_CONNECTION_STRING NOTIFY_SOCKET="$TEST_DIR/notify.sock" \
		setpriv --bounding-set -all,+sys_admin --inh-caps -all --no-new-privs -- \
		"${start[@]}" >>"$DAEMON_LOG" 2>&1 </dev/null &
	UNIT_PID=$!
	OWN_PIDS+=("$UNIT_PID")
}

INST=it-pkg-$$
MNT3=$TEST_DIR/mnt-unit
MOUNTS_USED[$MNT3]=1
if ! command -v setpriv >/dev/null; then
	skip "azblobfs@.service's command lines work as the unit runs them" "setpriv is not installed"
else
	[[ -d /etc/azblobfs ]] || { mkdir -m 755 /etc/azblobfs && ETC_DIR_MADE=1; }
	ETC_CONF=/etc/azblobfs/$INST.conf
	install -m 600 "$CONF" "$ETC_CONF"
	# The listener stands in for systemd: one line per datagram.
	perl -MIO::Socket::UNIX -MSocket -MIO::Handle -e '
		my ($path, $out) = @ARGV;
		unlink $path;
		my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $path) or die "bind $path: $!\n";
		open(my $fh, ">>", $out) or die "$out: $!\n";
		$fh->autoflush(1);
		while (defined $s->recv(my $m, 4096)) { $m =~ s/\n/ /g; print $fh "$m\n"; }' \
		"$TEST_DIR/notify.sock" "$TEST_DIR/notify.out" 2>>"$DAEMON_LOG" &
	OWN_PIDS+=("$!")
	wait_until 20 test -S "$TEST_DIR/notify.sock" || bail "start the NOTIFY_SOCKET listener"

	start_unit
	if wait_until "$MOUNT_TIMEOUT" notify_has READY=1; then
		live=no
		in_mountinfo "$MNT3" && live=yes
		pass "the unit's ExecStart sends READY=1 (Type=notify)"
		check_eq "when READY=1 arrives the mount is live" yes "$live"
		check "the unit's mount is served by /usr/bin/azblobfs" served_by_package "$MNT3"
		reads_ok "unit" "$MNT3"
		read -ra stop <<<"$(unit_cmd ExecStop | sed 's/^-//')"
		check "the unit's ExecStop (${stop[*]}) unmounts" "${stop[@]}"
		if wait_until "$UNMOUNT_TIMEOUT" not_mounted "$MNT3" && wait_until "$UNMOUNT_TIMEOUT" no_daemon "$MNT3"; then
			wait "$UNIT_PID"
			check_eq "after ExecStop the daemon exits with status 0" 0 "$?"
		else
			fail "after ExecStop the mount is gone and the daemon exits"
		fi
		check "the daemon sent STOPPING=1" notify_has STOPPING=1
	else
		fail "the unit's ExecStart sends READY=1 (Type=notify)" "notifications: $(cat "$TEST_DIR/notify.out")"
		diag_file "$DAEMON_LOG"
	fi

	# auto_unmount: a daemon that dies leaves no dead mount behind, so that
	# Restart=on-failure can mount again.
	start_unit
	if wait_until "$MOUNT_TIMEOUT" notify_has READY=1; then
		kill -KILL "$UNIT_PID"
		wait "$UNIT_PID" 2>/dev/null
		check "after the daemon is killed the mount goes away (auto_unmount)" \
			wait_until "$UNMOUNT_TIMEOUT" not_mounted "$MNT3"
		start_unit
		check "and the unit starts again (Restart=on-failure)" wait_until "$MOUNT_TIMEOUT" notify_has READY=1
		kill -TERM "$UNIT_PID"
		check "SIGTERM (systemctl stop without ExecStop) unmounts" \
			wait_until "$UNMOUNT_TIMEOUT" not_mounted "$MNT3"
		wait "$UNIT_PID"
		check_eq "and the daemon exits with status 0" 0 "$?"
	else
		fail "the unit starts a second time" "notifications: $(cat "$TEST_DIR/notify.out")"
	fi
	remove_etc_conf
fi

# ---------------------------------------------------------------- refusals

chmod 640 "$CONF"
mount8 -t fuse.azblobfs "$SOURCE" "$MNT" -o "config=$CONF"
rc=$?
check_int "mount -t with a group-readable config holding a key fails" "$rc" -ne 0
check "and says to chmod 600 it" grep -q 'chmod 600' "$TEST_DIR/mount8.out"
check_fail "and leaves nothing mounted" in_mountinfo "$MNT"
chmod 600 "$CONF"

mount8 -t fuse.azblobfs "$SOURCE" "$MNT" -o "config=$CONF,no_such_option"
rc=$?
check_int "mount -t with an unknown option fails" "$rc" -ne 0
check "and names the option" grep -q "no_such_option" "$TEST_DIR/mount8.out"
check_fail "and leaves nothing mounted" in_mountinfo "$MNT"

# ---------------------------------------------------------------- removal

if ((PKG_INSTALLED_BY_US)); then
	_cleanup
	if remove_package && [[ ! -e /usr/bin/azblobfs ]]; then
		pass "dpkg --purge removes the package"
	else
		fail "dpkg --purge removes the package"
		diag_file "$TEST_DIR/dpkg-purge.log"
	fi
fi

done_testing
