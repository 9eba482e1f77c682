#!/usr/bin/env python3
"""tests/integration/fault_proxy.py - Azurite behind a proxy that refuses some copies.

    fault_proxy.py UPSTREAM_PORT PORT_FILE LOG_FILE REFUSE

Listens on 127.0.0.1 (a port the kernel picks, written to PORT_FILE once the
socket listens) and passes every request unchanged to Azurite on
127.0.0.1:UPSTREAM_PORT, except a Copy Blob (a PUT with x-ms-copy-source)
whose destination path contains REFUSE: that one gets 409 with an Azure
error body (not retryable), so a folder rename fails half way on purpose.
Shared Key signatures do not cover the host and port, so they stay valid.

LOG_FILE gets one line per request, flushed at once:
    COPY dst=PATH refused|passed
    DELETE path=PATH status=S
    OTHER METHOD PATH status=S

Python 3 standard library only; loopback only.
"""
import http.client
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-connection", "proxy-authorization", "proxy-authenticate"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def note(self, line):
        with open(self.server.log_file, "a") as f:
            f.write(line + "\n")

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if self.command == "PUT" and self.headers.get("x-ms-copy-source"):
            if self.server.refuse in path:
                self.note(f"COPY dst={path} refused")
                msg = (b'<?xml version="1.0" encoding="utf-8"?><Error><Code>InjectedCopyFailure</Code>'
                       b"<Message>refused by the test proxy</Message></Error>")
                self.send_response(409)
                self.send_header("Content-Type", "application/xml")
                self.send_header("x-ms-error-code", "InjectedCopyFailure")
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)
                return
            self.note(f"COPY dst={path} passed")
        up = http.client.HTTPConnection("127.0.0.1", self.server.upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        up.request(self.command, self.path, body=body if n else None, headers=headers)
        resp = up.getresponse()
        data = resp.read()
        if self.command == "DELETE":
            self.note(f"DELETE path={path} status={resp.status}")
        elif not self.headers.get("x-ms-copy-source"):
            self.note(f"OTHER {self.command} {path} status={resp.status}")
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        up.close()

    do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = handle_any


def main():
    upstream, port_file, log_file, refuse = sys.argv[1:5]
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.upstream = int(upstream)
    srv.log_file = log_file
    srv.refuse = refuse
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(port_file + ".tmp", port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
