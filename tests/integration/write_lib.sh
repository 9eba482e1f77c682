# shellcheck shell=bash
# tests/integration/write_lib.sh - checks shared by the write-path tests
# (t_write_*.sh), sourced after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/write_lib.sh"
#
# Every check here looks at the service through blobtool (the SDK), never
# through the mount, so that what a test wrote through the mount is proven
# to be on the service.

# sha256_of FILE: hex sha256 of a local file.
sha256_of() {
	sha256sum -- "$1" | awk '{ print $1 }'
}

# check_blob_file NAME BLOB FILE: the blob BLOB of $CONTAINER has exactly the
# bytes of the local FILE (size and sha256, through the SDK). For files of up
# to 64 KiB the first differing byte is shown on failure.
check_blob_file() {
	local name=$1 blob=$2 file=$3 props size want got
	if ! props=$(blobtool props "$CONTAINER" "$blob" 2>&1); then
		fail "$name" "the SDK cannot read the properties of '$blob': $props"
		return 1
	fi
	size=$(json_get size "$props")
	want=$(stat -c %s -- "$file")
	if [[ $size != "$want" ]]; then
		fail "$name" "size of blob '$blob' through the SDK: $size; expected $want"
		return 1
	fi
	if ((want <= 65536)); then
		blobtool get "$CONTAINER" "$blob" >"$TEST_DIR/blob.get" 2>&1 ||
			{ fail "$name" "the SDK cannot read '$blob': $(head -c 300 "$TEST_DIR/blob.get")"; return 1; }
		check_file_eq "$name" "$file" "$TEST_DIR/blob.get"
		return
	fi
	got=$(blobtool sha256 "$CONTAINER" "$blob" 2>&1)
	want=$(sha256_of "$file")
	check_eq "$name" "$want" "$got"
}

# check_blob_text NAME BLOB TEXT: the blob's bytes are exactly TEXT.
check_blob_text() {
	printf '%s' "$3" >"$TEST_DIR/blob.want"
	check_blob_file "$1" "$2" "$TEST_DIR/blob.want"
}

# blob_absent BLOB: the SDK says BLOB does not exist in $CONTAINER.
blob_absent() {
	local out
	out=$(blobtool exists "$CONTAINER" "$1" 2>&1)
	[[ $out == false ]]
}

# blob_present BLOB: the SDK says BLOB exists in $CONTAINER.
blob_present() {
	[[ $(blobtool exists "$CONTAINER" "$1" 2>&1) == true ]]
}

# blob_meta BLOB KEY: one metadata value of BLOB (fails when absent).
blob_meta() {
	local p
	p=$(blobtool props "$CONTAINER" "$1") || return 1
	json_get "metadata.$2" "$p"
}

# blob_prop BLOB FIELD: one field of "blobtool props" (size, contentType, ...).
blob_prop() {
	local p
	p=$(blobtool props "$CONTAINER" "$1") || return 1
	json_get "$2" "$p"
}

# blob_names [PREFIX]: every blob name under PREFIX, one per line, sorted.
blob_names() {
	local args=("$CONTAINER" --lines)
	[[ -n ${1:-} ]] && args+=(--prefix "$1")
	blobtool list "${args[@]}" | LC_ALL=C sort
}

# local_tree_manifest DIR: for every regular file under DIR, "relpath size
# sha256", sorted; for every symlink, "relpath -> target".
local_tree_manifest() {
	(
		cd -- "$1" || exit 1
		find . -mindepth 1 \( -type f -o -type l \) -printf '%P\n' | LC_ALL=C sort | while IFS= read -r f; do
			if [[ -L $f ]]; then
				printf '%s -> %s\n' "$f" "$(readlink -- "$f")"
			else
				printf '%s %s %s\n' "$f" "$(stat -c %s -- "$f")" "$(sha256_of "$f")"
			fi
		done
	)
}

# rest_tree_manifest PREFIX: the same manifest built from the service alone
# (blobtool dump --sha256): every blob under PREFIX that is not a folder
# marker (metadata hdi_isfolder=true), named relative to PREFIX; symlinks
# (metadata is_symlink=true) as "relpath -> content".
rest_tree_manifest() {
	blobtool dump "$CONTAINER" --prefix "$1" --sha256 | node -e '
const prefix = process.argv[1];
let s = "";
process.stdin.on("data", (d) => (s += d)).on("end", async () => {
	const lines = [];
	for (const b of JSON.parse(s)) {
		const md = {};
		for (const [k, v] of Object.entries(b.metadata)) md[k.toLowerCase()] = v;
		if (md.hdi_isfolder === "true") continue;
		const rel = b.name.slice(prefix.length);
		if (md.is_symlink === "true") lines.push(`${rel} -> (symlink ${b.size} bytes ${b.sha256})`);
		else lines.push(`${rel} ${b.size} ${b.sha256}`);
	}
	lines.sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : Buffer.from(a) > Buffer.from(b) ? 1 : 0));
	for (const l of lines) console.log(l);
});' "$1"
}

# symlink_manifest_line TARGET: how rest_tree_manifest shows a symlink whose
# target is TARGET (the blob's content is the target).
_symlink_rest_form() {
	printf '(symlink %s bytes %s)' "$(printf '%s' "$1" | wc -c)" "$(printf '%s' "$1" | sha256sum | awk '{ print $1 }')"
}

