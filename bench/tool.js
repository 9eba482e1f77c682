#!/usr/bin/env node
// bench/tool.js - the benchmark's path to the service, over the official SDK
// (@azure/storage-blob from scripts/node/node_modules), sharing no code with
// azblobfs. bench/run.sh uses it to seed fixtures, to check through the REST
// API what a workload read or wrote, and to run the raw-backend baselines.
//
// The connection string comes from AZURE_STORAGE_CONNECTION_STRING. Every
// request carries x-ms-version 2025-11-05 (this SDK release would send a
// newer one that Azurite 3.35 refuses; see tests/integration/blobtool.js)
// and a User-Agent prefix naming its role, so that bench/report.js can tell
// the requests in Azurite's access log apart:
//   azblobfs-bench-check  seeding, checks and clean-up (never counted)
//   azblobfs-bench-raw    the raw-backend baselines (counted for "raw")
//
// Output is one JSON object on stdout. Subcommands:
//   json k=v k:=JSON k@=FILE ...     build an object (numbers stay numbers)
//   gen FILE BYTES                   random bytes into FILE; {sha256}
//   gen-dir DIR COUNT SIZE           COUNT random files DIR/f0000...; {}
//   sha FILE                         {sha256, bytes}
//   zero-sha BYTES                   {sha256} of BYTES zero bytes
//   sas-url C                        {url}: container URL with a SAS (racwdl, 12 h)
//   seed C MANIFEST --big FILE --ls N --tree A,B,F --small N --small-size S
//                                    fixtures, then MANIFEST (what the REST
//                                    API returns for them: hashes, listings)
//   seed-dir C PREFIX COUNT SIZE MANIFEST   COUNT random blobs PREFIX/f0000...
//   delete-prefix C PREFIX           delete every blob whose name starts with PREFIX
//   check-blob C NAME SHA SIZE [--wait S]   waits (polls) until NAME exists with
//                                    SIZE bytes, then compares its sha256
//                                    (the check-blob/dir/mv commands take
//                                    --only-wait 1: poll only, report
//                                    {visible, first_poll, visible_at})
//   check-dir C PREFIX LOCALDIR [--wait S]  blobs PREFIX/<f> against local files
//   check-mv C SRC DST MANIFEST [--wait S]  SRC/ gone, DST/ holds MANIFEST's files
//   check-file FILE SHA              sha256 of a local file (what a read produced)
//   check-ls OUT MANIFEST            `ls -l` output against the ls listing
//   check-find OUT MNT MANIFEST      `find MNT/tree` output against the tree
//   check-sample FILE REF N          N random 4 KiB blocks of FILE (the mount)
//                                    against REF (local copy verified at seed)
//   curl-cfg get|put SASURL NAME CFG [--size N --out-dir D | --parts D --list F --list-url F]
//                                    curl -Z configs for the raw W1/W2 (curl, not Node)
//   check-curl-get SIZES DIR SHA SIZE   the raw W2's check
//   raw-put-big C NAME FILE [--client sdk]   Put Block (8 MiB, 16 in flight)
//                                    + Put Block List
//   raw-get-big C NAME SIZE SHA [--client sdk]   ranged Get Blob (8 MiB, 16 in flight)
//   (the raw commands use a lean REST client over Node's http module with
//   Shared Key signing, see leanClient; --client sdk uses the SDK instead)
//   raw-list C PREFIX MANIFEST       List Blobs with delimiter and metadata (ls -l)
//   raw-list-flat C PREFIX MANIFEST  List Blobs without delimiter (the W4 tree)
//   raw-put-files C PREFIX LOCALDIR --inflight K   Put Blob per file
//   raw-get-files C PREFIX MANIFEST --inflight K   list + Get Blob per file
//   raw-randread C NAME SIZE REF --jobs J --seconds T   4 KiB ranged Get Blob
//   raw-mv C SRC DST --inflight K    list + Copy Blob + Delete Blob per blob
// Raw subcommands print {wall_s, cpu_s (this process, user+system),
// hwm_kib (this process's peak RSS), ...}; wall_s covers the transfer only
// (not Node's start-up, not the check).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');

const NODE_MODULES = process.env.BENCH_NODE_MODULES || path.join(__dirname, '../scripts/node/node_modules');
let sdk;
try {
	sdk = require(path.join(NODE_MODULES, '@azure/storage-blob'));
} catch (e) {
	process.stderr.write('tool.js: @azure/storage-blob missing: run scripts/deps.sh first\n');
	process.exit(1);
}

const API_VERSION = '2025-11-05';
const MiB = 1024 * 1024;
const BLOCK = 8 * MiB;

