#!/usr/bin/env node
// bench/azurite-launch.js - start Azurite's blob service for the benchmark.
//
//   node bench/azurite-launch.js NODE_MODULES [azurite-blob options...]
//
// NODE_MODULES is scripts/node/node_modules (Azurite 3.35.0). The options go
// to Azurite unchanged (e.g. --blobHost 127.0.0.1 --blobPort P
// --inMemoryPersistence --disableTelemetry). Two things differ from the
// plain azurite-blob binary, both done before Azurite's main is required:
//
//  1. Its extent garbage collection runs every AZURITE_GC_INTERVAL_MS
//     (default 24 h) instead of every 10 minutes: with tens of thousands of
//     blobs in memory one GC pass blocks the server for minutes, which would
//     land in the middle of a workload (see azurite-notes.md).
//  2. Its access log (morgan, on stdout, one line per request, written when
//     the response ends) uses a richer format, so that the benchmark can
//     attribute every request to a client and classify it:
//       AZLOG <iso-date> "<METHOD> <url>" <status> res=<bytes> req=<bytes>
//         range=<x-ms-range or Range> copy=<y|-> ms=<response time>
//         ua="<User-Agent>"
//     (one line). Azurite's own log lines (start-up messages) do not start
//     with AZLOG.
'use strict';

const path = require('path');
const Module = require('module');

const nm = process.argv[2];
if (!nm) {
	process.stderr.write('usage: azurite-launch.js NODE_MODULES [azurite-blob options...]\n');
	process.exit(2);
}
const azDir = path.join(path.resolve(nm), 'azurite');
const gcMs = Number(process.env.AZURITE_GC_INTERVAL_MS || 24 * 3600 * 1000);

const constants = require(path.join(azDir, 'dist/src/blob/utils/constants.js'));
constants.DEFAULT_GC_INTERVAL_MS = gcMs;

const realMorgan = require(require.resolve('morgan', { paths: [azDir] }));
realMorgan.token('bench-copy', (req) => (req.headers['x-ms-copy-source'] ? 'y' : '-'));
realMorgan.token('bench-range', (req) => req.headers['x-ms-range'] || req.headers.range || '-');
const FORMAT =
	'AZLOG :date[iso] ":method :url" :status res=:res[content-length] req=:req[content-length] ' +
	'range=:bench-range copy=:bench-copy ms=:response-time ua=":user-agent"';
function benchMorgan(format, options) {
	return realMorgan(FORMAT, options);
}

const origLoad = Module._load;
Module._load = function load(request, parent, isMain) {
	if (request === 'morgan') return benchMorgan;
	return origLoad.call(this, request, parent, isMain);
};

const main = path.join(azDir, 'dist/src/blob/main.js');
process.argv = [process.argv[0], main, ...process.argv.slice(3)];
require(main);
