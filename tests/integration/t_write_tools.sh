#!/bin/bash
# timeout: 400
# t_write_tools.sh - ordinary tools writing through a real mount, the results
# checked through the mount and through the SDK (bytes of every file, mode and
# mtime metadata): rsync -a in and back out (content, mode, mtime; a second
# rsync finds nothing to do, also on a fresh mount), tar x of a ~500-file
# archive then tar c and compare, cp -a (with a user xattr), mv of files and
# directories (within the mount, in from and out to a local disk), editor
# saves (write temp + rename over, sed -i, vim), sort -o in place, sqlite3
# creating and querying a database, also in WAL mode (the service's copy is a
# valid database with the same rows), git init/add/commit/log (the service's copy is a valid
# repository with the same history).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/write_lib.sh"

C=$CONTAINER
mount_fs "cache_dir=$TEST_DIR/stage" "$C" || bail "mount $C read-write"

# ---------------------------------------------------------------- rsync -a
S=$TMPD/rs-src
mkdir -p "$S/bin" "$S/docs/deep/er" "$S/empty"
printf '#!/bin/sh\necho hi\n' >"$S/bin/run.sh"
chmod 755 "$S/bin/run.sh"
printf 'secret\n' >"$S/docs/private.txt"
chmod 600 "$S/docs/private.txt"
printf 'readme\n' >"$S/README.md"
chmod 444 "$S/README.md"
head -c 2000000 /dev/urandom >"$S/docs/deep/er/blob.bin"
: >"$S/docs/zero-length"
for i in $(seq 1 20); do printf 'note %d\n' "$i" >"$S/docs/n$i.txt"; done
ln -s ../README.md "$S/docs/readme-link"
touch -h -d '2015-06-07 08:09:10.5 UTC' "$S/docs/readme-link"
# Distinct mtimes with sub-second parts, set after the content.
i=0
while IFS= read -r f; do
	i=$((i + 1))
	touch -d "2019-01-$(printf %02d $((i % 28 + 1))) 10:00:$(printf %02d $((i % 60))).$((100000000 + i)) UTC" "$f"
done < <(find "$S" -type f | LC_ALL=C sort)

check "rsync -a a tree into the mount" rsync -a "$S/" "$MNT/rs/"
check_tree_rest "every file (and the symlink) of the rsync'ed tree is on the service with its bytes" "$S" rs/
check_eq "run.sh's metadata on the service: mode 0755 and its mtime" \
	"0755 $(date -u -d "@$(stat -c %Y "$S/bin/run.sh")" +%Y-%m-%dT%H:%M:%S).$(stat -c %.9Y "$S/bin/run.sh" | cut -d. -f2)Z" \
	"$(blob_meta rs/bin/run.sh mode) $(blob_meta rs/bin/run.sh mtime)"
check_eq "private.txt's mode on the service is 0600" 0600 "$(blob_meta rs/docs/private.txt mode)"
files_attrs() { (cd -- "$1" && find . -mindepth 1 -type f -printf '%P %m %T@ %s\n' | LC_ALL=C sort); }
dirs_modes() { (cd -- "$1" && find . -mindepth 1 -type d -printf '%P %m\n' | LC_ALL=C sort); }
check_eq "the mount shows every file with its mode, mtime (ns) and size" "$(files_attrs "$S")" "$(files_attrs "$MNT/rs")"
check_eq "the mount shows every folder with its mode" "$(dirs_modes "$S")" "$(dirs_modes "$MNT/rs")"
check_eq "the mount shows the symlink" ../README.md "$(readlink "$MNT/rs/docs/readme-link")"
check_eq "a second rsync -a finds nothing to transfer" "" "$(rsync -ai "$S/" "$MNT/rs/" 2>&1)"
O=$TMPD/rs-out
check "rsync -a the tree back out of the mount" rsync -a "$MNT/rs/" "$O/"
check "the tree back out is identical in content (diff -r)" diff -r --no-dereference "$S" "$O"
check_eq "the tree back out has every file's mode, mtime (ns) and size" "$(files_attrs "$S")" "$(files_attrs "$O")"
check_eq "the tree back out has every folder's mode" "$(dirs_modes "$S")" "$(dirs_modes "$O")"

