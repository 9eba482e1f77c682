#!/usr/bin/env python3
"""tests/integration/hostile_server.py - a fake, misbehaving blob endpoint.

    hostile_server.py serve PORT_FILE LOG_FILE
    hostile_server.py content BLOB_NAME        (the bytes a blob holds, to stdout)

Serves http://127.0.0.1:PORT/devstoreaccount1 with one container,
"hostile", on a port the kernel picks (written to PORT_FILE once the
socket listens). It checks no signature. It answers List Blobs (prefix,
delimiter, marker, maxresults), Get Blob (x-ms-range / Range) and Get Blob
Properties correctly for "good/", "huge/" and the root, and misbehaves for each
other top-level folder F: LIST_BEHAVIOURS spoil every listing whose prefix
starts with "F/" (the folder's listing and every lookup inside it),
GET_BEHAVIOURS spoil every Get Blob of a blob under "F/". Every folder
holds F/f.bin; "good/" holds hello.txt, big.bin and after-F.txt for every F;
"huge/" holds HUGE_N empty blobs huge/f00000 ... (a directory larger than
Azurite can be seeded with in a test's time).

LOG_FILE gets one line per request, flushed at once:
    LIST prefix=P delim=D marker=M
    GET blob=B range=R
    HEAD blob=B
and "SENT F BYTES" when a streamed hostile body ends.

Python 3 standard library only; loopback only.
"""
import bisect
import hashlib
import os
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

ACCOUNT = "devstoreaccount1"
CONTAINER = "hostile"
KIB = 1024
MIB = 1024 * KIB
MTIME = "Mon, 01 Jan 2024 00:00:00 GMT"

# Folder -> what its listings get instead of a good answer.
LIST_BEHAVIOURS = {
    "loop": "NextMarker is the marker that was asked for, forever",
    "loop2": "NextMarker cycles between two markers (for 100 pages)",
    "badxml": "the XML stops in the middle of an element",
    "notxml": "the body is plain text",
    "entity": "a DOCTYPE declaring nested entities (billion laughs)",
    "badentry": "a Blob whose Content-Length is not a number",
    "nulname": "beside F/f.bin, a Blob whose Encoded name decodes to a NUL byte",
    "longmarker": "a 100 KiB NextMarker",
    "toomany": "5,002 entries in one page",
    "busy": "503 ServerBusy, always",
    "busyra": "503 ServerBusy with Retry-After: 1, always",
    "busyhuge": "503 ServerBusy with Retry-After: 3600",
    "bighdr": "a 1 MiB response header line",
    "manyhdr": "a good listing with 2,000 extra header lines",
    "bigbody": "a body announced as 10 GiB, streamed until the client hangs up",
    "bigxml": "a 40 MiB (well-formed) listing",
    "http09": "no status line: bytes that are not HTTP",
    "nothing": "the connection closes before any byte",
    "badlength": "Content-Length: abc",
    "cont": "100 Continue after 100 Continue, never a final response",
}
# Folder -> what a Get Blob of a blob under it gets.
GET_BEHAVIOURS = {
    "reset": "headers, then a TCP reset",
    "shortcl": "half the bytes Content-Length announces, then the connection closes",
    "shortrange": "a well-formed 206 holding half the range asked for",
    "stall": "headers, then silence",
    "full200": "200 with the whole blob although a smaller range was asked",
    "badrange": "206 with the right length but the bytes of another offset",
    "errbody": "500 with a 10 MiB error body",
}
FOLDERS = sorted(list(LIST_BEHAVIOURS) + list(GET_BEHAVIOURS))
BIG = {"good/big.bin": 3 * MIB + 12345, "full200/f.bin": 2 * MIB, "badrange/f.bin": 2 * MIB}


HUGE_N = 100000


def blob_names():
    names = ["good/hello.txt", "good/big.bin"]
    names += ["good/after-%s.txt" % f for f in FOLDERS]
    names += ["%s/f.bin" % f for f in FOLDERS]
    names += ["huge/f%05d" % i for i in range(HUGE_N)]
    return sorted(names)


NAMES = blob_names()
NAME_SET = frozenset(NAMES)
_content = {}


