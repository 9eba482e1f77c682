#!/usr/bin/env python3
"""errno_probe.py ROOT - the errno each of a list of POSIX calls gives under ROOT.

Builds a small tree under ROOT (d/sub, full/x, empty, files f and g, a
symlink ln) and prints one line per case: "NAME<TAB>OK" or the errno's
name. t_errnos.sh runs it on the mount and on a tmpfs and compares.
"""
import errno, os, sys, ctypes
root = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
def r(name, fn):
    try:
        fn(); res = "OK"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    print("%s\t%s" % (name, res))
def renameat2(a, b, flags):
    AT_FDCWD = -100
    rc = libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags)
    if rc != 0:
        e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
p = lambda *x: os.path.join(root, *x)
os.makedirs(p("d/sub"), exist_ok=True)
os.makedirs(p("full/x"), exist_ok=True)
os.makedirs(p("empty"), exist_ok=True)
open(p("f"), "w").write("x"); open(p("g"), "w").write("y")
os.symlink("f", p("ln")) if not os.path.islink(p("ln")) else None
r("rename dir into own subdir", lambda: os.rename(p("d"), p("d/sub/in")))
r("rename dir over nonempty dir", lambda: os.rename(p("empty"), p("full")))
r("rename file over dir", lambda: os.rename(p("f"), p("empty")))
r("rename dir over file", lambda: os.rename(p("empty"), p("g")))
r("RENAME_NOREPLACE over existing", lambda: renameat2(p("f"), p("g"), 1))
r("RENAME_EXCHANGE", lambda: renameat2(p("f"), p("g"), 2))
r("unlink dir", lambda: os.unlink(p("empty")))
r("rmdir file", lambda: os.rmdir(p("f")))
r("rmdir dot", lambda: os.rmdir(p("empty/.")))
r("rmdir dotdot", lambda: os.rmdir(p("full/x/..")))
r("open O_DIRECTORY on file", lambda: os.close(os.open(p("f"), os.O_RDONLY | os.O_DIRECTORY)))
r("O_CREAT|O_EXCL on symlink", lambda: os.close(os.open(p("ln"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)))
r("name over 255", lambda: os.close(os.open(p("n" * 256), os.O_CREAT | os.O_WRONLY)))
r("truncate dir", lambda: os.truncate(p("empty"), 0))
r("mkdir existing", lambda: os.mkdir(p("empty")))
r("link", lambda: os.link(p("f"), p("hard")))
r("mknod fifo", lambda: os.mkfifo(p("fifo")))
r("rename to itself", lambda: os.rename(p("f"), p("f")))
r("rmdir nonempty", lambda: os.rmdir(p("full")))
r("rename missing", lambda: os.rename(p("nope"), p("nope2")))
r("rename dot", lambda: os.rename(p("empty/."), p("e2")))
r("mkdir under file", lambda: os.mkdir(p("f/x")))
r("unlink trailing slash file", lambda: os.unlink(p("f") + "/"))