# ---------------------------------------------------------------- tar x, tar c
A=$TMPD/tar-src
for d in $(seq -w 1 20); do
	mkdir -p "$A/dir$d/sub"
	for f in $(seq -w 1 24); do
		n=$((10#$d * 100 + 10#$f))
		head -c $(((n * 7919) % 20000)) /dev/urandom >"$A/dir$d/file$f.dat"
	done
	printf 'in sub %s\n' "$d" >"$A/dir$d/sub/leaf.txt"
	chmod 750 "$A/dir$d/sub"
	chmod 640 "$A/dir$d/file01.dat"
done
check_int "the archive's tree has about 500 files" "$(find "$A" -type f | wc -l)" -ge 500
find "$A" -exec touch -d '2020-02-02 02:02:02 UTC' {} +
tar -cf "$TMPD/in.tar" -C "$A" .
mkdir "$MNT/tarx"
check "tar x of the ~500-file archive into the mount" tar -xf "$TMPD/in.tar" -C "$MNT/tarx"
check_tree_rest "every extracted file is on the service with its bytes" "$A" tarx/
check "tar c of the extracted tree" tar -cf "$TMPD/out.tar" -C "$MNT/tarx" .
tv() { tar -tvf "$1" --numeric-owner | LC_ALL=C sort -k6; }
check_eq "tar tv of both archives agrees (names, modes, owners, sizes, mtimes)" "$(tv "$TMPD/in.tar")" "$(tv "$TMPD/out.tar")"
mkdir "$TMPD/tar-out"
tar -xf "$TMPD/out.tar" -C "$TMPD/tar-out"
check "the re-created archive extracts to the same bytes (diff -r)" diff -r "$A" "$TMPD/tar-out"
check_eq "dir07/file01.dat's mode on the service is 0640" 0640 "$(blob_meta tarx/dir07/file01.dat mode)"

# ---------------------------------------------------------------- cp -a
P=$TMPD/cp-src
mkdir -p "$P/x/y"
printf 'one\n' >"$P/x/one.txt"
printf 'two\n' >"$P/x/y/two.txt"
chmod 700 "$P/x/y"
chmod 604 "$P/x/one.txt"
touch -d '2011-11-11 11:11:11.111111111 UTC' "$P/x/one.txt" "$P/x/y/two.txt"
xattr_ok=0
setfattr -n user.origin -v local "$P/x/one.txt" 2>/dev/null && xattr_ok=1
check "cp -a a tree into the mount" cp -a "$P/x" "$MNT/cpa"
check_tree_rest "cp -a: every file on the service with its bytes" "$P/x" cpa/
check_eq "cp -a: mode, mtime (ns), size of every file on the mount" "$(files_attrs "$P/x")" "$(files_attrs "$MNT/cpa")"
check_eq "cp -a: one.txt's mode and mtime on the service" "0604 2011-11-11T11:11:11.111111111Z" \
	"$(blob_meta cpa/one.txt mode) $(blob_meta cpa/one.txt mtime)"
check_eq "cp -a: folder y's mode on the service" 0700 "$(blob_meta cpa/y mode)"
if ((xattr_ok)); then
	check_eq "cp -a: the user xattr is copied (service metadata ux_origin)" local "$(blob_meta cpa/one.txt ux_origin)"
else
	skip "cp -a: the user xattr is copied" "the local file system takes no user xattrs"
fi

# ---------------------------------------------------------------- mv
check "mv a file within the mount" mv "$MNT/cpa/one.txt" "$MNT/cpa/y/one-moved.txt"
check_blob_text "the moved file is on the service under its new name" cpa/y/one-moved.txt $'one\n'
check "the old name is gone from the service" blob_absent cpa/one.txt
check_eq "the moved file keeps its mode and mtime in metadata" "0604 2011-11-11T11:11:11.111111111Z" \
	"$(blob_meta cpa/y/one-moved.txt mode) $(blob_meta cpa/y/one-moved.txt mtime)"
check "mv a directory within the mount" mv "$MNT/cpa/y" "$MNT/moved-y"
check_eq "the moved directory's blobs are on the service under the new prefix" \
	"$(printf '%s\n' moved-y moved-y/one-moved.txt moved-y/two.txt)" "$(blob_names moved-y)"
check_eq "nothing is left under the old prefix" "" "$(blob_names cpa/y)"
M=$TMPD/mv-src
mkdir -p "$M/in/deep"
printf 'from local\n' >"$M/in/a.txt"
head -c 50000 /dev/urandom >"$M/in/deep/b.bin"
cp -a "$M/in" "$TMPD/mv-copy"
check "mv a directory from the local disk into the mount" mv "$M/in" "$MNT/from-local"
check "the local source is gone" test ! -e "$M/in"
check_tree_rest "the moved-in tree is on the service with its bytes" "$TMPD/mv-copy" from-local/
check "mv a file from the mount out to the local disk" mv "$MNT/from-local/a.txt" "$TMPD/out-a.txt"
check_eq "the file arrived locally" "from local" "$(cat "$TMPD/out-a.txt")"
check "its blob is gone from the service" blob_absent from-local/a.txt

# ---------------------------------------------------------------- editor saves
printf 'version 1\nkeep this line\n' >"$MNT/doc.txt"
chmod 640 "$MNT/doc.txt"
# Like many editors: write a temp file next to it, fsync, rename over.
check "write a temp file, fsync, rename it over doc.txt" pyrun '
import os, sys
d, tmp = sys.argv[1], sys.argv[1] + ".tmp~"
fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
os.write(fd, b"version 2\nkeep this line\n")
os.fsync(fd)
os.close(fd)
os.replace(tmp, d)
' "$MNT/doc.txt"
check_blob_text "doc.txt on the service is the saved version" doc.txt $'version 2\nkeep this line\n'
check "the temp file is gone from the service" blob_absent doc.txt.tmp~
check "sed -i (temp file + rename)" sed -i 's/version 2/version 3/' "$MNT/doc.txt"
check_blob_text "doc.txt on the service after sed -i" doc.txt $'version 3\nkeep this line\n'
check_eq "sed -i kept the mode (service metadata)" 0640 "$(blob_meta doc.txt mode)"
check "vim edits and saves (backup, swap file)" timeout 30 vim -Es -u NONE -i NONE \
	-c 'set backupcopy=no writebackup' -c '%s/version 3/version 4/' -c 'wq' "$MNT/doc.txt"
check_blob_text "doc.txt on the service after vim" doc.txt $'version 4\nkeep this line\n'
check_eq "vim left no backup or swap file behind (service listing)" \
	"$(printf '%s\n' doc.txt)" "$(blob_names | grep -E '^\.?doc\.txt')"

# ---------------------------------------------------------------- sort -o in place
printf '%s\n' pear apple fig banana cherry apple >"$MNT/fruit.txt"
check "sort -o fruit.txt fruit.txt" sort -o "$MNT/fruit.txt" "$MNT/fruit.txt"
check_blob_text "fruit.txt on the service is sorted in place" fruit.txt "$(printf '%s\n' apple apple banana cherry fig pear)"$'\n'

# ---------------------------------------------------------------- sqlite3
mkdir "$MNT/db"
sql='
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, v INTEGER);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
INSERT INTO t (name, v) SELECT printf("row-%05d", i), i * 3 FROM n;
COMMIT;
CREATE INDEX t_v ON t (v);
UPDATE t SET v = v + 1 WHERE id % 10 = 0;
DELETE FROM t WHERE id % 100 = 1;
'
check "sqlite3 creates, fills, indexes, updates a database" sqlite3 "$MNT/db/test.db" "$sql"
query='SELECT count(*), sum(v), max(name) FROM t WHERE v > 100;'
want_q=$(sqlite3 ":memory:" "$sql $query")
check_eq "sqlite3 queries the database on the mount" "$want_q" "$(sqlite3 "$MNT/db/test.db" "$query")"
check_eq "sqlite3 integrity_check on the mount" ok "$(sqlite3 "$MNT/db/test.db" 'PRAGMA integrity_check;')"
check_eq "the database's sha256 on the service equals the mount's" \
	"$(sha256_of "$MNT/db/test.db")" "$(blobtool sha256 "$C" db/test.db)"
check "no journal is left on the service" no_blob_matching 'db/test\.db-.*'
blobtool get "$C" db/test.db >"$TMPD/service.db"
check_eq "the service's copy passes integrity_check" ok "$(sqlite3 "$TMPD/service.db" 'PRAGMA integrity_check;')"
check_eq "the service's copy answers the query the same" "$want_q" "$(sqlite3 "$TMPD/service.db" "$query")"
# WAL mode: the -shm index is a MAP_SHARED mapping of a file on the mount.
wal_sql="PRAGMA journal_mode=WAL; $sql"
check "sqlite3 fills a database in WAL mode (shared-memory index on the mount)" sqlite3 "$MNT/db/wal.db" "$wal_sql"
check_eq "sqlite3 queries the WAL database on the mount" "$want_q" "$(sqlite3 "$MNT/db/wal.db" "$query")"
check_eq "the WAL database's sha256 on the service equals the mount's" \
	"$(sha256_of "$MNT/db/wal.db")" "$(blobtool sha256 "$C" db/wal.db)"
check "no -wal or -shm file is left on the service after the last close" no_blob_matching 'db/wal\.db-.*'
blobtool get "$C" db/wal.db >"$TMPD/service-wal.db"
check_eq "the service's copy of the WAL database answers the query the same" "$want_q" \
	"$(sqlite3 "$TMPD/service-wal.db" "$query")"

# ---------------------------------------------------------------- git
G=$MNT/repo
gitc() { git -C "$G" -c user.name=Tester -c user.email=t@example.invalid -c commit.gpgsign=false "$@"; }
check "git init" git init -q -b main "$G"
mkdir -p "$G/src"
printf 'int main(void) { return 0; }\n' >"$G/src/main.c"
printf '# project\n' >"$G/README.md"
check "git add" gitc add -A
check "git commit" gitc commit -q -m "first commit"
printf '# project\n\nmore words\n' >"$G/README.md"
check "git commit -a (second commit)" gitc commit -q -a -m "second commit"
check_eq "git log shows both commits" "$(printf '%s\n' 'second commit' 'first commit')" "$(gitc log --format=%s)"
check_eq "git status is clean" "" "$(gitc status --porcelain)"
check "git fsck --strict is clean on the mount" gitc fsck --strict --no-progress
check_tree_rest "every file of the repository (.git included) is on the service with the mount's bytes" "$G" repo/
R=$TMPD/repo-from-service
check "download the repository through the SDK" blobtool get-tree "$C" repo/ "$R"
check "git fsck --strict on the service's copy" git -C "$R" fsck --strict --no-progress
check_eq "the service's copy has the same history" "$(gitc log --format='%H %s')" "$(git -C "$R" log --format='%H %s')"
check_eq "the service's copy has the same work tree" "$(printf '# project\n\nmore words\n')" "$(cat "$R/README.md")"
check "git clone from the mount" git clone -q "$G" "$TMPD/clone"
check_eq "the clone's README is the committed one" "$(printf '# project\n\nmore words\n')" "$(cat "$TMPD/clone/README.md")"

# ---------------------------------------------------------------- a fresh mount
remount_fs || bail "remount"
check_eq "after a remount, a second rsync -a still finds nothing to transfer" "" \
	"$(rsync -ai "$S/" "$MNT/rs/" 2>&1)"
check_eq "after a remount the tar tree has every file's mode, mtime, size" "$(files_attrs "$A")" "$(files_attrs "$MNT/tarx")"
check_eq "after a remount git log shows both commits" "$(printf '%s\n' 'second commit' 'first commit')" "$(gitc log --format=%s)"
check_eq "after a remount sqlite3 answers the query the same" "$want_q" "$(sqlite3 "$MNT/db/test.db" "$query")"
unmount_fs

done_testing
