#!/bin/bash
# t_write_basic.sh - the data write path through a real mount, every result
# checked through the SDK (size, bytes, Content-Type, Content-MD5): 0-byte
# files, a small file in one Put Blob, a file over 8 MiB streamed in Put
# Blocks while it is still open and committed by one Put Block List, four
# writers at once, append, overwrite in the middle (small and big), truncate
# down and up (to 40 MiB), O_TRUNC,
# sparse dd seek=, reading your own writes before close, two handles on one
# file, fsync committing an open file, mmap MAP_SHARED writes, Content-Type
# from the extension, unlink; a fresh mount reads it all back; no staging
# file outlives a successful commit; a full staging area gives ENOSPC.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/write_lib.sh"

C=$CONTAINER
STAGE=$TEST_DIR/stage
MiB=$((1024 * 1024))
EXP=$TMPD/exp # what each file must hold, built locally with the same operations
mkdir -p "$EXP"

mount_fs "cache_dir=$STAGE" "$C" || bail "mount $C read-write"

# ---------------------------------------------------------------- 0-byte files
s1=$(stats_json)
check "':>' creates an empty file" bash -c ': >"$1"' _ "$MNT/empty.dat"
s2=$(stats_json)
check_eq "the 0-byte file exists on the service with size 0" 0 "$(blob_prop empty.dat size)"
check_eq "the 0-byte file took one Put Blob and no Put Block" "1 0" \
	"$(stats_delta PutBlob "$s1" "$s2") $(stats_delta PutBlock "$s1" "$s2")"
check_eq "stat shows size 0" 0 "$(stat -c %s "$MNT/empty.dat")"
check "touch creates a new file" touch "$MNT/touched"
check_eq "the touched file exists on the service with size 0" 0 "$(blob_prop touched size)"

# ---------------------------------------------------------------- small file: one Put Blob
for i in $(seq 1 200); do printf 'line %03d of a small text file\n' "$i"; done >"$EXP/small.txt"
s1=$(stats_json)
check "cp a 6 KiB file into the mount" cp "$EXP/small.txt" "$MNT/small.txt"
s2=$(stats_json)
check_blob_file "small.txt on the service has the bytes written" small.txt "$EXP/small.txt"
check_eq "small.txt took one Put Blob, no Put Block, no Put Block List" "1 0 0" \
	"$(stats_delta PutBlob "$s1" "$s2") $(stats_delta PutBlock "$s1" "$s2") $(stats_delta PutBlockList "$s1" "$s2")"
check_eq "small.txt has Content-Type text/plain" text/plain "$(blob_prop small.txt contentType)"
check_eq "small.txt has a Content-MD5 equal to the MD5 of its bytes" \
	"$(md5sum <"$EXP/small.txt" | awk '{ print $1 }')" "$(blob_prop small.txt contentMD5)"
check_file_eq "small.txt reads back through the mount" "$EXP/small.txt" "$MNT/small.txt"

