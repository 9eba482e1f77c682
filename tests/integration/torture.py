#!/usr/bin/env python3
"""torture.py - random POSIX operations from several processes on a mount.

    torture.py MNT --seed S --seconds T --procs P --out RESULT.json

Each worker process owns the subtree MNT/wK and keeps a model of it (files
with their exact bytes and modes, directories): every operation's outcome,
success or errno, is checked against what the model says it must be. Besides
its own subtree each worker also hammers a shared area MNT/shared, where
workers race on the same few names (rename over open files, unlink while
open, truncate while another writes); there only the errno is checked (one of
those a filesystem may give for a lost race), never the content.

Operations: create (O_EXCL), write, pwrite (with holes), path and fd
truncate (including sizes that must give EFBIG), rename (file over file,
directory to a new name, file over a directory), unlink, mkdir, rmdir
(ENOTEMPTY, ENOTDIR), readdir, chmod, setxattr/getxattr, names over 255
bytes (ENAMETOOLONG), and writes past a small cache_dir (ENOSPC).

ENOSPC may come from any staged write while the cache is full (the cache is
shared): a file that met it is unlinked and leaves the model.

At the end the workers' models (what exists, with sha256 and mode) are written
to RESULT.json for the caller to compare with the service; counts of
operations and of each expected errno are written too. Exit status 0 when no
operation disagreed with the model, 1 otherwise (the first disagreements are
printed), 2 on usage errors.
"""
import argparse
import errno
import hashlib
import json
import multiprocessing
import os
import random
import stat
import sys
import time

MIB = 1 << 20
# Over the largest blob the service can hold (50,000 blocks of 4,000 MiB).
HUGE = [10**15, 2**62, 191 * (1 << 40)]
RACE_ERRNOS = {errno.ENOENT, errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR, errno.ENOTDIR,
               errno.ESTALE, errno.EIO, errno.ENOSPC, errno.EBUSY, errno.EINVAL, errno.EBADF}


class Disagree(Exception):
    pass


def ename(e):
    return errno.errorcode.get(e, str(e)) if e else "success"