# local_tree_manifest_rest DIR: local_tree_manifest with symlinks in the form
# rest_tree_manifest gives them, so the two compare as strings.
local_tree_manifest_rest() {
	local line
	local_tree_manifest "$1" | while IFS= read -r line; do
		if [[ $line == *' -> '* ]]; then
			printf '%s -> %s\n' "${line%% -> *}" "$(_symlink_rest_form "${line#* -> }")"
		else
			printf '%s\n' "$line"
		fi
	done
}

# check_tree_rest NAME DIR PREFIX: every file and symlink under the local DIR
# exists as a blob under PREFIX with the same bytes (symlinks: the target as
# content), and no other non-folder blob exists under PREFIX.
check_tree_rest() {
	local want got
	want=$(local_tree_manifest_rest "$2")
	got=$(rest_tree_manifest "$3")
	check_eq "$1" "$want" "$got"
}

# tree_attrs DIR: "relpath type mode mtime(s.ns) size" of everything under
# DIR, sorted, for comparing what tools preserved (symlinks: no mode).
tree_attrs() {
	(cd -- "$1" && find . -mindepth 1 -printf '%P %y %m %T@ %s\n' | LC_ALL=C sort)
}

# stat_line FILE: "mode uid gid mtime(s.ns) size" of FILE.
stat_line() {
	stat -c '%a %u %g %.9Y %s' -- "$1"
}

# pyrun CODE ARGS...: run a Python snippet (CODE as the script, ARGS as argv[1:]).
pyrun() {
	local code=$1
	shift
	python3 -c "$code" "$@"
}

# no_blob_matching ERE: the SDK lists $CONTAINER and no blob name matches ERE
# as a whole (fails if the listing fails).
no_blob_matching() {
	local names
	names=$(blobtool list "$CONTAINER" --lines) || return 1
	! grep -qxE -- "$1" <<<"$names"
}

# no_blob_longer_than N: no blob name in $CONTAINER has more than N characters.
no_blob_longer_than() {
	local names
	names=$(blobtool list "$CONTAINER" --lines) || return 1
	# characters, not bytes (awk may count bytes)
	python3 -c '
import sys
n = int(sys.argv[1])
long = [l for l in sys.stdin.read().split("\n") if len(l) > n]
print("\n".join(long), end="")
sys.exit(1 if long else 0)
' "$1" <<<"$names"
}

# meta_lacks BLOB KEY: BLOB exists and has no metadata KEY (any case).
meta_lacks() {
	local p
	p=$(blobtool props "$CONTAINER" "$1") || return 1
	node -e 'const m = JSON.parse(process.argv[1]).metadata;
process.exit(Object.keys(m).some((k) => k.toLowerCase() === process.argv[2].toLowerCase()) ? 1 : 0);' "$p" "$2"
}

# blobs_present BLOB...: every BLOB exists in $CONTAINER.
blobs_present() {
	local b
	for b in "$@"; do blob_present "$b" || { echo "missing: $b"; return 1; }; done
}

# errno_of OP ARGS...: run one system call through Python and print "OK" or
# the errno name (EEXIST, EROFS, ...). OPs:
#   mkdir D | rmdir D | unlink F | rename A B | link A B | symlink T L |
#   mkfifo F | mknod_chr F | create F (O_CREAT|O_WRONLY) |
#   noreplace A B (renameat2 RENAME_NOREPLACE) | exchange A B (RENAME_EXCHANGE) |
#   open_w F | open_rw F | open_trunc F | open_append F (open, close) |
#   truncate F N (truncate(2)) | chmod F MODE(octal) | chown F UID GID |
#   utime F EPOCH | setxattr F NAME VALUE | removexattr F NAME |
#   fallocate F LEN | mmap_shared_w F (map read-write shared, write a byte)
errno_of() {
	pyrun '
import ctypes, errno, mmap, os, stat, sys
op, args = sys.argv[1], sys.argv[2:]
libc = ctypes.CDLL(None, use_errno=True)
def renameat2(a, b, flags):
    AT_FDCWD = -100
    if libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
def open_close(path, flags):
    os.close(os.open(path, flags, 0o644))
try:
    if op == "mkdir": os.mkdir(args[0])
    elif op == "rmdir": os.rmdir(args[0])
    elif op == "unlink": os.unlink(args[0])
    elif op == "rename": os.rename(args[0], args[1])
    elif op == "link": os.link(args[0], args[1])
    elif op == "symlink": os.symlink(args[0], args[1])
    elif op == "mkfifo": os.mkfifo(args[0])
    elif op == "mknod_chr": os.mknod(args[0], stat.S_IFCHR | 0o600, os.makedev(1, 3))
    elif op == "create": open_close(args[0], os.O_CREAT | os.O_WRONLY)
    elif op == "noreplace": renameat2(args[0], args[1], 1)
    elif op == "exchange": renameat2(args[0], args[1], 2)
    elif op == "open_w": open_close(args[0], os.O_WRONLY)
    elif op == "open_rw": open_close(args[0], os.O_RDWR)
    elif op == "open_trunc": open_close(args[0], os.O_RDONLY | os.O_TRUNC)
    elif op == "open_append": open_close(args[0], os.O_WRONLY | os.O_APPEND)
    elif op == "truncate": os.truncate(args[0], int(args[1]))
    elif op == "chmod": os.chmod(args[0], int(args[1], 8))
    elif op == "chown": os.chown(args[0], int(args[1]), int(args[2]))
    elif op == "utime": os.utime(args[0], (int(args[1]), int(args[1])))
    elif op == "setxattr": os.setxattr(args[0], args[1], args[2].encode())
    elif op == "removexattr": os.removexattr(args[0], args[1])
    elif op == "fallocate":
        fd = os.open(args[0], os.O_RDONLY)
        try: os.posix_fallocate(fd, 0, int(args[1]))
        finally: os.close(fd)
    elif op == "mmap_shared_w":
        fd = os.open(args[0], os.O_RDWR)
        m = mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        m[0:1] = b"!"; m.close(); os.close(fd)
    else: raise SystemExit("errno_of: unknown op " + op)
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
' "$@"
}
