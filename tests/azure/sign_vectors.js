// sign_vectors.js - how the Shared Key vectors in check_sign.c were made.
//
// Signs fixed requests with the Azure SDK's own policy
// (@azure/storage-common StorageSharedKeyCredentialPolicyV2, as used by
// @azure/storage-blob 12.32.0) at a frozen x-ms-date, and prints each
// Authorization header, plus the blob-name encoding the SDK uses
// (encodeURIComponent per path segment, then "'" -> %27, as in
// escapeURLPath). Run:
//   NODE_PATH=/tmp/az/node_modules node tests/azure/sign_vectors.js
// Not run by the test suite (it needs node and the SDK).
"use strict";
const { createPipelineRequest, createHttpHeaders } = require("@azure/core-rest-pipeline");
const { storageSharedKeyCredentialPolicy } = require("@azure/storage-common");

const DATE = "Tue, 03 Mar 2026 10:00:00 GMT";
Date.prototype.toUTCString = () => DATE; // the policy stamps x-ms-date with new Date()

const KEY_B64 = Buffer.from([...Array(64).keys()]).toString("base64"); // bytes 0..63
const DEV_KEY_B64 =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

function escapeBlob(name) {
  return name.split("/").map(encodeURIComponent).join("/").replace(/'/g, "%27");
}

async function sign(account, keyB64, method, url, headers, body) {
  const policy = storageSharedKeyCredentialPolicy({
    accountName: account,
    accountKey: Buffer.from(keyB64, "base64"),
  });
  const req = createPipelineRequest({ url, method, headers: createHttpHeaders(headers), body });
  let auth;
  await policy.sendRequest(req, async (r) => {
    auth = r.headers.get("authorization");
    return { status: 200, headers: createHttpHeaders(), request: r };
  });
  return auth;
}

const NASTY = "dir/sp ace/\u00fcn\u00efc\u00f6d\u00e9/100%/#hash?q+plus&a=b'@!*().txt";

(async () => {
  console.log("key", KEY_B64);
  console.log("nasty encoded", escapeBlob(NASTY));
  const v = "2025-11-05";
  console.log(
    "list",
    await sign("myaccount", KEY_B64, "GET",
      "https://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=list" +
        "&prefix=" + encodeURIComponent("dir/sub x+") + "&delimiter=%2F" +
        "&marker=" + encodeURIComponent("2!4!abc=") + "&maxresults=100&include=metadata",
      { "x-ms-version": v })
  );
  console.log(
    "put",
    await sign("myaccount", KEY_B64, "PUT",
      "https://myaccount.blob.core.windows.net/mycontainer/dir/file.txt",
      {
        "x-ms-version": v,
        "Content-Length": "11",
        "Content-Type": "text/plain",
        "x-ms-blob-type": "BlockBlob",
        "x-ms-meta-a1": "one",
        "x-ms-meta-a_1": "two",
        "x-ms-meta-Mode": "0644",
        "If-None-Match": "*",
      },
      "hello world")
  );
  console.log(
    "head",
    await sign("myaccount", KEY_B64, "HEAD",
      "https://myaccount.blob.core.windows.net/mycontainer/blob.bin",
      { "x-ms-version": v, "If-Match": '"0x8DCAFE"' })
  );
  console.log(
    "azurite",
    await sign("devstoreaccount1", DEV_KEY_B64, "GET",
      "http://127.0.0.1:10000/devstoreaccount1/mycontainer/" + escapeBlob("a b.txt"),
      { "x-ms-version": v, "x-ms-range": "bytes=0-1023" })
  );
  console.log(
    "nasty",
    await sign("myaccount", KEY_B64, "PUT",
      "https://myaccount.blob.core.windows.net/mycontainer/" + escapeBlob(NASTY) +
        "?comp=block&blockid=" + encodeURIComponent("AAAAAAAAAAEAAAAC"),
      { "x-ms-version": v, "Content-Length": "0" })
  );
})();