class Worker:
    def __init__(self, mnt, wid, seed, deadline, cache_mb):
        self.mnt = mnt
        self.wid = wid
        self.rng = random.Random(seed * 1000 + wid)
        self.deadline = deadline
        self.cache_mb = cache_mb
        self.root = "w%d" % wid
        self.files = {}   # rel path -> bytearray
        self.modes = {}   # rel path -> mode bits
        self.dirs = {self.root}
        self.ops = {}
        self.errs = {}
        self.bad = []
        self.counter = 0
        self.held = []    # fds held open in the shared area
        self.log = None   # the operations done, one line each (--log)

    # ---- helpers ----
    def p(self, rel):
        return os.path.join(self.mnt, rel)

    def newname(self, prefix="f"):
        self.counter += 1
        return "%s%d" % (prefix, self.counter)

    def note(self, op, err):
        self.ops[op] = self.ops.get(op, 0) + 1
        if err:
            k = "%s:%s" % (op, ename(err))
            self.errs[k] = self.errs.get(k, 0) + 1

    def check(self, op, what, got, want):
        """got/want: errno (0 for success) or a set of allowed errnos."""
        self.note(op, got)
        if self.log:
            self.log.write("%.3f %s %s: %s\n" % (time.monotonic(), op, what, ename(got)))
        ok = got in want if isinstance(want, (set, frozenset)) else got == want
        if not ok:
            w = "/".join(ename(x) for x in sorted(want)) if isinstance(want, (set, frozenset)) else ename(want)
            self.bad.append("%s %s: got %s, want %s" % (op, what, ename(got), w))
            raise Disagree()

    def call(self, fn, *a):
        try:
            return 0, fn(*a)
        except OSError as e:
            return e.errno, None

    def children(self, d):
        pre = d + "/"
        names = set()
        for f in self.files:
            if f.startswith(pre) and "/" not in f[len(pre):]:
                names.add(f[len(pre):])
        for x in self.dirs:
            if x.startswith(pre) and "/" not in x[len(pre):]:
                names.add(x[len(pre):])
        return names

    def pick_dir(self):
        return self.rng.choice(sorted(self.dirs))

    def pick_file(self):
        return self.rng.choice(sorted(self.files)) if self.files else None

    def data(self, n):
        return self.rng.randbytes(n)

    def size(self):
        r = self.rng.random()
        if r < 0.5:
            return self.rng.randrange(0, 4096)
        if r < 0.9:
            return self.rng.randrange(4096, 256 * 1024)
        return self.rng.randrange(256 * 1024, 3 * MIB)

    def enospc(self, rel):
        """A staged write met the full cache: the file's bytes are unknown now; drop it."""
        self.note("enospc-cleanup", 0)
        err, _ = self.call(os.unlink, self.p(rel))
        self.check("unlink-after-enospc", rel, err, {0, errno.ENOENT} if rel not in self.files else 0)
        self.files.pop(rel, None)
        self.modes.pop(rel, None)

    def write_file(self, fd, rel, data, off):
        """pwrite all of data; returns errno."""
        done = 0
        while done < len(data):
            err, n = self.call(os.pwrite, fd, data[done:done + MIB], off + done)
            if err:
                return err
            done += n
        return 0

    # ---- operations on the worker's own subtree ----
    def op_create(self):
        d = self.pick_dir()
        rel = d + "/" + self.newname()
        data = self.data(self.size())
        err, fd = self.call(os.open, self.p(rel), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        self.check("create", rel, err, 0)
        werr = self.write_file(fd, rel, data, 0)
        cerr, _ = self.call(os.close, fd)
        if werr == errno.ENOSPC or cerr == errno.ENOSPC:
            self.note("create", errno.ENOSPC)
            self.files[rel] = bytearray()
            self.enospc(rel)
            return
        self.check("write", rel, werr, 0)
        self.check("close", rel, cerr, 0)
        self.files[rel] = bytearray(data)
        self.modes[rel] = 0o644
        # Creating an existing name exclusively must fail.
        err, fd = self.call(os.open, self.p(rel), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        if not err:
            os.close(fd)
        self.check("create-excl", rel, err, errno.EEXIST)

    def rewrite(self, op, rel, flags, data, off):
        """Open rel, write data at off, close: False when ENOSPC dropped the file."""
        err, fd = self.call(os.open, self.p(rel), flags)
        self.check("open-" + op, rel, err, 0)
        werr = self.write_file(fd, rel, data, off)
        cerr, _ = self.call(os.close, fd)
        if errno.ENOSPC in (werr, cerr):
            self.note(op, errno.ENOSPC)
            self.enospc(rel)
            return False
        self.check(op, rel, werr, 0)
        self.check("close", rel, cerr, 0)
        return True

    def op_pwrite(self):
        rel = self.pick_file()
        if rel is None:
            return self.op_create()
        cur = self.files[rel]
        off = self.rng.randrange(0, len(cur) + 64 * 1024)
        data = self.data(self.rng.randrange(1, 128 * 1024))
        if self.rewrite("pwrite", rel, os.O_RDWR, data, off):
            if off > len(cur):
                cur.extend(bytes(off - len(cur)))
            cur[off:off + len(data)] = data

    def op_append(self):
        rel = self.pick_file()
        if rel is None:
            return self.op_create()
        data = self.data(self.rng.randrange(1, 64 * 1024))
        if self.rewrite("append", rel, os.O_WRONLY | os.O_APPEND, data, len(self.files[rel])):
            self.files[rel].extend(data)

    def op_truncate(self):
        rel = self.pick_file()
        if rel is None:
            return self.op_create()
        cur = self.files[rel]
        r = self.rng.random()
        if r < 0.3:
            err, _ = self.call(os.truncate, self.p(rel), self.rng.choice(HUGE))
            self.check("truncate-huge", rel, err, errno.EFBIG)
            return
        n = self.rng.randrange(0, len(cur) + 128 * 1024)
        if r < 0.65:
            err, _ = self.call(os.truncate, self.p(rel), n)
            op = "truncate"
        else:
            err, fd = self.call(os.open, self.p(rel), os.O_RDWR)
            self.check("open-rw", rel, err, 0)
            err, _ = self.call(os.ftruncate, fd, n)
            if not err and self.rng.random() < 0.3:
                herr, _ = self.call(os.ftruncate, fd, self.rng.choice(HUGE))
                self.check("ftruncate-huge", rel, herr, errno.EFBIG)
            cerr, _ = self.call(os.close, fd)
            err = err or cerr
            op = "ftruncate"
        if err == errno.ENOSPC:
            self.note(op, err)
            self.enospc(rel)
            return
        self.check(op, "%s to %d" % (rel, n), err, 0)
        if n < len(cur):
            del cur[n:]
        else:
            cur.extend(bytes(n - len(cur)))

    def op_read(self):
        rel = self.pick_file()
        if rel is None:
            return
        err, fd = self.call(os.open, self.p(rel), os.O_RDONLY)
        self.check("open-r", rel, err, 0)
        got = bytearray()
        while True:
            err, chunk = self.call(os.read, fd, MIB)
            if err or not chunk:
                break
            got += chunk
        os.close(fd)
        self.check("read", rel, err, 0)
        if got != self.files[rel]:
            self.note("read", errno.EIO)
            self.bad.append("read %s: %d bytes differ from the model's %d (sha %s vs %s)" % (
                rel, len(got), len(self.files[rel]), hashlib.sha256(got).hexdigest()[:12],
                hashlib.sha256(self.files[rel]).hexdigest()[:12]))
            raise Disagree()

    def op_rename_file(self):
        src = self.pick_file()
        if src is None:
            return self.op_create()
        r = self.rng.random()
        if r < 0.4 and len(self.files) > 1:
            dst = self.rng.choice(sorted(f for f in self.files if f != src))
        elif r < 0.5 and len(self.dirs) > 1:
            dst = self.rng.choice(sorted(d for d in self.dirs if d != self.root))
            err, _ = self.call(os.rename, self.p(src), self.p(dst))
            # Onto one of its own ancestors the kernel answers ENOTEMPTY first.
            want = errno.ENOTEMPTY if src.startswith(dst + "/") else errno.EISDIR
            self.check("rename-file-over-dir", "%s -> %s" % (src, dst), err, want)
            return
        else:
            dst = self.pick_dir() + "/" + self.newname("r")
        err, _ = self.call(os.rename, self.p(src), self.p(dst))
        self.check("rename", "%s -> %s" % (src, dst), err, 0)
        self.files[dst] = self.files.pop(src)
        self.modes[dst] = self.modes.pop(src)

    def op_rename_dir(self):
        cands = sorted(d for d in self.dirs if d != self.root)
        if not cands:
            return self.op_mkdir()
        src = self.rng.choice(cands)
        parent = self.rng.choice(sorted(d for d in self.dirs if d != src and not d.startswith(src + "/")))
        dst = parent + "/" + self.newname("dr")
        err, _ = self.call(os.rename, self.p(src), self.p(dst))
        self.check("rename-dir", "%s -> %s" % (src, dst), err, 0)
        pre = src + "/"
        self.dirs = {dst + x[len(src):] if (x == src or x.startswith(pre)) else x for x in self.dirs}
        for f in [f for f in self.files if f.startswith(pre)]:
            nf = dst + f[len(src):]
            self.files[nf] = self.files.pop(f)
            self.modes[nf] = self.modes.pop(f)

    def op_unlink(self):
        if self.rng.random() < 0.2:
            rel = self.pick_dir() + "/" + self.newname("missing")
            err, _ = self.call(os.unlink, self.p(rel))
            self.check("unlink-missing", rel, err, errno.ENOENT)
            return
        rel = self.pick_file()
        if rel is None:
            return
        err, _ = self.call(os.unlink, self.p(rel))
        self.check("unlink", rel, err, 0)
        del self.files[rel]
        del self.modes[rel]
        err, _ = self.call(os.stat, self.p(rel))
        self.check("stat-after-unlink", rel, err, errno.ENOENT)

    def op_mkdir(self):
        if self.rng.random() < 0.2 and len(self.dirs) > 1:
            rel = self.rng.choice(sorted(d for d in self.dirs if d != self.root))
            err, _ = self.call(os.mkdir, self.p(rel))
            self.check("mkdir-existing", rel, err, errno.EEXIST)
            return
        if len(self.dirs) > 12:
            return self.op_rmdir()
        rel = self.pick_dir() + "/" + self.newname("d")
        err, _ = self.call(os.mkdir, self.p(rel), 0o755)
        self.check("mkdir", rel, err, 0)
        self.dirs.add(rel)

    def op_rmdir(self):
        cands = sorted(d for d in self.dirs if d != self.root)
        if not cands:
            return self.op_mkdir()
        rel = self.rng.choice(cands)
        if self.children(rel):
            err, _ = self.call(os.rmdir, self.p(rel))
            self.check("rmdir-nonempty", rel, err, errno.ENOTEMPTY)
            return
        err, _ = self.call(os.rmdir, self.p(rel))
        self.check("rmdir", rel, err, 0)
        self.dirs.discard(rel)
        f = self.pick_file()
        if f:
            err, _ = self.call(os.rmdir, self.p(f))
            self.check("rmdir-file", f, err, errno.ENOTDIR)

    def op_readdir(self):
        d = self.pick_dir()
        err, names = self.call(os.listdir, self.p(d))
        self.check("readdir", d, err, 0)
        want = self.children(d)
        if set(names) != want or len(names) != len(set(names)):
            self.note("readdir", errno.EIO)
            self.bad.append("readdir %s: extra %s, missing %s%s" % (
                d, sorted(set(names) - want)[:5], sorted(want - set(names))[:5],
                ", duplicates" if len(names) != len(set(names)) else ""))
            raise Disagree()

    def op_chmod(self):
        rel = self.pick_file()
        if rel is None:
            return
        mode = self.rng.choice([0o600, 0o640, 0o644, 0o755, 0o700, 0o444])
        err, _ = self.call(os.chmod, self.p(rel), mode)
        self.check("chmod", rel, err, 0)
        self.modes[rel] = mode
        err, st = self.call(os.stat, self.p(rel))
        self.check("stat", rel, err, 0)
        if stat.S_IMODE(st.st_mode) != mode or st.st_size != len(self.files[rel]):
            self.note("stat", errno.EIO)
            self.bad.append("stat %s: mode %o size %d, want %o and %d" % (
                rel, stat.S_IMODE(st.st_mode), st.st_size, mode, len(self.files[rel])))
            raise Disagree()

    def op_xattr(self):
        rel = self.pick_file()
        if rel is None:
            return
        val = self.data(self.rng.randrange(1, 200))
        err, _ = self.call(os.setxattr, self.p(rel), "user.torture", val)
        self.check("setxattr", rel, err, 0)
        err, got = self.call(os.getxattr, self.p(rel), "user.torture")
        self.check("getxattr", rel, err, 0)
        if got != val:
            self.note("getxattr", errno.EIO)
            self.bad.append("getxattr %s: value differs" % rel)
            raise Disagree()
        err, _ = self.call(os.getxattr, self.p(rel), "user.absent")
        self.check("getxattr-absent", rel, err, errno.ENODATA)

    def op_longname(self):
        d = self.pick_dir()
        rel = d + "/" + "n" * self.rng.choice([256, 300, 1000])
        fn = self.rng.choice(["create", "mkdir", "rename", "stat"])
        if fn == "create":
            err, fd = self.call(os.open, self.p(rel), os.O_CREAT | os.O_WRONLY, 0o644)
            if not err:
                os.close(fd)
        elif fn == "mkdir":
            err, _ = self.call(os.mkdir, self.p(rel))
        elif fn == "rename" and self.files:
            err, _ = self.call(os.rename, self.p(self.pick_file()), self.p(rel))
        else:
            err, _ = self.call(os.stat, self.p(rel))
        self.check("longname-" + fn, d, err, errno.ENAMETOOLONG)

    def op_fill_cache(self):
        """Staged writes past cache_size_mb: some write (or the close) must give ENOSPC."""
        rel = self.root + "/" + self.newname("big")
        err, fd = self.call(os.open, self.p(rel), os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
        self.check("create", rel, err, 0)
        chunk = self.data(MIB)
        n = self.cache_mb + 4
        werr = 0
        # Backwards from the end: every write is out of order, so staged.
        for i in range(n - 1, -1, -1):
            werr = self.write_file(fd, rel, chunk, i * MIB)
            if werr:
                break
        cerr, _ = self.call(os.close, fd)
        got = werr or cerr
        self.check("fill-cache", rel, got, errno.ENOSPC)
        self.files[rel] = bytearray()
        self.enospc(rel)

    # ---- the shared area: races, errno checked only ----
    def op_shared(self):
        names = ["shared/s%d" % i for i in range(6)]
        a, b = self.rng.choice(names), self.rng.choice(names)
        r = self.rng.random()
        if r < 0.25:
            err, fd = self.call(os.open, self.p(a), os.O_CREAT | os.O_RDWR, 0o644)
            if not err:
                self.call(os.pwrite, fd, self.data(self.rng.randrange(0, 200000)), self.rng.randrange(0, 100000))
                if self.rng.random() < 0.5 and len(self.held) < 4:
                    self.held.append(fd)
                    err = 0
                else:
                    err, _ = self.call(os.close, fd)
            self.check("shared-write", a, err, RACE_ERRNOS | {0})
        elif r < 0.4:
            err, _ = self.call(os.rename, self.p(a), self.p(b))
            self.check("shared-rename", a, err, RACE_ERRNOS | {0})
        elif r < 0.55:
            err, _ = self.call(os.unlink, self.p(a))
            self.check("shared-unlink", a, err, RACE_ERRNOS | {0})
        elif r < 0.65:
            err, _ = self.call(os.truncate, self.p(a), self.rng.choice([0, 10, 70000] + HUGE))
            self.check("shared-truncate", a, err, RACE_ERRNOS | {0, errno.EFBIG})
        elif r < 0.75:
            err, _ = self.call(os.listdir, self.p("shared"))
            self.check("shared-readdir", "shared", err, 0)
        elif r < 0.85 and self.held:
            fd = self.held.pop(self.rng.randrange(len(self.held)))
            self.call(os.pwrite, fd, b"x" * 100, 5)
            self.call(os.ftruncate, fd, self.rng.choice([0, 3, 9000]))
            err, _ = self.call(os.close, fd)
            self.check("shared-close", "held fd", err, RACE_ERRNOS | {0})
        else:
            err, _ = self.call(os.chmod, self.p(a), 0o600)
            self.check("shared-chmod", a, err, RACE_ERRNOS | {0})

    def run(self):
        err, _ = self.call(os.mkdir, self.p(self.root))
        self.check("mkdir", self.root, err, 0)
        table = [
            (self.op_create, 14), (self.op_pwrite, 10), (self.op_append, 5), (self.op_truncate, 8),
            (self.op_read, 8), (self.op_rename_file, 6), (self.op_rename_dir, 2), (self.op_unlink, 6),
            (self.op_mkdir, 5), (self.op_rmdir, 4), (self.op_readdir, 6), (self.op_chmod, 4),
            (self.op_xattr, 3), (self.op_longname, 2), (self.op_shared, 12),
        ]
        fns = [f for f, w in table for _ in range(w)]
        n = 0
        try:
            if self.wid == 0:
                self.op_fill_cache()
            while time.monotonic() < self.deadline:
                self.rng.choice(fns)()
                n += 1
                # Keep the model small enough to check at the end.
                while len(self.files) > 40:
                    self.op_unlink()
        except Disagree:
            pass
        for fd in self.held:
            self.call(os.close, fd)
        return n


def work(args):
    mnt, wid, seed, deadline, cache_mb, logdir = args
    w = Worker(mnt, wid, seed, deadline, cache_mb)
    if logdir:
        w.log = open(os.path.join(logdir, "torture-w%d.log" % wid), "w", buffering=1)
    try:
        n = w.run()
    except OSError as e:
        w.bad.append("unexpected %s" % e)
        n = 0
    files = {f: {"sha256": hashlib.sha256(bytes(b)).hexdigest(), "size": len(b),
                 "mode": w.modes.get(f)} for f, b in w.files.items()}
    return {"wid": wid, "ops": n, "bad": w.bad, "files": files, "dirs": sorted(w.dirs),
            "counts": w.ops, "errnos": w.errs}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mnt")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--cache-mb", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--log", help="directory for one log of operations per worker")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1, 2**31)
    print("torture: seed %d, %d processes, %.0f s" % (seed, a.procs, a.seconds), flush=True)
    os.mkdir(os.path.join(a.mnt, "shared"))
    t0 = time.monotonic()
    deadline = t0 + a.seconds
    with multiprocessing.Pool(a.procs) as pool:
        res = pool.map(work, [(a.mnt, i, seed, deadline, a.cache_mb, a.log) for i in range(a.procs)])
    took = time.monotonic() - t0
    ops = sum(r["ops"] for r in res)
    out = {"seed": seed, "seconds": took, "ops": ops, "files": {}, "dirs": ["shared"], "counts": {},
           "errnos": {}}
    bad = []
    for r in res:
        out["files"].update(r["files"])
        out["dirs"] += r["dirs"]
        for k in ("counts", "errnos"):
            for op, c in r[k].items():
                out[k][op] = out[k].get(op, 0) + c
        bad += ["w%d: %s" % (r["wid"], b) for b in r["bad"]]
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
    print("torture: %d operations in %.1f s (%.0f/s), seed %d" % (ops, took, ops / took, seed))
    print("torture: expected errors seen: %s" % ", ".join(
        "%s=%d" % kv for kv in sorted(out["errnos"].items())))
    for b in bad[:20]:
        print("torture: DISAGREE %s" % b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
