#!/bin/bash
# t_read_tree.sh - a seeded tree read through the mount with ordinary tools
# (ls, stat, find, cat, head, tail, wc, df). Names, types, sizes, mtimes and
# bytes must equal what the SDK (blobtool) sees.
. "$(dirname "$0")/lib.sh"

C=$CONTAINER
printf 'hello world\n' >"$TMPD/hello.txt"
seq 1 20000 >"$TMPD/numbers.txt"
for i in $(seq 1 50); do echo "line $i of the readme"; done >"$TMPD/readme.md"
printf 'intro\n' >"$TMPD/intro.txt"
printf 'deep\n' >"$TMPD/deep.txt"
seed_add "$C" hello.txt "$TMPD/hello.txt"
seed_add "$C" data/numbers.txt "$TMPD/numbers.txt"
seed_add "$C" docs/readme.md "$TMPD/readme.md"
seed_add "$C" docs/guides/intro.txt "$TMPD/intro.txt"
seed_add "$C" docs/guides/advanced/deep.txt "$TMPD/deep.txt"
seed_add "$C" empty.txt
seed_flush
# Not a multiple of any block or page size, so the last range is partial.
seed put-random "$C" bin/blob.bin 3145851 --seed read-tree

names=$(blobtool list "$C" --lines | LC_ALL=C sort) || bail "list through the SDK"
top=$(blobtool list "$C" --delimiter / --lines | sed 's|/$||' | LC_ALL=C sort) || bail "list through the SDK"
# Every proper prefix of a blob name is a directory.
dirs=$(printf '%s\n' "$names" | awk -F/ '{ p = $1; for (i = 1; i < NF; i++) { print p; p = p "/" $(i + 1) } }' | LC_ALL=C sort -u)

mount_fs "$C" || bail "mount $C"

check_eq "the mount root is a directory" directory "$(stat -c %F -- "$MNT")"
check_eq "ls of the root shows the top-level names of the SDK's listing" \
	"$top" "$(LC_ALL=C ls -1 -- "$MNT")"
check "ls -lR over the tree succeeds" ls -lR -- "$MNT"
check "find over the tree succeeds" find "$MNT"
check_eq "find -type f lists exactly the blobs" \
	"$names" "$(cd "$MNT" && find . -type f -printf '%P\n' | LC_ALL=C sort)"
check_eq "find -type d lists exactly the virtual folders" \
	"$dirs" "$(cd "$MNT" && find . -mindepth 1 -type d -printf '%P\n' | LC_ALL=C sort)"

while IFS= read -r d; do
	check_eq "stat: $d is a directory" directory "$(stat -c %F -- "$MNT/$d")"
done <<<"$dirs"

while IFS= read -r n; do
	props=$(blobtool props "$C" "$n") || { fail "props of $n through the SDK"; continue; }
	size=$(json_get size "$props")
	check_eq "stat: $n is a regular file" regular "$(stat -c %F -- "$MNT/$n" | awk '{ print $1 }')"
	check_eq "stat: size of $n equals the blob's" "$size" "$(stat -c %s -- "$MNT/$n")"
	check_eq "stat: mtime of $n equals the blob's Last-Modified" \
		"$(json_get lastModified "$props")" "$(stat -c %Y -- "$MNT/$n")"
	blobtool get "$C" "$n" >"$TMPD/sdk.bin" || { fail "get $n through the SDK"; continue; }
	# shellcheck disable=SC2016 # expanded by sh
	check "cat $n" sh -c 'cat -- "$1" >"$2"' _ "$MNT/$n" "$TMPD/mount.bin"
	check_file_eq "cat: bytes of $n equal the SDK's" "$TMPD/sdk.bin" "$TMPD/mount.bin"
	check_eq "wc -c of $n equals the blob's size" "$size" "$(wc -c <"$MNT/$n")"
done <<<"$names"