function service(role) {
	const cs = process.env.AZURE_STORAGE_CONNECTION_STRING;
	if (!cs) throw new Error('AZURE_STORAGE_CONNECTION_STRING is not set');
	const svc = sdk.BlobServiceClient.fromConnectionString(cs, {
		userAgentOptions: { userAgentPrefix: `azblobfs-bench-${role}` },
		retryOptions: { maxTries: 4, tryTimeoutInMs: 300000, retryDelayInMs: 200, maxRetryDelayInMs: 2000 },
	});
	svc.storageClientContext.pipeline.addPolicy({
		name: 'benchPinApiVersion',
		sendRequest(request, next) {
			request.headers.set('x-ms-version', API_VERSION);
			return next(request);
		},
	});
	return svc;
}
const container = (role, c) => service(role).getContainerClient(c);

function out(o) {
	process.stdout.write(JSON.stringify(o) + '\n');
}

function sha256(buf) {
	return crypto.createHash('sha256').update(buf).digest('hex');
}

function sha256File(file) {
	const h = crypto.createHash('sha256');
	const fd = fs.openSync(file, 'r');
	const buf = Buffer.allocUnsafe(8 * MiB);
	let n;
	let bytes = 0;
	while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
		h.update(buf.subarray(0, n));
		bytes += n;
	}
	fs.closeSync(fd);
	return { sha256: h.digest('hex'), bytes };
}

// Runs fn(i) for i in [0, count) with at most `n` in flight.
async function pool(n, count, fn) {
	let next = 0;
	const worker = async () => {
		while (next < count) await fn(next++);
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(n, count)) }, worker));
}

async function readBody(res, target) {
	// Copies a download's body into `target` (a Buffer of the exact size)
	// or returns it as a Buffer.
	const chunks = [];
	let off = 0;
	for await (const d of res.readableStreamBody) {
		if (target) {
			d.copy(target, off);
			off += d.length;
		} else {
			chunks.push(d);
		}
	}
	if (target) {
		if (off !== target.length) throw new Error(`short body: ${off} of ${target.length} bytes`);
		return target;
	}
	return Buffer.concat(chunks);
}

function blockId(i) {
	return Buffer.from(`bench-block-${String(i).padStart(8, '0')}`).toString('base64');
}

function isMarker(it) {
	const md = it.metadata || {};
	return it.name.endsWith('/') || String(md.hdi_isfolder || md.Hdi_isfolder || '').toLowerCase() === 'true';
}

async function listFlat(cc, prefix, withMeta = false) {
	const items = [];
	for await (const it of cc.listBlobsFlat({ prefix, includeMetadata: withMeta })) items.push(it);
	return items;
}

