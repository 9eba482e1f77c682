#!/bin/bash
# t_perms.sh - other users do not get past the modes on a shared mount.
# Mounted with -o allow_other alone (which turns on default_permissions),
# uid 65534 (through setpriv) tries what a local filesystem refuses it:
# reading root's 0600 file, creating in root's 0755 folder, renaming and
# deleting root's files, deleting another user's file in a sticky folder,
# setting explicit times on a file it may only write. What it may do works:
# reading a 0644 file, writing a 0666 file (which clears set-user-ID, also
# on the service), touching a 0666 file to "now", its own files in a sticky
# folder. The service is checked through the SDK.
. "$(dirname "$0")/lib.sh"

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
C=$CONTAINER
mount_fs "allow_other" "$C" || bail "mount with allow_other"
chmod 0755 "$MNT" || bail "chmod the root"
printf 'secret' >"$MNT/secret" && chmod 0600 "$MNT/secret"
printf 'public' >"$MNT/public" && chmod 0644 "$MNT/public"
printf 'shared' >"$MNT/shared" && chmod 04666 "$MNT/shared"
mkdir -m 0755 "$MNT/rootdir"
mkdir "$MNT/tmp" && chmod 1777 "$MNT/tmp"
printf 'root' >"$MNT/tmp/rootfile" && chmod 0666 "$MNT/tmp/rootfile"

check_fail_errno "another user cannot read root's 0600 file" EACCES as_nobody cat -- "$MNT/secret"
check_eq "another user reads a 0644 file" public "$(as_nobody cat -- "$MNT/public" 2>&1)"
check_fail_errno "nor create in root's 0755 folder" EACCES as_nobody touch -- "$MNT/rootdir/x"
check_fail_errno "nor rename root's file" EACCES as_nobody mv -- "$MNT/public" "$MNT/public2"
check_fail_errno "nor delete it" EACCES as_nobody rm -f -- "$MNT/public"
check_fail_errno "nor chmod it" EPERM as_nobody chmod 0777 -- "$MNT/public"
check_eq "root's files are still on the service" "true true" \
	"$(blobtool exists "$C" public) $(blobtool exists "$C" secret)"

# Sticky folder: only the owner of the file (or the folder, or root) removes it.
check "another user creates its own file in a sticky folder" as_nobody sh -c "echo mine >'$MNT/tmp/nobodyfile'"
check_fail_errno "but cannot delete root's file there" EPERM as_nobody rm -f -- "$MNT/tmp/rootfile"
check_fail_errno "nor rename it" EPERM as_nobody mv -- "$MNT/tmp/rootfile" "$MNT/tmp/stolen"
check "it deletes its own file there" as_nobody rm -- "$MNT/tmp/nobodyfile"
check_eq "root's file in the sticky folder is still on the service" true "$(blobtool exists "$C" tmp/rootfile)"

# A write by another user clears set-user-ID (a 04666 file stays writable by it).
check "another user appends to a 04666 file" as_nobody sh -c "echo more >>'$MNT/shared'"
check_eq "the write cleared set-user-ID" 666 "$(stat -c %a -- "$MNT/shared")"
check_eq "on the service too (mode metadata)" 0666 "$(json_get metadata.mode "$(blobtool props "$C" shared)" 2>/dev/null)"

# utimensat: "now" for anyone who may write, explicit times for the owner only.
check "another user who may write sets the times to now" as_nobody touch -- "$MNT/tmp/rootfile"
check_fail_errno "but not to an explicit time" EPERM as_nobody touch -d '2001-01-01' -- "$MNT/tmp/rootfile"
check "root sets an explicit time" touch -d '2001-01-01 00:00:00 UTC' -- "$MNT/tmp/rootfile"
check_eq "and it holds" 978307200 "$(stat -c %Y -- "$MNT/tmp/rootfile")"
unmount_fs
done_testing