check_eq "cat hello.txt" "hello world" "$(cat "$MNT/hello.txt")"
check_eq "head -n 5 of data/numbers.txt" "$(seq 1 5)" "$(head -n 5 "$MNT/data/numbers.txt")"
check_eq "tail -n 3 of data/numbers.txt" "$(seq 19998 20000)" "$(tail -n 3 "$MNT/data/numbers.txt")"
check_eq "wc -l of data/numbers.txt" 20000 "$(wc -l <"$MNT/data/numbers.txt")"
check_eq "grep finds a line in the middle" 12345 "$(grep -x 12345 "$MNT/data/numbers.txt")"

blobtool get "$C" bin/blob.bin --count 1000 >"$TMPD/head.sdk"
head -c 1000 "$MNT/bin/blob.bin" >"$TMPD/head.mnt"
check_file_eq "head -c 1000 of bin/blob.bin equals the SDK's range" "$TMPD/head.sdk" "$TMPD/head.mnt"
blobtool get "$C" bin/blob.bin --offset $((3145851 - 777)) >"$TMPD/tail.sdk"
tail -c 777 "$MNT/bin/blob.bin" >"$TMPD/tail.mnt"
check_file_eq "tail -c 777 of bin/blob.bin equals the SDK's range" "$TMPD/tail.sdk" "$TMPD/tail.mnt"

check_fail_errno "stat of a missing name gives ENOENT" ENOENT stat -- "$MNT/no-such-file"
check_fail_errno "ls of a missing directory gives ENOENT" ENOENT ls -- "$MNT/docs/no-such-dir"
check_fail_errno "cat of a directory gives EISDIR" EISDIR cat -- "$MNT/docs"
check_fail_errno "a file used as a directory gives ENOTDIR" ENOTDIR stat -- "$MNT/hello.txt/x"
check "statfs (stat -f) answers" stat -f -- "$MNT"
check "df answers" df -- "$MNT"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
check_fail_errno "without allow_other another user cannot even stat the mount" EACCES \
	as_nobody stat -- "$MNT/hello.txt"
unmount_fs

# ---- ownership and permissions of names without POSIX metadata ----
mount_fs "uid=1234,gid=2345,umask=027,allow_other" "$C" || bail "mount with uid, gid, umask"
check_eq "uid= and gid= own the files" "1234:2345" "$(stat -c %u:%g -- "$MNT/hello.txt")"
check_eq "and the folders" "1234:2345" "$(stat -c %u:%g -- "$MNT/docs")"
check_eq "umask=027 gives files mode 640" 640 "$(stat -c %a -- "$MNT/hello.txt")"
check_eq "and folders mode 750" 750 "$(stat -c %a -- "$MNT/docs")"
# allow_other turns on the kernel's mode checks (default_permissions).
check_fail_errno "with allow_other another user cannot read a file of mode 640" EACCES \
	as_nobody cat -- "$MNT/hello.txt"
unmount_fs
mount_fs "allow_other" "$C" || bail "mount with allow_other"
check_eq "with allow_other another user reads a file of mode 644" "hello world" \
	"$(as_nobody cat -- "$MNT/hello.txt" 2>&1)"
check_fail_errno "but cannot create a file in root's 755 root folder" EACCES \
	as_nobody touch -- "$MNT/nobody-was-here"
check_fail_errno "nor delete root's file" EACCES as_nobody rm -f -- "$MNT/hello.txt"
check "hello.txt is still on the service" test "$(blobtool exists "$C" hello.txt)" = true
unmount_fs
# Only an explicit no_default_permissions lets everyone past the modes, and says so.
mount_fs "uid=1234,gid=2345,umask=027,allow_other,no_default_permissions" "$C" ||
	bail "mount with no_default_permissions"
check_eq "with no_default_permissions another user reads a file of mode 640" "hello world" \
	"$(as_nobody cat -- "$MNT/hello.txt" 2>&1)"
check "and the daemon warned about it at mount" grep -q "no permission checks" "$DAEMON_LOG"
unmount_fs
done_testing