function parseOpts(argv) {
	const pos = [];
	const opt = {};
	for (let i = 0; i < argv.length; i++) {
		if (argv[i].startsWith('--')) opt[argv[i].slice(2)] = argv[++i];
		else pos.push(argv[i]);
	}
	return { pos, opt };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Date.now() / 1000;

// Measures fn: wall time and this process's CPU while it ran.
async function measured(fn) {
	const c0 = process.cpuUsage();
	const t0 = process.hrtime.bigint();
	const r = (await fn()) || {};
	const wall = Number(process.hrtime.bigint() - t0) / 1e9;
	const c = process.cpuUsage(c0);
	return { ...r, wall_s: wall, cpu_s: (c.user + c.system) / 1e6, hwm_kib: process.resourceUsage().maxRSS };
}

// Polls `probe` (resolves true when the condition holds) every 100 ms up to
// `wait` seconds. Returns {visible, first_poll, visible_at}.
async function waitFor(probe, wait) {
	const deadline = now() + wait;
	let first = true;
	for (;;) {
		let ok = false;
		try {
			ok = await probe();
		} catch (e) {
			ok = false;
		}
		if (ok) return { visible: true, first_poll: first, visible_at: now() };
		if (now() >= deadline) return { visible: false, first_poll: false, visible_at: null };
		first = false;
		await sleep(100);
	}
}

function lsLines(entries) {
	return entries
		.map(([n, s]) => `${n} ${s}`)
		.sort()
		.join('\n');
}

function treePaths(names, root) {
	const set = new Set([root]);
	for (const n of names) {
		const parts = n.split('/');
		for (let i = 1; i <= parts.length; i++) set.add(parts.slice(0, i).join('/'));
	}
	return [...set].sort();
}

function randomName(i, w = 4) {
	return 'f' + String(i).padStart(w, '0');
}

const commands = {
	async json(argv) {
		const o = {};
		for (const a of argv) {
			let m;
			if ((m = /^([^=:@]+)@=(.*)$/s.exec(a))) {
				try {
					o[m[1]] = JSON.parse(fs.readFileSync(m[2], 'utf8'));
				} catch (e) {
					o[m[1]] = null;
				}
			} else if ((m = /^([^=:@]+):=(.*)$/s.exec(a))) {
				o[m[1]] = JSON.parse(m[2]);
			} else if ((m = /^([^=]+)=(.*)$/s.exec(a))) {
				const v = m[2];
				o[m[1]] = v !== '' && /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(v) ? Number(v) : v;
			} else {
				throw new Error(`json: bad argument '${a}'`);
			}
		}
		out(o);
	},

	async gen([file, bytesS]) {
		const bytes = Number(bytesS);
		const fd = fs.openSync(file, 'w');
		const h = crypto.createHash('sha256');
		const buf = Buffer.allocUnsafe(8 * MiB);
		for (let left = bytes; left > 0; ) {
			const n = Math.min(left, buf.length);
			crypto.randomFillSync(buf, 0, n);
			fs.writeSync(fd, buf, 0, n);
			h.update(buf.subarray(0, n));
			left -= n;
		}
		fs.closeSync(fd);
		out({ sha256: h.digest('hex'), bytes });
	},

	async 'gen-dir'([dir, countS, sizeS]) {
		fs.mkdirSync(dir, { recursive: true });
		for (let i = 0; i < Number(countS); i++) fs.writeFileSync(path.join(dir, randomName(i)), crypto.randomBytes(Number(sizeS)));
		out({});
	},

	async sha([file]) {
		out(sha256File(file));
	},

	async 'zero-sha'([bytesS]) {
		const h = crypto.createHash('sha256');
		const z = Buffer.alloc(8 * MiB);
		for (let left = Number(bytesS); left > 0; left -= Math.min(left, z.length)) h.update(z.subarray(0, Math.min(left, z.length)));
		out({ sha256: h.digest('hex') });
	},

	async 'sas-url'([c]) {
		const cc = container('check', c);
		const t = Date.now();
		const q = sdk.generateBlobSASQueryParameters(
			{
				containerName: c,
				permissions: sdk.ContainerSASPermissions.parse('racwdl'),
				startsOn: new Date(t - 5 * 60 * 1000),
				expiresOn: new Date(t + 12 * 3600 * 1000),
				protocol: sdk.SASProtocol.HttpsAndHttp,
				version: API_VERSION,
			},
			cc.credential,
		);
		out({ url: `${cc.url}?${q.toString()}` });
	},

	async seed(argv) {
		const { pos, opt } = parseOpts(argv);
		const [c, manifestFile] = pos;
		const cc = container('check', c);
		await cc.createIfNotExists();
		const t0 = now();
		const m = { container: c };
		// 1. The big blob, from the local file (Put Block 8 MiB, 16 in flight).
		if (opt.big) {
			await cc.getBlockBlobClient('big.bin').uploadFile(opt.big, { blockSize: BLOCK, concurrency: 16 });
		}
		// 2. A flat directory of N small files.
		const lsN = Number(opt.ls || 0);
		if (lsN) {
			await pool(64, lsN, async (i) => {
				const name = `ls10k/f${String(i).padStart(5, '0')}`;
				const body = Buffer.from(`${name}\n`.repeat(8));
				await cc.getBlockBlobClient(name).upload(body, body.length);
			});
		}
		// 3. A 3-level tree: tree/aX/bY/fZZ.
		const [ta, tb, tf] = (opt.tree || '0,0,0').split(',').map(Number);
		const treeN = ta * tb * tf;
		if (treeN) {
			await pool(64, treeN, async (k) => {
				const a = Math.floor(k / (tb * tf));
				const b = Math.floor(k / tf) % tb;
				const f = k % tf;
				const name = `tree/a${a}/b${b}/f${String(f).padStart(2, '0')}`;
				const body = Buffer.from(`${name}\n`);
				await cc.getBlockBlobClient(name).upload(body, body.length);
			});
		}
		// 4. N small files of S random bytes.
		const smallN = Number(opt.small || 0);
		const smallSize = Number(opt['small-size'] || 4096);
		if (smallN) {
			await pool(64, smallN, async (i) => {
				const body = crypto.randomBytes(smallSize);
				await cc.getBlockBlobClient(`small/${randomName(i)}`).upload(body, body.length);
			});
		}
		m.seed_s = now() - t0;
		// The manifest: what the REST API says these fixtures are.
		if (opt.big) {
			const bc = cc.getBlobClient('big.bin');
			const p = await bc.getProperties();
			const h = crypto.createHash('sha256');
			for await (const d of (await bc.download(0)).readableStreamBody) h.update(d);
			m.big = { name: 'big.bin', size: p.contentLength, sha256: h.digest('hex') };
		}
		if (lsN) {
			const items = await listFlat(cc, 'ls10k/');
			const entries = items.map((it) => [it.name.slice('ls10k/'.length), it.properties.contentLength]);
			m.ls = { dir: 'ls10k', count: entries.length, sha256: sha256(lsLines(entries)) };
		}
		if (treeN) {
			const items = await listFlat(cc, 'tree/');
			const paths = treePaths(
				items.map((it) => it.name),
				'tree',
			);
			m.tree = { dir: 'tree', files: items.length, entries: paths.length, sha256: sha256(paths.join('\n')) };
		}
		if (smallN) {
			const items = await listFlat(cc, 'small/');
			const names = items.map((it) => it.name).sort();
			const bodies = new Array(names.length);
			await pool(32, names.length, async (i) => {
				bodies[i] = await readBody(await cc.getBlobClient(names[i]).download(0));
			});
			const all = Buffer.concat(bodies);
			m.small = { dir: 'small', count: names.length, bytes: all.length, sha256: sha256(all) };
		}
		m.manifest_s = now() - t0 - m.seed_s;
		fs.writeFileSync(manifestFile, JSON.stringify(m, null, 1));
		out(m);
	},

	async 'seed-dir'([c, prefix, countS, sizeS, manifestFile]) {
		const cc = container('check', c);
		const files = {};
		await pool(64, Number(countS), async (i) => {
			const body = crypto.randomBytes(Number(sizeS));
			const n = randomName(i);
			files[n] = sha256(body);
			await cc.getBlockBlobClient(`${prefix}/${n}`).upload(body, body.length);
		});
		fs.writeFileSync(manifestFile, JSON.stringify({ prefix, files }));
		out({ count: Object.keys(files).length });
	},

	async 'delete-prefix'([c, prefix]) {
		const cc = container('check', c);
		const items = await listFlat(cc, prefix);
		await pool(32, items.length, async (i) => {
			await cc.getBlobClient(items[i].name).deleteIfExists();
		});
		out({ deleted: items.length });
	},

	async 'check-blob'(argv) {
		const { pos, opt } = parseOpts(argv);
		const [c, name, want, sizeS] = pos;
		const bc = container('check', c).getBlobClient(name);
		const w = await waitFor(async () => (await bc.getProperties()).contentLength === Number(sizeS), Number(opt.wait || 60));
		if (opt['only-wait']) return out({ ...w, ok: w.visible });
		const r = { ...w, expected: want };
		if (!w.visible) {
			let size = null;
			try {
				size = (await bc.getProperties()).contentLength;
			} catch (e) {
				size = `absent (${e.statusCode || e.message})`;
			}
			return out({ ...r, ok: false, detail: `blob ${name} did not reach ${sizeS} bytes (size: ${size})` });
		}
		const h = crypto.createHash('sha256');
		for await (const d of (await bc.download(0)).readableStreamBody) h.update(d);
		r.sha256 = h.digest('hex');
		r.ok = r.sha256 === want;
		if (!r.ok) r.detail = `sha256 through the REST API ${r.sha256} differs from what was written ${want}`;
		out(r);
	},

	async 'check-dir'(argv) {
		const { pos, opt } = parseOpts(argv);
		const [c, prefix, dir] = pos;
		const cc = container('check', c);
		const local = fs.readdirSync(dir).sort();
		let items = [];
		const w = await waitFor(async () => {
			items = (await listFlat(cc, `${prefix}/`, true)).filter((it) => !isMarker(it));
			return items.length >= local.length;
		}, Number(opt.wait || 60));
		if (opt['only-wait']) return out({ ...w, ok: w.visible });
		const byName = new Map(items.map((it) => [it.name.slice(prefix.length + 1), it]));
		const missing = local.filter((n) => !byName.has(n));
		const extra = [...byName.keys()].filter((n) => !local.includes(n));
		const mismatched = [];
		await pool(32, local.length, async (i) => {
			const n = local[i];
			if (!byName.has(n)) return;
			const got = await readBody(await cc.getBlobClient(`${prefix}/${n}`).download(0));
			if (!got.equals(fs.readFileSync(path.join(dir, n)))) mismatched.push(n);
		});
		const ok = w.visible && !missing.length && !extra.length && !mismatched.length;
		const r = { ...w, ok, files: local.length, found: items.length, missing: missing.length, extra: extra.length, mismatched: mismatched.length };
		if (!ok) r.detail = `missing ${missing.slice(0, 3).join(',')}${missing.length > 3 ? '...' : ''} extra ${extra.slice(0, 3).join(',')} mismatched ${mismatched.slice(0, 3).join(',')}`;
		out(r);
	},

	async 'check-mv'(argv) {
		const { pos, opt } = parseOpts(argv);
		const [c, src, dst, manifestFile] = pos;
		const cc = container('check', c);
		const files = JSON.parse(fs.readFileSync(manifestFile, 'utf8')).files;
		const names = Object.keys(files).sort();
		let left = [];
		let got = [];
		const w = await waitFor(async () => {
			left = (await listFlat(cc, `${src}/`, true)).filter((it) => !isMarker(it));
			got = (await listFlat(cc, `${dst}/`, true)).filter((it) => !isMarker(it));
			return left.length === 0 && got.length >= names.length;
		}, Number(opt.wait || 60));
		if (opt['only-wait']) return out({ ...w, ok: w.visible });
		const have = new Set(got.map((it) => it.name.slice(dst.length + 1)));
		const missing = names.filter((n) => !have.has(n));
		const mismatched = [];
		await pool(32, names.length, async (i) => {
			if (!have.has(names[i])) return;
			const b = await readBody(await cc.getBlobClient(`${dst}/${names[i]}`).download(0));
			if (sha256(b) !== files[names[i]]) mismatched.push(names[i]);
		});
		const ok = w.visible && !missing.length && !mismatched.length && got.length === names.length;
		const r = { ...w, ok, files: names.length, found: got.length, left_in_src: left.length, missing: missing.length, mismatched: mismatched.length };
		if (!ok) r.detail = `src still holds ${left.length}; dst holds ${got.length} of ${names.length}; missing ${missing.length}; mismatched ${mismatched.length}`;
		out(r);
	},

	async 'check-file'([file, want]) {
		const s = sha256File(file);
		const r = { ok: s.sha256 === want, sha256: s.sha256, expected: want, bytes: s.bytes };
		if (!r.ok) r.detail = `sha256 of what was read ${s.sha256} differs from the REST API's ${want}`;
		out(r);
	},

	async 'check-ls'([file, manifestFile]) {
		const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')).ls;
		const entries = [];
		for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
			const f = line.trim().split(/\s+/);
			if (f.length < 9 || !/^[-dl]/.test(f[0])) continue;
			entries.push([f[f.length - 1], Number(f[4])]);
		}
		const got = sha256(lsLines(entries));
		const r = { ok: got === m.sha256 && entries.length === m.count, entries: entries.length, expected_entries: m.count, sha256: got, expected: m.sha256 };
		if (!r.ok) r.detail = `ls -l shows ${entries.length} names (REST: ${m.count}); names+sizes sha256 ${got === m.sha256 ? 'equal' : 'differ'}`;
		out(r);
	},

	async 'check-find'([file, mnt, manifestFile]) {
		const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')).tree;
		const lines = fs
			.readFileSync(file, 'utf8')
			.split('\n')
			.filter((l) => l)
			.map((l) => (l.startsWith(mnt + '/') ? l.slice(mnt.length + 1) : l))
			.sort();
		const got = sha256(lines.join('\n'));
		const r = { ok: got === m.sha256 && lines.length === m.entries, entries: lines.length, expected_entries: m.entries, sha256: got, expected: m.sha256 };
		if (!r.ok) r.detail = `find printed ${lines.length} paths (REST: ${m.entries}); sha256 ${got === m.sha256 ? 'equal' : 'differs'}`;
		out(r);
	},

	async 'check-sample'([file, ref, nS]) {
		const n = Number(nS);
		const size = fs.statSync(ref).size;
		const fd = fs.openSync(file, 'r');
		const rfd = fs.openSync(ref, 'r');
		const a = Buffer.alloc(4096);
		const b = Buffer.alloc(4096);
		const h = crypto.createHash('sha256');
		let bad = 0;
		for (let i = 0; i < n; i++) {
			const off = crypto.randomInt(0, Math.floor(size / 4096)) * 4096;
			const na = fs.readSync(fd, a, 0, 4096, off);
			fs.readSync(rfd, b, 0, 4096, off);
			h.update(a.subarray(0, na));
			if (na !== 4096 || !a.equals(b)) bad++;
		}
		fs.closeSync(fd);
		fs.closeSync(rfd);
		const r = { ok: bad === 0, samples: n, mismatches: bad, sha256: h.digest('hex') };
		if (!r.ok) r.detail = `${bad} of ${n} random 4 KiB reads differ from the blob's bytes`;
		out(r);
	},

	// curl configs for the raw W1/W2 (curl -Z -K CFG): one transfer per
	// 8 MiB block or range, separated by `next`, all with x-ms-version.
	async 'curl-cfg'(argv) {
		const { pos, opt } = parseOpts(argv);
		const [mode, sasUrl, name, cfg] = pos;
		const u = new URL(sasUrl);
		const base = `${u.origin}${u.pathname.replace(/\/$/, '')}/${name.split('/').map(encodeURIComponent).join('/')}`;
		const sas = u.search.slice(1);
		const blocks = [];
		if (mode === 'get') {
			const size = Number(opt.size);
			for (let i = 0, off = 0; off < size; i++, off += BLOCK) {
				const out = opt['out-dir'] ? `${opt['out-dir']}/p${String(i).padStart(4, '0')}` : '/dev/null';
				// write-out in every block: options before `next` apply to one transfer only.
				blocks.push(
					`url = "${base}?${sas}"\nrange = ${off}-${Math.min(off + BLOCK, size) - 1}\noutput = "${out}"\n` +
						`header = "x-ms-version: ${API_VERSION}"\nwrite-out = "%{size_download}\\n"\n`,
				);
			}
		} else if (mode === 'put') {
			const parts = fs.readdirSync(opt.parts).sort();
			const ids = parts.map((_, i) => blockId(i));
			parts.forEach((p, i) => {
				blocks.push(
					`url = "${base}?comp=block&blockid=${encodeURIComponent(ids[i])}&${sas}"\nupload-file = "${opt.parts}/${p}"\n` +
						`header = "x-ms-version: ${API_VERSION}"\nheader = "Expect:"\n`,
				);
			});
			fs.writeFileSync(opt.list, `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((id) => `<Latest>${id}</Latest>`).join('')}</BlockList>`);
			fs.writeFileSync(opt['list-url'], `${base}?comp=blocklist&${sas}\n`);
		} else {
			throw new Error(`curl-cfg: mode get or put, not '${mode}'`);
		}
		fs.writeFileSync(cfg, blocks.join('next\n'));
		out({ transfers: blocks.length });
	},

	// The raw W2 check: every transfer of the timed run (curl -w
	// '%{size_download}') brought its whole range, and the ranges, fetched
	// again into DIR (not timed), concatenate to the blob's sha256.
	async 'check-curl-get'([sizesFile, dir, want, sizeS]) {
		const size = Number(sizeS);
		const sizes = fs.readFileSync(sizesFile, 'utf8').split('\n').filter(Boolean).map(Number);
		const total = sizes.reduce((x, y) => x + y, 0);
		const h = crypto.createHash('sha256');
		for (const f of fs.readdirSync(dir).sort()) h.update(fs.readFileSync(path.join(dir, f)));
		const got = h.digest('hex');
		const r = { ok: total === size && got === want, transfers: sizes.length, bytes: total, sha256: got, expected: want };
		if (!r.ok) r.detail = `timed run got ${total} of ${size} bytes; the ranges fetched again hash to ${got}`;
		out(r);
	},

	async 'raw-put-big'(argv) {
		const { pos, opt } = parseOpts(argv);
		const [c, name, file] = pos;
		const size = fs.statSync(file).size;
		const nblocks = Math.ceil(size / BLOCK);
		const fd = fs.openSync(file, 'r');
		const ids = Array.from({ length: nblocks }, (_, i) => blockId(i));
		let stage;
		let commit;
		if (opt.client === 'sdk') {
			const bb = container('raw', c).getBlockBlobClient(name);
			stage = (i, buf) => bb.stageBlock(ids[i], buf, buf.length);
			commit = () => bb.commitBlockList(ids);
		} else {
			const lean = leanClient(c);
			stage = (i, buf) => lean.req('PUT', name, { query: `comp=block&blockid=${encodeURIComponent(ids[i])}`, body: buf, want: 201 });
			commit = () => {
				const xml = Buffer.from(`<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((id) => `<Latest>${id}</Latest>`).join('')}</BlockList>`);
				return lean.req('PUT', name, { query: 'comp=blocklist', body: xml, want: 201 });
			};
		}
		const r = await measured(async () => {
			await pool(16, nblocks, async (i) => {
				const len = Math.min(BLOCK, size - i * BLOCK);
				const buf = Buffer.allocUnsafe(len);
				fs.readSync(fd, buf, 0, len, i * BLOCK);
				await stage(i, buf);
			});
			await commit();
			return { bytes: size, client: opt.client || 'lean' };
		});
		fs.closeSync(fd);
		out(r);
	},

	async 'raw-get-big'(argv) {
		const { pos, opt } = parseOpts(argv);
		const [c, name, sizeS, want] = pos;
		const size = Number(sizeS);
		const target = Buffer.allocUnsafe(size);
		const n = Math.ceil(size / BLOCK);
		let get;
		if (opt.client === 'sdk') {
			const bc = container('raw', c).getBlobClient(name);
			get = async (off, len) => readBody(await bc.download(off, len), target.subarray(off, off + len));
		} else {
			const lean = leanClient(c);
			get = async (off, len) => {
				const r = await lean.req('GET', name, { headers: { 'x-ms-range': `bytes=${off}-${off + len - 1}` }, want: 206, into: target.subarray(off, off + len) });
				if (r.body.length !== len) throw new Error(`short read at ${off}: ${r.body.length} of ${len}`);
			};
		}
		const r = await measured(async () => {
			await pool(16, n, async (i) => get(i * BLOCK, Math.min(BLOCK, size - i * BLOCK)));
			return { bytes: size, client: opt.client || 'lean' };
		});
		const got = sha256(target);
		r.check = { ok: got === want, sha256: got, expected: want };
		out(r);
	},

	async 'raw-list'([c, prefix, manifestFile]) {
		const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')).ls;
		const lean = leanClient(c);
		let entries = [];
		const r = await measured(async () => {
			const { blobs, pages } = await lean.list(prefix, '/');
			entries = blobs.map((b) => [b.name.slice(prefix.length), b.size]);
			return { entries: entries.length, pages };
		});
		const got = sha256(lsLines(entries));
		r.check = { ok: got === m.sha256 && entries.length === m.count, sha256: got, expected: m.sha256, entries: entries.length };
		out(r);
	},

	async 'raw-list-flat'([c, prefix, manifestFile]) {
		const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')).tree;
		const lean = leanClient(c);
		let names = [];
		const r = await measured(async () => {
			const { blobs, pages } = await lean.list(prefix, null);
			names = blobs.map((b) => b.name);
			return { files: names.length, pages };
		});
		const paths = treePaths(names, 'tree');
		r.entries = paths.length;
		const got = sha256(paths.join('\n'));
		r.check = { ok: got === m.sha256, sha256: got, expected: m.sha256, entries: paths.length };
		out(r);
	},

	async 'raw-put-files'(argv) {
		const { pos, opt } = parseOpts(argv);
		const [c, prefix, dir] = pos;
		const lean = leanClient(c);
		const names = fs.readdirSync(dir).sort();
		const bodies = names.map((n) => fs.readFileSync(path.join(dir, n)));
		const r = await measured(async () => {
			await pool(Number(opt.inflight || 32), names.length, async (i) => {
				await lean.req('PUT', `${prefix}/${names[i]}`, { headers: { 'x-ms-blob-type': 'BlockBlob' }, body: bodies[i], want: 201 });
			});
			return { files: names.length };
		});
		out(r);
	},

	async 'raw-get-files'(argv) {
		const { pos, opt } = parseOpts(argv);
		const [c, prefix, manifestFile] = pos;
		const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')).small;
		const lean = leanClient(c);
		let bodies = [];
		const r = await measured(async () => {
			const names = (await lean.list(`${prefix}/`, '/')).blobs.map((b) => b.name).sort();
			bodies = new Array(names.length);
			await pool(Number(opt.inflight || 32), names.length, async (i) => {
				bodies[i] = (await lean.req('GET', names[i], { want: 200 })).body;
			});
			return { files: names.length };
		});
		const got = sha256(Buffer.concat(bodies));
		r.check = { ok: got === m.sha256, sha256: got, expected: m.sha256 };
		out(r);
	},

	async 'raw-randread'(argv) {
		const { pos, opt } = parseOpts(argv);
		const [c, name, sizeS, ref] = pos;
		const lean = leanClient(c);
		const blocks = Math.floor(Number(sizeS) / 4096);
		const jobs = Number(opt.jobs || 4);
		const seconds = Number(opt.seconds || 20);
		const rfd = fs.openSync(ref, 'r');
		const expect = Buffer.alloc(4096);
		let ios = 0;
		let checked = 0;
		let bad = 0;
		const r = await measured(async () => {
			const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
			await Promise.all(
				Array.from({ length: jobs }, async () => {
					while (process.hrtime.bigint() < end) {
						const off = crypto.randomInt(0, blocks) * 4096;
						const got = (await lean.req('GET', name, { headers: { 'x-ms-range': `bytes=${off}-${off + 4095}` }, want: 206 })).body;
						ios++;
						if (checked < 256) {
							checked++;
							fs.readSync(rfd, expect, 0, 4096, off);
							if (!got.equals(expect)) bad++;
						}
					}
				}),
			);
			return { ios };
		});
		fs.closeSync(rfd);
		r.iops = ios / r.wall_s;
		r.check = { ok: bad === 0, samples: checked, mismatches: bad };
		out(r);
	},

	async 'raw-mv'(argv) {
		const { pos, opt } = parseOpts(argv);
		const [c, src, dst] = pos;
		const lean = leanClient(c);
		const r = await measured(async () => {
			const items = (await lean.list(`${src}/`, null)).blobs;
			await pool(Number(opt.inflight || 32), items.length, async (i) => {
				const from = items[i].name;
				const res = await lean.req('PUT', `${dst}/${from.slice(src.length + 1)}`, { headers: { 'x-ms-copy-source': lean.url(from) }, want: 202 });
				const st = res.headers['x-ms-copy-status'];
				if (st && st !== 'success') throw new Error(`copy status ${st}`);
				await lean.req('DELETE', from, { want: 202 });
			});
			return { files: items.length };
		});
		out(r);
	},
};

