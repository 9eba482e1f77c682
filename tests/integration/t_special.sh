#!/bin/bash
# t_special.sh - FIFOs, sockets and device nodes, directory times, ctime
# and directory link counts.
# A FIFO, a UNIX socket and character/block devices made through the mount
# show their type (and device number) in stat, a FIFO carries data between
# two processes, and each can be renamed, chmod'ed, chown'ed and removed.
# Through the SDK each is a 0-byte blob whose metadata says file_type (and
# rdev); a fresh mount shows them again. Creating, removing and renaming
# names raise their directory's mtime, chmod raises a file's ctime, a
# listed directory with 3 subdirectories has st_nlink 5, and find sees
# every directory the service has.
. "$(dirname "$0")/lib.sh"

C=$CONTAINER
mount_fs "$C" || bail "mount"

# ---- special files ----
check "mkfifo" mkfifo -- "$MNT/fifo"
check "mknod c 1 3" mknod -- "$MNT/chr" c 1 3
check "mknod b 7 0" mknod -- "$MNT/blk" b 7 0
check "bind a UNIX socket" python3 -c \
	'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$MNT/sock"

check_specials() {
	local when=$1
	check_eq "$when: the FIFO is a FIFO" "fifo" "$(stat -c %F -- "$MNT/fifo" 2>&1)"
	check_eq "$when: the socket is a socket" "socket" "$(stat -c %F -- "$MNT/sock" 2>&1)"
	check_eq "$when: the character device and its number" "character special file 1 3" \
		"$(stat -c '%F %t %T' -- "$MNT/chr" 2>&1)"
	check_eq "$when: the block device and its number" "block special file 7 0" \
		"$(stat -c '%F %t %T' -- "$MNT/blk" 2>&1)"
}
check_specials "through the mount"

# The kernel serves the FIFO: data goes from a writer to a reader.
timeout 20 cat -- "$MNT/fifo" >"$TMPD/from_fifo" &
reader=$!
check "a writer writes into the FIFO" timeout 20 sh -c "printf 'through the pipe' >'$MNT/fifo'"
wait "$reader"
check_eq "and a reader reads it" "through the pipe" "$(cat -- "$TMPD/from_fifo")"
check_eq "the FIFO's blob is still empty" 0 "$(json_get size "$(blobtool props "$C" fifo)")"
# A device opens only on a dev mount (FUSE mounts are nodev): never as a blob.
check_fail "opening the character device through a nodev mount fails" cat -- "$MNT/chr"

