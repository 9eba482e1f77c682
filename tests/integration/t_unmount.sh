#!/bin/bash
# t_unmount.sh - daemon mode: without -f the command returns only once the
# mount is live (exit 0), the daemon runs detached in its own session, and
# fusermount3 -u leaves no azblobfs process for the mountpoint. Foreground
# mode: fusermount3 -u makes the daemon exit with status 0. A busy unmount
# that fails leaves the mount and the daemon working.
. "$(dirname "$0")/lib.sh"

C=$CONTAINER
printf 'x\n' >"$TMPD/x"
seed put "$C" file.txt "$TMPD/x"

# --- daemon mode
mount_fs_daemon "$C"
rc=$?
# No polling here: the mount must be live when the command has returned.
if in_mountinfo "$MNT"; then live=yes; else live=no; fi
check_eq "without -f azblobfs exits 0 once mounted" 0 "$rc"
[[ $rc == 0 ]] || diag_file "$TEST_DIR/daemon-cmd.err"
check_eq "when the command returns, the mount is already in the mount table" yes "$live"
check_eq "and it serves files" x "$(timeout 20 cat "$MNT/file.txt")"
pids=$(daemon_pids "$MNT")
check_eq "exactly one azblobfs process serves the mount" 1 "$(wc -w <<<"$pids")"
pid=$(head -n 1 <<<"$pids")
if [[ -n $pid ]]; then
	check_ne "the daemon runs in its own session (detached)" \
		"$(ps -o sid= -p $$ | tr -d ' ')" "$(ps -o sid= -p "$pid" | tr -d ' ')"
fi
unmount_fs
check_eq "after fusermount3 -u no azblobfs process serves the mountpoint" "" "$(daemon_pids "$MNT")"
if [[ -n $pid ]]; then
	check_fail "the daemon (pid $pid) has exited" pid_alive "$pid"
fi
check_fail "the mountpoint is no longer mounted" in_mountinfo "$MNT"

# --- foreground mode, with a busy unmount first
mount_fs "$C" || bail "mount $C with -f"
fgpid=$DAEMON_PID
exec 3<"$MNT/file.txt"
check_fail "fusermount3 -u fails while a file is open" fusermount3 -u "$MNT"
check "the mount still works after the refused unmount" in_mountinfo "$MNT"
check_eq "and still reads" x "$(timeout 20 cat "$MNT/file.txt")"
check "the daemon still runs" pid_alive "$fgpid"
exec 3<&-
unmount_fs
check_fail "the foreground daemon (pid $fgpid) has exited" pid_alive "$fgpid"
check_eq "no azblobfs process serves the mountpoint" "" "$(daemon_pids "$MNT")"

done_testing
