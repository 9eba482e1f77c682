#!/bin/bash
# t_write_ro.sh - a mount with -o ro refuses every kind of change with EROFS,
# at the system-call level (create, open for writing, O_TRUNC, O_APPEND,
# truncate, writable MAP_SHARED, mkdir, rmdir, unlink, rename of
# files and folders, RENAME_NOREPLACE, symlink, link, mknod, chmod, chown,
# utimes, setxattr, removexattr) and through tools (cp, tee, touch -d, rsync,
# tar x, sqlite3); reads keep working; the daemon sends no write request and
# the service is unchanged afterwards: same blobs, bytes, ETags and metadata.
# The same mount read-write (the default) then accepts a change.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/write_lib.sh"

C=$CONTAINER
printf 'original\n' >"$TMPD/orig"
printf 'file.txt' >"$TMPD/link"
seed_add "$C" file.txt "$TMPD/orig" --meta ux_tag=x --meta mode=0644
seed_add "$C" dir/inner.txt "$TMPD/orig"
seed_add "$C" marked --meta hdi_isfolder=true
seed_add "$C" marked/keep.txt "$TMPD/orig"
seed_add "$C" emptydir --meta hdi_isfolder=true
seed_add "$C" link "$TMPD/link" --meta is_symlink=true
seed_flush
before=$(blobtool dump "$C" --sha256) || bail "dump the container through the SDK"
props_before=$(for b in file.txt dir/inner.txt marked emptydir link; do blobtool props "$C" "$b" | json_get etag; done)

mount_fs "ro,cache_dir=$TEST_DIR/stage" "$C" || bail "mount $C with -o ro"
s1=$(stats_json)
F=$MNT/file.txt

check_eq "reads work" original "$(cat "$F")"
check_eq "readlink works" file.txt "$(readlink "$MNT/link")"
check_eq "getfattr works" x "$(getfattr --only-values -n user.tag "$F" 2>/dev/null)"

# One system call each, expecting EROFS.
while IFS='|' read -r label op a1 a2 a3; do
	[[ -z $label ]] && continue
	args=()
	for a in "$a1" "$a2" "$a3"; do [[ -n $a ]] && args+=("${a//@/$MNT}"); done
	check_eq "$label gives EROFS" EROFS "$(errno_of "$op" "${args[@]}")"
done <<'EOF'
create a new file|create|@/new.txt
open an existing file O_WRONLY|open_w|@/file.txt
open an existing file O_RDWR|open_rw|@/file.txt
open O_TRUNC|open_trunc|@/file.txt
open O_APPEND|open_append|@/file.txt
truncate(2)|truncate|@/file.txt|0
chmod|chmod|@/file.txt|600
chown|chown|@/file.txt|1234|1234
utimes|utime|@/file.txt|1000000000
setxattr user.*|setxattr|@/file.txt|user.new|v
removexattr of an existing user.* xattr|removexattr|@/file.txt|user.tag
mkdir|mkdir|@/newdir
rmdir of an empty folder|rmdir|@/emptydir
unlink|unlink|@/file.txt
unlink of a symlink|unlink|@/link
rename of a file|rename|@/file.txt|@/renamed.txt
rename of a file over another|rename|@/file.txt|@/dir/inner.txt
rename of a folder|rename|@/marked|@/marked2
renameat2 RENAME_NOREPLACE|noreplace|@/file.txt|@/other.txt
symlink|symlink|file.txt|@/link2
link (hard link)|link|@/file.txt|@/hard
mkfifo|mkfifo|@/fifo
mknod of a character device|mknod_chr|@/chr
chmod of a folder|chmod|@/dir|700
EOF
check_eq "a writable MAP_SHARED mapping cannot be had (EROFS at open)" EROFS "$(errno_of mmap_shared_w "$F")"

check_fail_errno "cp into the mount gives EROFS" EROFS cp "$TMPD/orig" "$MNT/copied.txt"
check_fail_errno "tee over an existing file gives EROFS" EROFS tee "$F" </dev/null
check_fail_errno "touch -d gives EROFS" EROFS touch -d '2001-01-01' "$F"
mkdir -p "$TMPD/src/sub" && printf 'x\n' >"$TMPD/src/sub/x.txt"
check_fail "rsync -a into the mount fails" rsync -a "$TMPD/src/" "$MNT/dir/"
tar -cf "$TMPD/a.tar" -C "$TMPD/src" .
check_fail "tar x into the mount fails" tar -xf "$TMPD/a.tar" -C "$MNT/dir"
check_fail "sqlite3 cannot create a database" sqlite3 "$MNT/new.db" 'CREATE TABLE t (x);'

check_eq "the mount still shows the same names" "$(printf '%s\n' dir emptydir file.txt link marked)" "$(listing "$MNT")"
s2=$(stats_json)
writes=0
for op in PutBlob PutBlock PutBlockList CopyBlob DeleteBlob SetBlobMetadata SetBlobProperties; do
	writes=$((writes + $(stats_delta "$op" "$s1" "$s2")))
done
check_eq "the daemon sent no write request" 0 "$writes"
unmount_fs

check_eq "the service is unchanged: names, sizes, types, metadata, bytes" "$before" "$(blobtool dump "$C" --sha256)"
check_eq "the service is unchanged: ETags" "$props_before" \
	"$(for b in file.txt dir/inner.txt marked emptydir link; do blobtool props "$C" "$b" | json_get etag; done)"
check "nothing was left in the staging directory" bash -c '[[ -z $(find "$1" -type f 2>/dev/null) ]]' _ "$TEST_DIR/stage"

# The same source without -o ro is writable: the refusals above came from ro.
mount_fs "cache_dir=$TEST_DIR/stage" "$C" || bail "mount $C read-write"
check_eq "without -o ro, chmod works" OK "$(errno_of chmod "$MNT/file.txt" 600)"
check_eq "and the service has the new mode" 0600 "$(blob_meta file.txt mode)"
unmount_fs

done_testing