// A lean REST client for the raw baselines: Node's http module, keep-alive,
// Shared Key signing with the account key of AZURE_STORAGE_CONNECTION_STRING
// (the same authentication azblobfs uses), no SDK pipeline. The SDK's
// per-request cost in Node (policies, stream wrappers, XML deserialisation)
// would otherwise make the client, not the service, the limit: on a 2-core
// machine its download path alone costs 3.5-5 s of CPU per GiB.
function leanClient(c) {
	const cs = process.env.AZURE_STORAGE_CONNECTION_STRING || '';
	const kv = Object.fromEntries(
		cs
			.split(';')
			.filter((p) => p.includes('='))
			.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
	);
	if (!kv.AccountName || !kv.AccountKey || !kv.BlobEndpoint) throw new Error('the connection string needs AccountName, AccountKey and BlobEndpoint');
	const account = kv.AccountName;
	const key = Buffer.from(kv.AccountKey, 'base64');
	const base = `${kv.BlobEndpoint.replace(/\/$/, '')}/${c}`;
	const basePath = new URL(base).pathname;
	const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
	const encPath = (blob) => (blob ? '/' + blob.split('/').map(encodeURIComponent).join('/') : '');
	const url = (blob, query) => `${base}${encPath(blob)}${query ? '?' + query : ''}`;
	function sign(method, blob, query, h) {
		const hv = (n) => {
			const k = Object.keys(h).find((x) => x.toLowerCase() === n);
			return k === undefined ? '' : String(h[k]);
		};
		const len = hv('content-length');
		const xms = Object.keys(h)
			.filter((k) => k.toLowerCase().startsWith('x-ms-'))
			.map((k) => [k.toLowerCase(), String(h[k]).trim()])
			.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
			.map(([k, v]) => `${k}:${v}\n`)
			.join('');
		let res = `/${account}${basePath}${encPath(blob)}`;
		const params = {};
		for (const [k, v] of new URLSearchParams(query || '')) (params[k.toLowerCase()] = params[k.toLowerCase()] || []).push(v);
		for (const k of Object.keys(params).sort()) res += `\n${k}:${params[k].sort().join(',')}`;
		const sts = [method, hv('content-encoding'), hv('content-language'), len === '0' ? '' : len, hv('content-md5'), hv('content-type'), '',
			hv('if-modified-since'), hv('if-match'), hv('if-none-match'), hv('if-unmodified-since'), hv('range')].join('\n') + '\n' + xms + res;
		return `SharedKey ${account}:${crypto.createHmac('sha256', key).update(sts, 'utf8').digest('base64')}`;
	}
	function req(method, blob, { query = '', headers = {}, body = null, want = 0, into = null } = {}) {
		return new Promise((resolve, reject) => {
			const h = { 'x-ms-version': API_VERSION, 'x-ms-date': new Date().toUTCString(), 'User-Agent': 'azblobfs-bench-raw lean-http', 'Content-Length': body ? body.length : 0, ...headers };
			h.Authorization = sign(method, blob, query, h);
			const rq = http.request(url(blob, query), { method, agent, headers: h }, (res) => {
				const chunks = [];
				let off = 0;
				res.on('data', (d) => {
					if (into && res.statusCode < 300) {
						d.copy(into, off);
						off += d.length;
					} else chunks.push(d);
				});
				res.on('end', () => {
					const out = { status: res.statusCode, headers: res.headers, body: into && res.statusCode < 300 ? into.subarray(0, off) : Buffer.concat(chunks) };
					if (want && res.statusCode !== want) reject(new Error(`${method} ${blob}: HTTP ${res.statusCode} ${out.body.toString().slice(0, 300)}`));
					else resolve(out);
				});
				res.on('error', reject);
			});
			rq.on('error', reject);
			rq.end(body || undefined);
		});
	}
	async function list(prefix, delimiter) {
		const blobs = [];
		let marker = '';
		let pages = 0;
		do {
			let q = `restype=container&comp=list&include=metadata&maxresults=5000&prefix=${encodeURIComponent(prefix)}`;
			if (delimiter) q += `&delimiter=${encodeURIComponent(delimiter)}`;
			if (marker) q += `&marker=${encodeURIComponent(marker)}`;
			const xml = (await req('GET', '', { query: q, want: 200 })).body.toString();
			pages++;
			for (const m of xml.matchAll(/<Blob>[\s\S]*?<Name>([^<]*)<\/Name>[\s\S]*?<Content-Length>(\d+)<\/Content-Length>[\s\S]*?<\/Blob>/g)) {
				blobs.push({ name: unxml(m[1]), size: Number(m[2]) });
			}
			const nm = /<NextMarker>([^<]*)<\/NextMarker>/.exec(xml);
			marker = nm ? unxml(nm[1]) : '';
		} while (marker);
		return { blobs, pages };
	}
	return { req, list, url: (blob) => url(blob, '') };
}

function unxml(s) {
	return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

function describe(e) {
	if (e && e.statusCode) {
		const code = (e.details && e.details.errorCode) || e.code || '';
		return `HTTP ${e.statusCode}${code ? ' ' + code : ''}: ${String(e.message || '').split('\n')[0]}`;
	}
	return String((e && e.message) || e).split('\n')[0];
}

async function main() {
	const [cmd, ...argv] = process.argv.slice(2);
	if (!cmd || !Object.prototype.hasOwnProperty.call(commands, cmd)) {
		process.stderr.write(`tool.js: unknown command '${cmd || ''}'; commands: ${Object.keys(commands).join(' ')}\n`);
		process.exit(2);
	}
	try {
		await commands[cmd](argv);
	} catch (e) {
		process.stderr.write(`tool.js: ${cmd}: ${describe(e)}\n`);
		process.exit(1);
	}
}

main();