# On the service: 0-byte blobs with their type in metadata.
for x in fifo:fifo sock:socket chr:char blk:block; do
	name=${x%%:*} type=${x#*:}
	props=$(blobtool props "$C" "$name")
	check_eq "$name is a 0-byte blob" 0 "$(json_get size "$props")"
	check_eq "$name has file_type=$type" "$type" "$(json_get metadata.file_type "$props" 2>&1)"
done
check_eq "the character device's rdev (makedev(1, 3))" 259 \
	"$(json_get metadata.rdev "$(blobtool props "$C" chr)" 2>&1)"
check_eq "the block device's rdev (makedev(7, 0))" 1792 \
	"$(json_get metadata.rdev "$(blobtool props "$C" blk)" 2>&1)"

remount_fs || bail "remount"
check_specials "after a remount"

# They are blobs: rename, chmod, chown, unlink work.
check "rename the FIFO" mv -- "$MNT/fifo" "$MNT/fifo2"
check_eq "the renamed FIFO is a FIFO" "fifo" "$(stat -c %F -- "$MNT/fifo2" 2>&1)"
check_eq "on the service: the old name is gone" false "$(blobtool exists "$C" fifo)"
check_eq "the new name keeps its type" fifo "$(json_get metadata.file_type "$(blobtool props "$C" fifo2)" 2>&1)"
check "chmod the socket" chmod 0604 -- "$MNT/sock"
check_eq "its mode" "604 socket" "$(stat -c '%a %F' -- "$MNT/sock" 2>&1)"
check "chown the block device" chown 1234:567 -- "$MNT/blk"
check_eq "its owner" "1234 567 block special file" "$(stat -c '%u %g %F' -- "$MNT/blk" 2>&1)"
props=$(blobtool props "$C" blk)
check_eq "on the service: owner, type and rdev" "1234 567 block 1792" \
	"$(json_get metadata.uid "$props") $(json_get metadata.gid "$props") $(json_get metadata.file_type "$props") $(json_get metadata.rdev "$props")"
check "touch -d the character device" touch -d '2002-02-02 00:00:00 UTC' -- "$MNT/chr"
check_eq "its mtime" 1012608000 "$(stat -c %Y -- "$MNT/chr")"
check_fail_errno "a hard link is still refused" EPERM ln -- "$MNT/chr" "$MNT/chr.link"
for name in fifo2 sock chr blk; do
	check "unlink $name" rm -- "$MNT/$name"
	check_eq "$name is gone from the service" false "$(blobtool exists "$C" "$name")"
done

# ---- directory times ----
mkdir -- "$MNT/d" || bail "mkdir d"
old() { touch -d '2001-01-01 00:00:00 UTC' -- "$MNT/d"; }
raised() { # NAME CMD...: CMD inside d raises d's mtime from 2001 to now
	local name=$1
	shift
	old
	before=$(date +%s)
	check "$name" "$@"
	check_int "$name raises the directory's mtime" "$(stat -c %Y -- "$MNT/d")" -ge "$before"
}
raised "mkdir inside" mkdir -- "$MNT/d/sub"
raised "create inside" touch -- "$MNT/d/f"
raised "rename inside" mv -- "$MNT/d/sub" "$MNT/d/sub2"
raised "unlink inside" rm -- "$MNT/d/f"
raised "rmdir inside" rmdir -- "$MNT/d/sub2"
raised "mkfifo inside" mkfifo -- "$MNT/d/p"
check_int "and its ctime" "$(stat -c %Z -- "$MNT/d")" -ge "$before"

printf 'x' >"$MNT/file" && touch -d '2001-01-01 00:00:00 UTC' -- "$MNT/file"
before=$(date +%s)
check "chmod a file" chmod 0600 -- "$MNT/file"
check_int "chmod raises its ctime" "$(stat -c %Z -- "$MNT/file")" -ge "$before"
check_eq "but not its mtime" 978307200 "$(stat -c %Y -- "$MNT/file")"

# ---- link counts ----
mkdir -p -- "$MNT/n/a" "$MNT/n/b" "$MNT/n/c/deeper" && printf 'f' >"$MNT/n/file" || bail "make n"
nlink_is() { [[ $(stat -c %h -- "$1") == "$2" ]]; }
ls -- "$MNT/n" >/dev/null
check "a listed directory with 3 subdirectories has st_nlink 5" wait_until 5 nlink_is "$MNT/n" 5
check_eq "readdirplus and getattr agree" 5 "$(stat -c %h -- "$MNT/n")"

# find over a tree the SDK made: every directory, at every depth.
for b in t/a/1 t/a/b/2 t/a/b/c/3 t/a/b/c/d/4 t/e/5 t/e/f/6 t/e/g/7 t/h/i/j/8 t/k/9; do
	seed put "$C" "$b"
done
for d in t t/a t/a/b t/e; do ls -- "$MNT/$d" >/dev/null; done # counts known for some
expected=$(blobtool list "$C" --prefix t/ --lines | awk -F/ '{ p = $1; for (i = 2; i < NF; i++) { p = p "/" $i; print p } }' | LC_ALL=C sort -u)
check_eq "find sees every directory the service has" "$expected" \
	"$(cd -- "$MNT" && find t -mindepth 1 -type d | LC_ALL=C sort)"

unmount_fs
done_testing