def content(name):
    """The bytes of blob NAME: text for .txt, empty under huge/, a pattern of period 251 otherwise."""
    if name.startswith("huge/"):
        return b""
    if name not in _content:
        if name == "good/hello.txt":
            data = b"hello from the good folder\n"
        elif name.endswith(".txt"):
            data = ("%s\n" % name).encode()
        else:
            size = BIG.get(name, 256 * KIB)
            seed = sum(name.encode()) % 251
            period = bytes((i * 7 + seed) % 251 for i in range(251))
            data = (period * (size // 251 + 1))[:size]
        _content[name] = data
    return _content[name]


def etag(name):
    return '"0x8D%s"' % hashlib.sha256(name.encode()).hexdigest()[:13].upper()


def blob_xml(name):
    return (
        "<Blob><Name>%s</Name><Properties><Creation-Time>%s</Creation-Time>"
        "<Last-Modified>%s</Last-Modified><Etag>%s</Etag>"
        "<Content-Length>%d</Content-Length><Content-Type>application/octet-stream"
        "</Content-Type><BlobType>BlockBlob</BlobType></Properties><Metadata /></Blob>"
        % (escape(name), MTIME, MTIME, escape(etag(name).strip('"')), len(content(name)))
    )


def enumeration(prefix, marker, inner, next_marker):
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<EnumerationResults ServiceEndpoint="http://127.0.0.1/%s/" ContainerName="%s">'
        "<Prefix>%s</Prefix><Marker>%s</Marker><Blobs>%s</Blobs><NextMarker>%s</NextMarker>"
        "</EnumerationResults>"
        % (ACCOUNT, CONTAINER, escape(prefix), escape(marker), inner, escape(next_marker))
    ).encode()


def good_listing(prefix, delim, marker, maxresults):
    """List Blobs as the service pages it: marker = the first key of the page."""
    keys = []
    start = bisect.bisect_left(NAMES, max(prefix, marker))
    # A prefix key may begin before the marker's name: back up to the prefix's start.
    if delim:
        start = bisect.bisect_left(NAMES, prefix)
    for n in NAMES[start:]:
        if not n.startswith(prefix):
            break
        cut = n.find(delim, len(prefix)) if delim else -1
        key = n[: cut + len(delim)] if cut >= 0 else n
        if key < marker:
            continue
        if not keys or keys[-1] != key:
            keys.append(key)
            if len(keys) > maxresults:
                break
    page, rest = keys[:maxresults], keys[maxresults:]
    inner = "".join(
        "<BlobPrefix><Name>%s</Name></BlobPrefix>" % escape(k) if delim and k.endswith(delim)
        else blob_xml(k) for k in page)
    return enumeration(prefix, marker, inner, rest[0] if rest else "")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, log_path):
        super().__init__(("127.0.0.1", 0), Handler)
        self.log_file = open(log_path, "a", encoding="utf-8")
        self.log_lock = threading.Lock()
        self.cycle_pages = 0

    def handle_error(self, request, client_address):
        # The daemon hanging up on a hostile reply is the point, not a failure.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def log(self, line):
        with self.log_lock:
            self.log_file.write(line + "\n")
            self.log_file.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile/1"
    timeout = 60  # an idle keep-alive connection, or a stuck client

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    # ------------------------------------------------------------ helpers
    def reply(self, status, body=b"", headers=(), content_type="application/xml"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-ms-version", "2025-11-05")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error_reply(self, status, code, message, headers=()):
        body = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code>'
                "<Message>%s</Message></Error>" % (code, escape(message))).encode()
        self.reply(status, body, [("x-ms-error-code", code)] + list(headers))

    def raw(self, data):
        self.wfile.write(data)
        self.close_connection = True

    def stream(self, folder, chunk, limit, pace=0.0):
        """Send CHUNK until the peer hangs up, LIMIT bytes or 30 s; log the count."""
        sent, t0 = 0, time.monotonic()
        self.close_connection = True
        self.connection.settimeout(10)
        try:
            while sent < limit and time.monotonic() - t0 < 30:
                self.connection.sendall(chunk)
                sent += len(chunk)
                if pace:
                    time.sleep(pace)  # pacing only: keeps the flood cheap
        except OSError:
            pass
        self.server.log("SENT %s %d" % (folder, sent))

    def wait_for_hangup(self, limit_s=30):
        self.connection.settimeout(limit_s)
        try:
            while self.connection.recv(65536):
                pass
        except OSError:
            pass
        self.close_connection = True

    # ------------------------------------------------------------ dispatch
    def do_GET(self):
        self.handle_request()

    def do_HEAD(self):
        self.handle_request()

    def handle_request(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        parts = url.path.split("/", 3)  # "", account, container, blob
        if len(parts) < 3 or parts[1] != ACCOUNT:
            return self.error_reply(400, "InvalidUri", "not this account")
        if parts[2] != CONTAINER:
            return self.error_reply(404, "ContainerNotFound", "The specified container does not exist.")
        blob = urllib.parse.unquote(parts[3]) if len(parts) == 4 else ""
        if not blob:
            if self.command == "GET" and q.get("restype") == "container" and q.get("comp") == "list":
                return self.list_blobs(q)
            return self.error_reply(400, "InvalidQueryParameterValue", "unsupported")
        if blob not in NAME_SET:
            return self.error_reply(404, "BlobNotFound", "The specified blob does not exist.")
        if self.command == "HEAD":
            self.server.log("HEAD blob=%s" % blob)
            return self.reply(200, content(blob), self.blob_headers(blob), "application/octet-stream")
        return self.get_blob(blob)

    # ------------------------------------------------------------ List Blobs
    def list_blobs(self, q):
        prefix, delim, marker = q.get("prefix", ""), q.get("delimiter", ""), q.get("marker", "")
        maxresults = int(q.get("maxresults") or 5000)
        self.server.log("LIST prefix=%s delim=%s marker=%s" % (prefix, delim, marker))
        folder = prefix.split("/", 1)[0] if "/" in prefix else None
        how = folder if folder in LIST_BEHAVIOURS else None
        if how is None:
            return self.reply(200, good_listing(prefix, delim, marker, maxresults))
        one = blob_xml("%s/f.bin" % folder)
        if how == "loop":
            return self.reply(200, enumeration(prefix, marker, one, "SAME-MARKER"))
        if how == "loop2":
            # Only two markers, A and B, taking turns; the listing ends after 100 pages.
            with self.server.log_lock:
                pages = self.server.cycle_pages = 1 if not marker else self.server.cycle_pages + 1
            nxt = "" if pages >= 100 else ("CYCLE-B" if marker == "CYCLE-A" else "CYCLE-A")
            return self.reply(200, enumeration(prefix, marker, one, nxt))
        if how == "badxml":
            body = enumeration(prefix, marker, one, "")
            return self.reply(200, body[: body.index(b"<Content-Length>") + 20])
        if how == "notxml":
            return self.reply(200, b"this is not XML at all\n", content_type="text/plain")
        if how == "entity":
            lol = ['<!ENTITY a0 "lollollollollollollollollollol">']
            lol += ['<!ENTITY a%d "%s">' % (i, "&a%d;" % (i - 1) * 10) for i in range(1, 10)]
            body = ('<?xml version="1.0"?><!DOCTYPE EnumerationResults [%s]>'
                    "<EnumerationResults><Blobs><Blob><Name>%s/x&a9;</Name></Blob></Blobs>"
                    "</EnumerationResults>" % ("".join(lol), folder)).encode()
            return self.reply(200, body)
        if how == "badentry":
            inner = re.sub("<Content-Length>[0-9]+<", "<Content-Length>-12ab<", one)
            return self.reply(200, enumeration(prefix, marker, inner, ""))
        if how == "nulname":
            bad = blob_xml("%s/a" % folder).replace(
                "<Name>%s/a</Name>" % folder, '<Name Encoded="true">%s/a%%00b</Name>' % folder)
            return self.reply(200, enumeration(prefix, marker, bad + one, ""))
        if how == "longmarker":
            return self.reply(200, enumeration(prefix, marker, one, "M" * (100 * KIB)))
        if how == "toomany":
            inner = "".join(blob_xml("%s/f.bin" % folder).replace("/f.bin<", "/f%05d.bin<" % i)
                            for i in range(5002))
            return self.reply(200, enumeration(prefix, marker, inner, ""))
        if how == "busy":
            return self.error_reply(503, "ServerBusy", "The server is busy.")
        if how == "busyra":
            return self.error_reply(503, "ServerBusy", "The server is busy.", [("Retry-After", "1")])
        if how == "busyhuge":
            return self.error_reply(503, "ServerBusy", "The server is busy.", [("Retry-After", "3600")])
        if how == "bighdr":
            return self.reply(200, enumeration(prefix, marker, one, ""), [("x-ms-junk", "j" * MIB)])
        if how == "manyhdr":
            extra = [("x-ms-extra-%d" % i, "v" * 20) for i in range(2000)]
            return self.reply(200, good_listing(prefix, delim, marker, maxresults), extra)
        if how == "bigbody":
            head = enumeration(prefix, marker, one, "")
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(10 * 1024 * MIB))
            self.end_headers()
            self.wfile.write(head[: head.index(b"<Blobs>") + 7])
            return self.stream(folder, b"<!-- " + b"x" * (MIB - 9) + b" -->", 10 * 1024 * MIB)
        if how == "bigxml":
            pad = "<!-- %s -->" % ("p" * (MIB - 9))
            return self.reply(200, enumeration(prefix, marker, one + pad * 40, ""))
        if how == "http09":
            return self.raw(b"this is not HTTP\r\n\r\nat all\r\n")
        if how == "nothing":
            self.close_connection = True
            return None
        if how == "badlength":
            return self.raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
                            b"Content-Length: abc\r\n\r\n" + enumeration(prefix, marker, one, ""))
        if how == "cont":
            return self.stream(folder, b"HTTP/1.1 100 Continue\r\n\r\n" * 400, 256 * MIB, 0.01)
        raise AssertionError(how)

    # ------------------------------------------------------------ Get Blob
    def blob_headers(self, blob):
        return [("ETag", etag(blob)), ("Last-Modified", MTIME), ("x-ms-blob-type", "BlockBlob"),
                ("Accept-Ranges", "bytes")]

    def get_blob(self, blob):
        data = content(blob)
        rng = self.headers.get("x-ms-range") or self.headers.get("Range") or ""
        self.server.log("GET blob=%s range=%s" % (blob, rng))
        first, last = 0, len(data) - 1
        ranged = rng.startswith("bytes=")
        if ranged:
            a, _, b = rng[6:].partition("-")
            first = int(a)
            last = min(int(b), len(data) - 1) if b else len(data) - 1
            if first >= len(data):
                return self.error_reply(416, "InvalidRange", "The range specified is invalid.")
        folder = blob.split("/", 1)[0]
        how = folder if folder in GET_BEHAVIOURS else None
        part = data[first:last + 1]
        hdrs = self.blob_headers(blob)
        if ranged:
            hdrs.append(("Content-Range", "bytes %d-%d/%d" % (first, last, len(data))))
        status = 206 if ranged else 200
        if how is None:
            return self.reply(status, part, hdrs, "application/octet-stream")
        if how == "full200":
            return self.reply(200, data, self.blob_headers(blob), "application/octet-stream")
        if how == "badrange":
            shift = 4099 if first == 0 else 0
            hdrs[-1] = ("Content-Range", "bytes %d-%d/%d" % (first + shift, last + shift, len(data)))
            return self.reply(status, data[first + shift:last + shift + 1], hdrs, "application/octet-stream")
        if how == "shortrange":
            half = part[: len(part) // 2]
            hdrs[-1] = ("Content-Range", "bytes %d-%d/%d" % (first, first + len(half) - 1, len(data)))
            return self.reply(status, half, hdrs, "application/octet-stream")
        if how == "errbody":
            body = b'<?xml version="1.0" encoding="utf-8"?><Error><Code>InternalError</Code>' \
                   b"<Message>" + b"m" * (10 * MIB) + b"</Message></Error>"
            return self.reply(500, body, [("x-ms-error-code", "InternalError")])
        # The rest announce the whole range, then break their word.
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(part)))
        for k, v in hdrs:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        if how == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return None
        if how == "shortcl":
            self.wfile.write(part[: len(part) // 2])
            return None
        if how == "stall":
            return self.wait_for_hangup()
        raise AssertionError(how)


def main(argv):
    if len(argv) == 3 and argv[1] == "content":
        sys.stdout.buffer.write(content(argv[2]))
        return 0
    if len(argv) != 4 or argv[1] != "serve":
        sys.stderr.write(__doc__)
        return 2
    srv = Server(argv[3])
    tmp = argv[2] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, argv[2])
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
