#!/bin/bash
# t_write_namespace.sh - namespace changes through a real mount, each checked
# through the SDK: mkdir (marker blob with hdi_isfolder=true), rmdir
# (ENOTEMPTY when not empty), unlink (also of an open file), rename of files
# (over an existing file, RENAME_NOREPLACE, RENAME_EXCHANGE refused, onto a
# directory refused) and of directories with nested content, renames failing
# midway (a leased original) reported without losing a blob, rename of a file
# still open for writing (log rotation), symlink and
# readlink (is_symlink=true, target as content), hard links refused with
# EPERM, ENAMETOOLONG for a 256-byte component and for a blob
# name over 1,024 characters, chmod/chown/touch -d kept in metadata and shown
# by stat here and on a fresh mount, user.* xattrs in metadata.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/write_lib.sh"

C=$CONTAINER
T0=$(($(date +%s) - 2))
# A folder that exists only as a prefix (no marker), made through the SDK
# before the mount first lists the root (the mount's own changes keep its
# cached listings fresh, so a name added elsewhere later would only show
# after the listing TTL).
seed put "$C" pfx/only.txt
mount_fs "cache_dir=$TEST_DIR/stage" "$C" || bail "mount $C read-write"

# ---------------------------------------------------------------- mkdir / rmdir
check "mkdir d1" mkdir "$MNT/d1"
check_eq "d1 is a 0-byte marker blob on the service" 0 "$(blob_prop d1 size)"
check_eq "d1's marker has metadata hdi_isfolder=true" true "$(blob_meta d1 hdi_isfolder)"
check_eq "stat shows d1 as a directory" directory "$(stat -c %F "$MNT/d1")"
check_eq "mkdir of an existing directory gives EEXIST" EEXIST "$(errno_of mkdir "$MNT/d1")"
check "mkdir -p a/b/c" mkdir -p "$MNT/a/b/c"
check_eq "a, a/b and a/b/c are folder markers on the service" "true true true" \
	"$(blob_meta a hdi_isfolder) $(blob_meta a/b hdi_isfolder) $(blob_meta a/b/c hdi_isfolder)"
check_eq "rmdir of a non-empty directory gives ENOTEMPTY" ENOTEMPTY "$(errno_of rmdir "$MNT/a")"
check "after ENOTEMPTY the markers of a and a/b are still on the service" \
	blobs_present a a/b
check "rmdir d1" rmdir "$MNT/d1"
check "the SDK no longer finds d1's marker" blob_absent d1
check "the mount no longer lists d1" absent d1 <(listing "$MNT")
check "rmdir a/b/c a/b a" rmdir "$MNT/a/b/c" "$MNT/a/b" "$MNT/a"
check_eq "nothing is left under a on the service" "" "$(blob_names a)"
printf 'x\n' >"$MNT/plain.txt"
check_eq "rmdir of a file gives ENOTDIR" ENOTDIR "$(errno_of rmdir "$MNT/plain.txt")"
mkdir "$MNT/d2"
check_eq "unlink of a directory gives EISDIR" EISDIR "$(errno_of unlink "$MNT/d2")"
check_eq "d2's marker survives the refused unlink" true "$(blob_meta d2 hdi_isfolder)"
check_eq "rmdir of a prefix-only folder with a blob gives ENOTEMPTY" ENOTEMPTY "$(errno_of rmdir "$MNT/pfx")"
check "its blob is still on the service" blob_present pfx/only.txt

# ---------------------------------------------------------------- unlink
printf 'doomed\n' >"$MNT/doomed.txt"
check "rm doomed.txt" rm "$MNT/doomed.txt"
check "the SDK no longer finds doomed.txt" blob_absent doomed.txt
# An open file that is unlinked, written and then closed must not come back.
out=$(pyrun '
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"first\n")
os.fsync(fd)
os.unlink(sys.argv[1])
os.write(fd, b"second\n")
back = os.pread(fd, 100, 0)
os.close(fd)
print(back == b"first\nsecond\n", os.path.exists(sys.argv[1]))
' "$MNT/open-unlinked.txt" 2>&1)
check_eq "an unlinked open file still reads its bytes and its name is gone" "True False" "$out"
check "after close the unlinked file does not reappear on the service" blob_absent open-unlinked.txt