# ---------------------------------------------------------------- big file: streamed blocks
BIG_SIZE=$((20 * MiB + 12345))
head -c "$BIG_SIZE" /dev/urandom >"$EXP/big.bin"
s1=$(stats_json)
# Writes 17 MiB, then (file still open) waits until the stats show two Put
# Blocks done, writes the rest and closes. Prints how many Put Blocks had
# completed before close.
out=$(pyrun '
import json, os, sys, time
src, dst, mnt = sys.argv[1:4]
def put_blocks():
    s = json.loads(os.getxattr(mnt, "user.azblobfs.stats"))
    return sum(s["requests"].get("PutBlock", {}).values())
start = put_blocks()
data = open(src, "rb").read()
fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
pos = 0
while pos < 17 * 1024 * 1024:
    pos += os.write(fd, data[pos:pos + 1024 * 1024])
deadline = time.monotonic() + 30
while put_blocks() - start < 2 and time.monotonic() < deadline:
    time.sleep(0.05)
print(put_blocks() - start)
while pos < len(data):
    pos += os.write(fd, data[pos:pos + 1024 * 1024])
os.close(fd)
' "$EXP/big.bin" "$MNT/big.bin" "$MNT" 2>&1)
s2=$(stats_json)
check_eq "two Put Blocks completed while big.bin was still open (streaming)" 2 "$out"
check_blob_file "big.bin (20 MiB + 12345) on the service has the bytes written" big.bin "$EXP/big.bin"
check_eq "big.bin: 3 Put Blocks, 1 Put Block List, no Put Blob" "3 1 0" \
	"$(stats_delta PutBlock "$s1" "$s2") $(stats_delta PutBlockList "$s1" "$s2") $(stats_delta PutBlob "$s1" "$s2")"
blocks=$(blobtool blocks "$C" big.bin)
check_eq "big.bin's committed blocks on the service: 8 MiB, 8 MiB, the rest" \
	"[$((8 * MiB)),$((8 * MiB)),$((BIG_SIZE - 16 * MiB))]" \
	"$(node -e 'console.log(JSON.stringify(JSON.parse(process.argv[1]).committed.map((b) => b.size)))' "$blocks")"
check_eq "big.bin's block ids all have the same length" 1 \
	"$(node -e 'console.log(new Set(JSON.parse(process.argv[1]).committed.map((b) => b.name.length)).size)' "$blocks")"
check_eq "big.bin has Content-Type application/octet-stream" application/octet-stream "$(blob_prop big.bin contentType)"
check_eq "a sequential write from empty left nothing in the staging directory" "" \
	"$(find "$STAGE" -type f 2>/dev/null)"

# ---------------------------------------------------------------- parallel writers
for i in 1 2 3 4; do head -c $((9 * MiB + i * 1000)) /dev/urandom >"$EXP/par$i.bin"; done
pids=()
for i in 1 2 3 4; do
	cp "$EXP/par$i.bin" "$MNT/par$i.bin" &
	pids+=($!)
done
rcs=""
for p in "${pids[@]}"; do wait "$p"; rcs+="$? "; done
check_eq "four cp of 9 MiB files at once all succeed" "0 0 0 0 " "$rcs"
for i in 1 2 3 4; do
	check_blob_file "par$i.bin on the service has its own bytes" "par$i.bin" "$EXP/par$i.bin"
done

# ------------------------------------------- streamed, then not sequential
# One handle writes past the first block (so at least one Put Block has
# gone up and a tail is in memory), then leaves sequential order: a write
# back inside the sent block, a seek forward past the end (a hole), a
# truncate, a read back of sent bytes. The content continues in staging;
# the service must end with exactly what a local file ends with.
for kind in back hole trunc readback; do
	pyrun '
import os, sys
kind, dst, ref = sys.argv[1:4]
rnd = open("/dev/urandom", "rb")
head = rnd.read(8 * 1024 * 1024 + 3 * 1024 * 1024 + 777)
tail = rnd.read(150000)
for path in (dst, ref):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    pos = 0
    while pos < len(head):
        pos += os.write(fd, head[pos:pos + 1024 * 1024])
    if kind == "back":
        os.pwrite(fd, tail[:4096], 1000)
        os.pwrite(fd, tail[:5000], len(head) - 100)
    elif kind == "hole":
        os.pwrite(fd, tail, len(head) + 3 * 1024 * 1024)
    elif kind == "trunc":
        os.ftruncate(fd, 9 * 1024 * 1024 + 5)
        os.write(fd, tail)
    elif kind == "readback":
        got = os.pread(fd, 100000, 8 * 1024 * 1024 - 50000)
        assert got == head[8 * 1024 * 1024 - 50000:8 * 1024 * 1024 + 50000], "read back differs"
        os.write(fd, tail)
    os.close(fd)
' "$kind" "$MNT/switch-$kind.bin" "$EXP/switch-$kind.bin" >"$TMPD/switch.out" 2>&1
	check_eq "streamed past a block, then $kind: the writer succeeds" "" "$(cat "$TMPD/switch.out")"
	check_blob_file "streamed past a block, then $kind: the service has the same bytes as a local file" \
		"switch-$kind.bin" "$EXP/switch-$kind.bin"
done

# ---------------------------------------------------------------- append
printf 'appended line\n' >>"$EXP/small.txt"
check "append with >>" bash -c 'printf "appended line\n" >>"$1"' _ "$MNT/small.txt"
check_blob_file "after >>, small.txt on the service is the old bytes plus the new line" small.txt "$EXP/small.txt"
head -c 3000000 /dev/urandom >"$TMPD/tail.bin"
cat "$TMPD/tail.bin" >>"$EXP/big.bin"
check "append 3 MB to the 20 MiB file" bash -c 'cat "$2" >>"$1"' _ "$MNT/big.bin" "$TMPD/tail.bin"
check_blob_file "after appending 3 MB, big.bin on the service is base + tail" big.bin "$EXP/big.bin"

# ---------------------------------------------------------------- overwrite in the middle
printf 'XYZ' | dd of="$EXP/small.txt" bs=1 seek=100 conv=notrunc status=none
check "dd conv=notrunc writes 3 bytes at offset 100" \
	bash -c 'printf XYZ | dd of="$1" bs=1 seek=100 conv=notrunc status=none' _ "$MNT/small.txt"
check_blob_file "small.txt on the service has the 3 bytes replaced, the rest unchanged" small.txt "$EXP/small.txt"
head -c 100000 /dev/urandom >"$TMPD/patch.bin"
OFF=$((10 * MiB + 7))
dd if="$TMPD/patch.bin" of="$EXP/big.bin" bs=100000 seek="$OFF" oflag=seek_bytes conv=notrunc status=none
check "overwrite 100000 bytes at 10 MiB + 7 of big.bin" \
	dd if="$TMPD/patch.bin" of="$MNT/big.bin" bs=100000 seek="$OFF" oflag=seek_bytes conv=notrunc status=none
check_blob_file "big.bin on the service: the patched range is new, every other byte kept" big.bin "$EXP/big.bin"
check_eq "big.bin's size is unchanged by the overwrite" "$(stat -c %s "$EXP/big.bin")" "$(blob_prop big.bin size)"

# ---------------------------------------------------------------- truncate
truncate -s 7 "$EXP/small.txt"
check "truncate -s 7 (down)" truncate -s 7 "$MNT/small.txt"
check_blob_file "after truncate down, small.txt on the service is its first 7 bytes" small.txt "$EXP/small.txt"
truncate -s 5000 "$EXP/small.txt"
check "truncate -s 5000 (up)" truncate -s 5000 "$MNT/small.txt"
check_blob_file "after truncate up, small.txt on the service is 7 bytes then zeros to 5000" small.txt "$EXP/small.txt"
check_eq "stat shows the truncated size" 5000 "$(stat -c %s "$MNT/small.txt")"
truncate -s $((9 * MiB + 3)) "$EXP/big.bin"
check "truncate the big file down to 9 MiB + 3" truncate -s $((9 * MiB + 3)) "$MNT/big.bin"
check_blob_file "after truncate, big.bin on the service is its first 9 MiB + 3 bytes" big.bin "$EXP/big.bin"
# truncate(2) on a path nobody has open (no file handle at all)
printf 'abcdefgh' >"$EXP/path-trunc.txt"
check "write path-trunc.txt" cp "$EXP/path-trunc.txt" "$MNT/path-trunc.txt"
truncate -s 5 "$EXP/path-trunc.txt"
check "truncate(2) by path, no open handle" pyrun 'import os, sys; os.truncate(sys.argv[1], 5)' "$MNT/path-trunc.txt"
check_blob_file "after truncate(2), path-trunc.txt on the service is its first 5 bytes" path-trunc.txt "$EXP/path-trunc.txt"

truncate -s $((40 * MiB + 1)) "$EXP/grown.bin"
printf 'head' | dd of="$EXP/grown.bin" conv=notrunc status=none
check "create a file, write 4 bytes, truncate it up to 40 MiB + 1" bash -c '
	printf head >"$1" && truncate -s $((40 * 1024 * 1024 + 1)) "$1"' _ "$MNT/grown.bin"
check_blob_file "grown.bin on the service: the 4 bytes, then zeros to 40 MiB + 1" grown.bin "$EXP/grown.bin"

# ---------------------------------------------------------------- O_TRUNC
printf 'replaced\n' >"$EXP/big.bin"
check "'>' on an existing 9 MiB file (O_TRUNC)" bash -c 'printf "replaced\n" >"$1"' _ "$MNT/big.bin"
check_blob_file "after O_TRUNC, big.bin on the service is only the new bytes" big.bin "$EXP/big.bin"

# ---------------------------------------------------------------- sparse dd seek=
head -c 8192 /dev/urandom >"$TMPD/blk"
dd if="$TMPD/blk" of="$EXP/sparse.bin" bs=4096 seek=300 count=2 status=none
check "dd seek=300 into a new file" dd if="$TMPD/blk" of="$MNT/sparse.bin" bs=4096 seek=300 count=2 status=none
check_blob_file "sparse.bin on the service: 300 blocks of zeros, then the 2 blocks" sparse.bin "$EXP/sparse.bin"
dd if="$TMPD/blk" of="$EXP/sparse.bin" bs=4096 seek=10 count=1 conv=notrunc status=none
dd if="$TMPD/blk" of="$EXP/sparse.bin" bs=4096 seek=2000 count=1 conv=notrunc status=none
check "dd seek=10 and seek=2000 conv=notrunc into it" bash -c '
	dd if="$2" of="$1" bs=4096 seek=10 count=1 conv=notrunc status=none &&
	dd if="$2" of="$1" bs=4096 seek=2000 count=1 conv=notrunc status=none' _ "$MNT/sparse.bin" "$TMPD/blk"
check_blob_file "sparse.bin on the service: both writes, zeros in the holes, size 2001 blocks" sparse.bin "$EXP/sparse.bin"
check_file_eq "sparse.bin reads back through the mount" "$EXP/sparse.bin" "$MNT/sparse.bin"

# ---------------------------------------------------------------- read your writes before close
out=$(pyrun '
import os, sys
p = sys.argv[1]
fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"A" * 5000)
r1 = os.pread(fd, 5000, 0) == b"A" * 5000          # streaming: from the buffer
os.pwrite(fd, b"B" * 100, 8000)                     # a hole: staged from here on
r2 = os.pread(fd, 9000, 0) == b"A" * 5000 + b"\0" * 3000 + b"B" * 100
os.pwrite(fd, b"C" * 10, 4995)
ro = os.open(p, os.O_RDONLY)                        # a second, read-only handle
r3 = os.pread(ro, 9000, 0) == b"A" * 4995 + b"C" * 10 + b"\0" * 2995 + b"B" * 100
r4 = os.fstat(ro).st_size == 8100
os.close(ro)
os.close(fd)
print(" ".join(str(int(x)) for x in (r1, r2, r3, r4)))
' "$MNT/ryw.bin" 2>&1)
check_eq "read your writes before close: streamed, staged, another handle, its size" "1 1 1 1" "$out"
pyrun 'import sys; open(sys.argv[1], "wb").write(b"A" * 4995 + b"C" * 10 + b"\0" * 2995 + b"B" * 100)' "$EXP/ryw.bin"
check_blob_file "ryw.bin on the service after close" ryw.bin "$EXP/ryw.bin"

# ---------------------------------------------------------------- two handles, fsync
# Two read-write handles write different ranges; closing one commits what
# both wrote so far (close-to-open), the other keeps writing. fsync commits
# without closing. At each point the service's bytes are saved for checking.
pyrun '
import os, subprocess, sys
p, blob, tool, c, tmp = sys.argv[1:6]
def rest(tag):
    with open(f"{tmp}/{tag}.rest", "wb") as f:
        subprocess.run(["node", tool, "get", c, blob], stdout=f, check=False)
def want(tag, data):
    open(f"{tmp}/{tag}.want", "wb").write(data)
fd1 = os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
fd2 = os.open(p, os.O_RDWR)
os.pwrite(fd1, b"a" * 5000, 0)
os.pwrite(fd2, b"b" * 100, 2000)
os.pwrite(fd1, b"c" * 10, 4995)
os.fsync(fd2)
content = bytearray(b"a" * 5000); content[2000:2100] = b"b" * 100; content[4995:5005] = b"c" * 10
want("fsync", bytes(content)); rest("fsync")
os.pwrite(fd2, b"d" * 50, 5005)
os.close(fd2)
content += b"d" * 50
want("close2", bytes(content)); rest("close2")
os.pwrite(fd1, b"e" * 20, 0)
os.close(fd1)
content[0:20] = b"e" * 20
want("close1", bytes(content)); rest("close1")
' "$MNT/two.bin" two.bin "$IT_DIR/blobtool.js" "$C" "$TMPD"
check_file_eq "fsync on one of two handles commits what both wrote (service bytes)" "$TMPD/fsync.want" "$TMPD/fsync.rest"
check_file_eq "closing one of two handles commits everything written so far (service bytes)" "$TMPD/close2.want" "$TMPD/close2.rest"
check_file_eq "closing the last handle commits its later writes too (service bytes)" "$TMPD/close1.want" "$TMPD/close1.rest"

# ---------------------------------------------------------------- a reader opened beside a writer
# A read-only handle opened while the file is open for writing (so it reads
# through the writer) still reads once the writer is closed and released
# (the stats count no writer): the committed version, from the service.
out=$(pyrun '
import json, os, sys, time
p, mnt = sys.argv[1:3]
fdw = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fdw, b"written then read " * 100)
fdr = os.open(p, os.O_RDONLY)
os.close(fdw)
deadline = time.monotonic() + 60
while json.loads(os.getxattr(mnt, "user.azblobfs.stats"))["writers"] and time.monotonic() < deadline:
    time.sleep(0.05)
try:
    later = os.pread(fdr, 1800, 0)
    print(len(later), later == b"written then read " * 100)
except OSError as e:
    print("error", e.strerror)
' "$MNT/late-reader.txt" "$MNT")
check_eq "a handle opened beside a writer still reads once the writer is released" \
	"1800 True" "$out"

# ---------------------------------------------------------------- mmap MAP_SHARED
out=$(pyrun '
import mmap, os, sys
p = sys.argv[1]
with open(p, "wb") as f:
    f.write(b"x" * 3 * 4096)
fd = os.open(p, os.O_RDWR)
m = mmap.mmap(fd, 3 * 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
m[10:15] = b"HELLO"
m[4096 * 2 + 100:4096 * 2 + 105] = b"WORLD"
m.flush()
m.close()
os.close(fd)
fd = os.open(p, os.O_RDWR)                  # no msync: munmap and close must carry it
m = mmap.mmap(fd, 3 * 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
m[5000:5003] = b"MAP"
m.close()
os.close(fd)
print("done")
' "$MNT/mapped.bin" 2>&1)
check_eq "mmap MAP_SHARED writes run" "done" "$out"
pyrun '
import sys
b = bytearray(b"x" * 3 * 4096); b[10:15] = b"HELLO"; b[4096 * 2 + 100:4096 * 2 + 105] = b"WORLD"; b[5000:5003] = b"MAP"
open(sys.argv[1], "wb").write(b)' "$EXP/mapped.bin"
check_blob_file "mapped.bin on the service has the mmap writes (msync'ed and not)" mapped.bin "$EXP/mapped.bin"

# ---------------------------------------------------------------- Content-Type
declare -A CT=(
	[page.html]=text/html [pic.PNG]=image/png [data.json]=application/json
	[arch.tar.gz]=application/gzip [noext]=application/octet-stream
	[.bashrc]=application/octet-stream [style.css]=text/css
)
check "mkdir types" mkdir "$MNT/types"
for f in "${!CT[@]}"; do printf 'content of %s\n' "$f" >"$MNT/types/$f"; done
for f in $(printf '%s\n' "${!CT[@]}" | LC_ALL=C sort); do
	check_eq "Content-Type of $f is ${CT[$f]}" "${CT[$f]}" "$(blob_prop "types/$f" contentType)"
done

# ---------------------------------------------------------------- unlink
check "rm a file" rm "$MNT/touched"
check "the SDK no longer finds the removed blob" blob_absent touched
check "the mount no longer lists it" absent touched <(listing "$MNT")

# ---------------------------------------------------------------- staging
check_eq "no staging file outlives the successful commits" "" "$(find "$STAGE" -type f 2>/dev/null)"

# ---------------------------------------------------------------- a fresh mount
remount_fs || bail "remount"
for f in small.txt big.bin sparse.bin ryw.bin mapped.bin; do
	check_file_eq "a fresh mount reads $f as written" "$EXP/$f" "$MNT/$f"
done
check_file_eq "a fresh mount reads two.bin as written" "$TMPD/close1.want" "$MNT/two.bin"
check_eq "a fresh mount shows empty.dat with size 0" 0 "$(stat -c %s "$MNT/empty.dat")"
unmount_fs

# ---------------------------------------------------------------- a full staging area
# With cache_size_mb=1, non-sequential writes of 3 MiB need 3 MiB of staging:
# a write fails with ENOSPC instead of the area growing past its bound.
STAGE2=$TEST_DIR/stage-small
mount_fs "cache_dir=$STAGE2,cache_size_mb=1" "$C" || bail "mount with cache_size_mb=1"
out=$(pyrun '
import errno, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
res = "no error"
try:
    os.pwrite(fd, b"z" * 4096, 3 * 1024 * 1024)   # not sequential: staged
    for i in range(3 * 256):
        os.pwrite(fd, b"y" * 4096, i * 4096)
except OSError as e:
    res = errno.errorcode.get(e.errno, str(e.errno))
st = sum(os.stat(os.path.join(d, f)).st_blocks * 512 for d, _, fs in os.walk(sys.argv[2]) for f in fs)
try:
    os.close(fd)
except OSError:
    pass
print(res, st)
' "$MNT/toolarge.bin" "$STAGE2" 2>&1)
check_eq "non-sequential writes past cache_size_mb=1 fail with ENOSPC" ENOSPC "${out%% *}"
check_int "the staging area held at most 1 MiB (+ one 4 KiB block) at the failure" "${out##* }" -le $((MiB + 4096))
unmount_fs

done_testing