# ---------------------------------------------------------------- rename of files
printf 'source bytes\n' >"$MNT/src.txt"
printf 'old destination, longer than the source\n' >"$MNT/dst.txt"
chmod 600 "$MNT/src.txt"
check "mv src.txt over an existing dst.txt" mv "$MNT/src.txt" "$MNT/dst.txt"
check_blob_text "dst.txt on the service now holds the source's bytes" dst.txt $'source bytes\n'
check "src.txt is gone from the service" blob_absent src.txt
check_eq "the renamed blob keeps the source's mode in metadata" 0600 "$(blob_meta dst.txt mode)"
check_eq "the mount reads dst.txt as the source" "source bytes" "$(cat "$MNT/dst.txt")"
check_eq "the mount no longer has src.txt" "" "$(listing "$MNT" | grep -x src.txt)"

# A file still open for writing is replaced by a rename over its name: its
# later writes and its close go to the replaced file, which is gone; the
# renamed-in content stays on the service.
out=$(pyrun '
import os, sys
mnt = sys.argv[1]
fd = os.open(mnt + "/busy.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"first writer\n")
os.fsync(fd)
with open(mnt + "/incoming.txt", "w") as f:
    f.write("renamed in\n")
os.rename(mnt + "/incoming.txt", mnt + "/busy.txt")
os.write(fd, b"written after the rename\n")
os.fsync(fd)
os.close(fd)
print("finished")
' "$MNT" 2>&1)
check_eq "writes and close of a file replaced by a rename succeed" finished "$out"
check_blob_text "the service keeps the renamed-in content, not the replaced writer's" busy.txt $'renamed in\n'
check_eq "the mount reads the renamed-in content" "renamed in" "$(cat "$MNT/busy.txt")"

printf 'x bytes\n' >"$MNT/x.txt"
printf 'y bytes\n' >"$MNT/y.txt"
etag_x=$(blob_prop x.txt etag)
etag_y=$(blob_prop y.txt etag)
check_eq "renameat2 RENAME_NOREPLACE onto an existing name gives EEXIST" EEXIST "$(errno_of noreplace "$MNT/x.txt" "$MNT/y.txt")"
check_eq "after EEXIST both blobs are unchanged on the service (ETags)" "$etag_x $etag_y" \
	"$(blob_prop x.txt etag) $(blob_prop y.txt etag)"
check_eq "renameat2 RENAME_EXCHANGE gives EINVAL" EINVAL "$(errno_of exchange "$MNT/x.txt" "$MNT/y.txt")"
check_blob_text "after EINVAL x.txt is unchanged on the service" x.txt $'x bytes\n'
check_blob_text "after EINVAL y.txt is unchanged on the service" y.txt $'y bytes\n'
check_eq "renameat2 RENAME_NOREPLACE onto a free name works" OK "$(errno_of noreplace "$MNT/x.txt" "$MNT/z.txt")"
check_blob_text "z.txt on the service holds x's bytes" z.txt $'x bytes\n'
check "x.txt is gone from the service" blob_absent x.txt
check_eq "rename of a file onto a directory gives EISDIR" EISDIR "$(errno_of rename "$MNT/y.txt" "$MNT/d2")"
check_blob_text "after EISDIR y.txt is unchanged on the service" y.txt $'y bytes\n'
check "mv a file into a directory" mv "$MNT/y.txt" "$MNT/d2/"
check_blob_text "d2/y.txt on the service holds y's bytes" d2/y.txt $'y bytes\n'
check "y.txt is gone from the service" blob_absent y.txt

# Log rotation: a file still open for writing is renamed; later writes through
# the open descriptor belong to the renamed file. Once with a small file, once
# after more than one 8 MiB block was streamed.
head -c 5000 /dev/urandom >"$TMPD/rot.tail"
for case in "small 1000" "big $((10 * 1024 * 1024))"; do
	set -- $case
	head -c "$2" /dev/urandom >"$TMPD/rot.head"
	cat "$TMPD/rot.head" "$TMPD/rot.tail" >"$TMPD/rot.want"
	out=$(pyrun '
import errno, os, sys
p, q, head, tail = sys.argv[1:5]
steps = []
try:
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, open(head, "rb").read()); steps.append("write")
    os.rename(p, q); steps.append("rename")
    os.write(fd, open(tail, "rb").read()); steps.append("write")
    os.close(fd); steps.append("close")
except OSError as e:
    steps.append(errno.errorcode.get(e.errno, str(e.errno)))
print(" ".join(steps))
' "$MNT/$1.log" "$MNT/$1.log.1" "$TMPD/rot.head" "$TMPD/rot.tail" 2>&1)
	check_eq "$1: write, rename while open, write again, close all succeed" "write rename write close" "$out"
	check_blob_file "$1: the renamed blob on the service has every byte written, before and after the rename" \
		"$1.log.1" "$TMPD/rot.want"
	check "$1: the old name is gone from the service" blob_absent "$1.log"
done

# ---------------------------------------------------------------- rename of directories
T=$TMPD/tree
mkdir -p "$T/sub/deeper" "$T/empty"
printf 'top\n' >"$T/a.txt"
for i in $(seq 1 12); do printf 'file %d\n' "$i" >"$T/sub/f$i.txt"; done
head -c 300000 /dev/urandom >"$T/sub/deeper/c.bin"
check "cp -r a tree with nested folders into the mount" cp -r "$T" "$MNT/tree"
check_tree_rest "the tree is on the service under tree/" "$T" tree/
check "mv tree tree2 (a directory with nested content)" mv "$MNT/tree" "$MNT/tree2"
check_tree_rest "every file is on the service under tree2/ with its bytes" "$T" tree2/
check_eq "nothing is left under the old prefix tree/" "" "$(blob_names tree/)"
check "the old folder's marker is gone" blob_absent tree
check_eq "the moved folder markers are on the service" "true true true true" \
	"$(blob_meta tree2 hdi_isfolder) $(blob_meta tree2/sub hdi_isfolder) $(blob_meta tree2/sub/deeper hdi_isfolder) $(blob_meta tree2/empty hdi_isfolder)"
check_eq "the mount shows the moved tree" "$(cd "$T" && find . | LC_ALL=C sort)" "$(cd "$MNT/tree2" && find . | LC_ALL=C sort)"
mkdir -p "$MNT/full/inner"
printf 'keep me\n' >"$MNT/full/inner/keep.txt"
r=$(errno_of rename "$MNT/tree2" "$MNT/full")
check "rename of a directory onto a non-empty directory fails (ENOTEMPTY or EEXIST)" \
	grep -qxE 'ENOTEMPTY|EEXIST' <<<"$r"
check_blob_text "the target's file survives the refused rename" full/inner/keep.txt $'keep me\n'
check_tree_rest "the source tree is intact after the refused rename" "$T" tree2/

# A rename that fails midway: another client holds a lease on one original,
# so it can be copied but not deleted. The failure is reported, every blob
# exists under the old or the new name with its bytes, and the mount shows
# at once what the service has (the new folder; the leftover original).
mkdir "$MNT/lsrc"
for i in $(seq -w 1 12); do printf 'leased tree %s\n' "$i" >"$MNT/lsrc/f$i.txt"; done
lease_id=$(blobtool lease "$C" lsrc/f05.txt) || bail "lease lsrc/f05.txt through the SDK"
check_fail "mv of a folder whose original cannot be deleted (leased) reports a failure" mv "$MNT/lsrc" "$MNT/ldst"
lost=""
for i in $(seq -w 1 12); do
	old=$(blobtool get "$C" "lsrc/f$i.txt" 2>/dev/null)
	new=$(blobtool get "$C" "ldst/f$i.txt" 2>/dev/null)
	[[ $old == "leased tree $i" || $new == "leased tree $i" ]] || lost+=" f$i.txt"
done
check_eq "after the failed folder rename every blob exists under the old or the new name (SDK)" "" "$lost"
check_eq "the leased original is still under the old name (SDK)" "leased tree 05" "$(blobtool get "$C" lsrc/f05.txt 2>&1)"
check_eq "the mount shows the old folder as the service has it" "$(blob_names lsrc/ | sed 's,^lsrc/,,')" "$(listing "$MNT/lsrc" 2>&1)"
check_eq "the mount shows the new folder at once (stat)" directory "$(stat -c %F "$MNT/ldst" 2>&1)"
check_eq "the mount lists the new folder's files as the service has them" \
	"$(blob_names ldst/ | sed 's,^ldst/,,')" "$(listing "$MNT/ldst" 2>&1)"
printf 'leased file\n' >"$MNT/lfile.txt"
lease_id2=$(blobtool lease "$C" lfile.txt) || bail "lease lfile.txt through the SDK"
check_fail "mv of a file whose original cannot be deleted (leased) reports a failure" mv "$MNT/lfile.txt" "$MNT/lfile2.txt"
check_blob_text "the leased file is unchanged under its old name (SDK)" lfile.txt $'leased file\n'
if blob_present lfile2.txt; then
	check_blob_text "the copy under the new name has the bytes (SDK)" lfile2.txt $'leased file\n'
	check_eq "the mount shows the copy the service has under the new name" "leased file" "$(cat "$MNT/lfile2.txt" 2>&1)"
fi
check_eq "the mount still reads the old name" "leased file" "$(cat "$MNT/lfile.txt" 2>&1)"
blobtool unlease "$C" lsrc/f05.txt "$lease_id" >/dev/null
blobtool unlease "$C" lfile.txt "$lease_id2" >/dev/null

# ---------------------------------------------------------------- symlinks
printf 'target content\n' >"$MNT/target.txt"
check "ln -s target.txt link" ln -s target.txt "$MNT/link"
check_eq "readlink gives the target" target.txt "$(readlink "$MNT/link")"
check_eq "stat shows a symbolic link" "symbolic link" "$(stat -c %F "$MNT/link")"
check_eq "reading through the link gives the target's bytes" "target content" "$(cat "$MNT/link")"
check_blob_text "the link's blob holds the target as its content" link target.txt
check_eq "the link's blob has metadata is_symlink=true" true "$(blob_meta link is_symlink)"
check "ln -s a dangling relative target inside a folder" ln -s ../no/such/file "$MNT/d2/dangling"
check_blob_text "the dangling link's blob holds its target" d2/dangling ../no/such/file

# ---------------------------------------------------------------- refused node types
# (FIFOs, sockets and device nodes are blobs too: t_special.)
check_eq "link(2) (hard link) gives EPERM" EPERM "$(errno_of link "$MNT/target.txt" "$MNT/hard")"
check "no blob was made for the refused hard link" no_blob_matching 'hard'

# ---------------------------------------------------------------- name limits
n255=$(printf 'n%.0s' $(seq 1 255))
n256=${n255}x
check_eq "creating a file with a 255-byte name works" OK "$(errno_of create "$MNT/$n255")"
check "the 255-byte name is a blob on the service" blob_present "$n255"
check_eq "creating a file with a 256-byte name gives ENAMETOOLONG" ENAMETOOLONG "$(errno_of create "$MNT/$n256")"
check_eq "mkdir with a 256-byte name gives ENAMETOOLONG" ENAMETOOLONG "$(errno_of mkdir "$MNT/$n256")"
# 4 folders of 200 characters: "d200/" x 4 is 804 characters; a 220-character
# file name makes a blob name of exactly 1,024, 221 one of 1,025.
d200=$(printf 'd%.0s' $(seq 1 200))
long=$d200/$d200/$d200/$d200
check "mkdir -p four nested 200-character folders" mkdir -p "$MNT/$long"
f220=$(printf 'f%.0s' $(seq 1 220))
check_eq "a file whose blob name has exactly 1,024 characters can be created" OK "$(errno_of create "$MNT/$long/$f220")"
check "the 1,024-character blob name is on the service" blob_present "$long/$f220"
check_eq "a file whose blob name would have 1,025 characters gives ENAMETOOLONG" ENAMETOOLONG \
	"$(errno_of create "$MNT/$long/${f220}g")"
check_eq "mkdir of a folder whose name would pass 1,024 characters gives ENAMETOOLONG" ENAMETOOLONG \
	"$(errno_of mkdir "$MNT/$long/${f220}gh")"
# The limit counts characters, not bytes: 8 folders of 100 two-byte
# characters ("é") and a 216-character file name make 1,024 characters in
# 1,824 bytes.
e100=$(printf '\xc3\xa9%.0s' $(seq 1 100))
ulong=$e100/$e100/$e100/$e100/$e100/$e100/$e100/$e100
check "mkdir -p eight nested folders of 100 two-byte characters" mkdir -p "$MNT/$ulong"
f216=$(printf 'f%.0s' $(seq 1 216))
check_eq "a blob name of 1,024 characters (1,824 bytes) can be created" OK "$(errno_of create "$MNT/$ulong/$f216")"
check "the 1,024-character non-ASCII blob name is on the service" blob_present "$ulong/$f216"
check_eq "one character more gives ENAMETOOLONG" ENAMETOOLONG "$(errno_of create "$MNT/$ulong/${f216}g")"
check "no blob with a name over 1,024 characters exists" \
	no_blob_longer_than 1024

# ---------------------------------------------------------------- chmod / chown / utimens
printf 'attributes\n' >"$MNT/attrs.txt"
check "chmod 640" chmod 640 "$MNT/attrs.txt"
check "chown 1234:5678" chown 1234:5678 "$MNT/attrs.txt"
check "touch -d 2001-02-03 04:05:06.123456789 UTC" touch -d '2001-02-03 04:05:06.123456789 UTC' "$MNT/attrs.txt"
want_stat="640 1234 5678 981173106.123456789 11"
check_eq "stat shows mode, owner, group, mtime (ns) on this mount" "$want_stat" "$(stat_line "$MNT/attrs.txt")"
check_eq "metadata on the service: mode 0640, uid 1234, gid 5678, mtime RFC 3339 with ns" \
	"0640 1234 5678 2001-02-03T04:05:06.123456789Z" \
	"$(blob_meta attrs.txt mode) $(blob_meta attrs.txt uid) $(blob_meta attrs.txt gid) $(blob_meta attrs.txt mtime)"
check_blob_text "attrs.txt's bytes are unchanged by setattr" attrs.txt $'attributes\n'
check "chmod 750 on a folder made by mkdir" chmod 750 "$MNT/d2"
check_eq "the folder's marker carries mode 0750" 0750 "$(blob_meta d2 mode)"
check "chmod 700 on a prefix-only folder" chmod 700 "$MNT/pfx"
check_eq "the prefix-only folder got a marker carrying mode 0700 and hdi_isfolder" "0700 true" \
	"$(blob_meta pfx mode) $(blob_meta pfx hdi_isfolder)"
check "touch -d on a folder" touch -d '2010-05-06 07:08:09 UTC' "$MNT/d2"
check_eq "the folder's marker carries the mtime" 2010-05-06T07:08:09Z \
	"$(blob_meta d2 mtime | sed 's/\.0*Z$/Z/')"
printf 'more\n' >>"$MNT/attrs.txt"
check_eq "a rewrite keeps mode, uid and gid in metadata" "0640 1234 5678" \
	"$(blob_meta attrs.txt mode) $(blob_meta attrs.txt uid) $(blob_meta attrs.txt gid)"
check_blob_text "and appends the bytes" attrs.txt $'attributes\nmore\n'
# A write sets the mtime to now: the 2001 time must be gone from stat and
# from the metadata (which may hold no mtime, or the new one).
check_int "after the rewrite stat shows a current mtime" "$(stat -c %Y "$MNT/attrs.txt")" -ge "$T0"
check "after the rewrite the metadata no longer holds the 2001 mtime" \
	bash -c '[[ $1 != 2001-* ]]' _ "$(blob_meta attrs.txt mtime 2>/dev/null)"
touch -d '2001-02-03 04:05:06.123456789 UTC' "$MNT/attrs.txt"
want_stat="640 1234 5678 981173106.123456789 16"

# ---------------------------------------------------------------- user.* xattrs
check "setfattr user.color=blue" setfattr -n user.color -v blue "$MNT/attrs.txt"
check "setfattr user.Mixed.Case_name='a b%c<LF>'" setfattr -n user.Mixed.Case_name -v $'"a b%c\n"' "$MNT/attrs.txt"
check "setfattr user.bin=0x00ff41" setfattr -n user.bin -v 0x00ff41 "$MNT/attrs.txt"
check "setfattr user.empty (empty value)" setfattr -n user.empty "$MNT/attrs.txt"
check_eq "getfattr user.color" blue "$(getfattr --only-values -n user.color "$MNT/attrs.txt")"
check_eq "getfattr user.Mixed.Case_name" $'a b%c\n.' "$(getfattr --only-values -n user.Mixed.Case_name "$MNT/attrs.txt"; printf .)"
check_eq "getfattr user.bin (hex)" 0x00ff41 "$(getfattr -e hex -n user.bin --absolute-names "$MNT/attrs.txt" | sed -n 's/^user.bin=//p')"
check_eq "listxattr lists the four" "user.Mixed.Case_name user.bin user.color user.empty" \
	"$(getfattr -m - -d --absolute-names "$MNT/attrs.txt" | sed -n 's/=.*//p' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "metadata ux_color=blue on the service" blue "$(blob_meta attrs.txt ux_color)"
check_eq "metadata ux__4dixed_2e_43ase_5fname='a%20b%25c%0a' on the service" 'a%20b%25c%0a' \
	"$(blob_meta attrs.txt ux__4dixed_2e_43ase_5fname)"
check_eq "metadata ux_bin='%00%ffA' on the service" '%00%ffA' "$(blob_meta attrs.txt ux_bin)"
check_eq "metadata ux_empty='%' on the service" '%' "$(blob_meta attrs.txt ux_empty)"
check "setfattr -x user.color" setfattr -x user.color "$MNT/attrs.txt"
check "getfattr user.color now fails" bash -c '! getfattr -n user.color "$1" 2>/dev/null' _ "$MNT/attrs.txt"
check "the service no longer has ux_color" meta_lacks attrs.txt ux_color
check_eq "the other attributes' metadata stayed" "0640 %" "$(blob_meta attrs.txt mode) $(blob_meta attrs.txt ux_empty)"
check_fail_errno "a trusted.* xattr is refused (ENOTSUP)" ENOTSUP setfattr -n trusted.x -v 1 "$MNT/attrs.txt"
check "setfattr user.kind=folder on a folder" setfattr -n user.kind -v folder "$MNT/d2"
check_eq "the folder's marker carries ux_kind" folder "$(blob_meta d2 ux_kind)"
check_blob_text "attrs.txt's bytes are unchanged by the xattrs" attrs.txt $'attributes\nmore\n'

# xattr_dump FILE: every xattr of FILE as name=hex value, sorted.
xattr_dump() {
	getfattr -d -m - -e hex --absolute-names "$1" | sed '1d; /^$/d' | LC_ALL=C sort
}
xattrs_before=$(xattr_dump "$MNT/attrs.txt")
check_eq "the xattrs as hex" "$(printf '%s\n' user.Mixed.Case_name=0x61206225630a user.bin=0x00ff41 user.empty=0x)" "$xattrs_before"

# ---------------------------------------------------------------- a fresh mount
remount_fs || bail "remount"
check_eq "a fresh mount shows mode, owner, group, mtime of attrs.txt" "$want_stat" "$(stat_line "$MNT/attrs.txt")"
check_eq "a fresh mount shows d2's mode 0750" 750 "$(stat -c %a "$MNT/d2")"
check_eq "a fresh mount shows pfx's mode 0700" 700 "$(stat -c %a "$MNT/pfx")"
check_eq "a fresh mount shows the same xattrs (names and values)" "$xattrs_before" "$(xattr_dump "$MNT/attrs.txt")"
check_eq "a fresh mount reads the symlink" target.txt "$(readlink "$MNT/link")"
check_eq "a fresh mount shows the link as a symbolic link" "symbolic link" "$(stat -c %F "$MNT/link")"
check_eq "a fresh mount shows the moved tree" "$(cd "$T" && find . -type f | LC_ALL=C sort)" \
	"$(cd "$MNT/tree2" && find . -type f | LC_ALL=C sort)"
check_eq "a fresh mount shows the empty folder made by mkdir" directory "$(stat -c %F "$MNT/tree2/empty")"
unmount_fs

done_testing
