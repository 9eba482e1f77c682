#!/usr/bin/env node
// blobtool.js - the second path to the service for azblobfs tests.
//
// A small CLI over the official SDK (@azure/storage-blob), which shares no
// code with azblobfs: tests seed data with it and check through it what they
// saw through the mount. The connection string comes from
// AZURE_STORAGE_CONNECTION_STRING. Exit status 0 on success; on failure one
// line "blobtool: CMD: message" on stderr and exit status 1 (2 for usage).
//
// Subcommands (C = container, NAME = blob name):
//   mkcontainer C                       create (no error if it exists)
//   rmcontainer C                       delete (no error if it is absent)
//   containers [--prefix P]             JSON array of container names
//   put C NAME [FILE|-] [--meta k=v]... [--content-type T]
//                                       upload FILE, stdin (-), or nothing (0 bytes)
//   put-random C NAME BYTES [--seed S] [--block-size N]
//                                       deterministic pseudo-random content,
//                                       streamed; prints its sha256 (hex)
//   get C NAME [--offset O] [--count N] bytes to stdout (a range if given)
//   sha256 C NAME                       hex sha256 of the blob's bytes
//   props C NAME                        JSON {name,size,lastModified (epoch s),
//                                       etag,contentType,metadata,contentMD5
//                                       (hex, null when the blob has none)}
//   list C [--prefix P] [--delimiter D] [--lines]
//                                       names (and prefixes, ending in D, with a
//                                       delimiter) in service order; JSON array,
//                                       or one per line with --lines
//   delete C NAME                       delete a blob
//   exists C NAME                       prints true (exit 0) or false (exit 1)
//   put-many [--concurrency K]          one put per record on stdin, K (default
//                                       32) in flight: a record is put's
//                                       arguments (C NAME [FILE] [--meta k=v]...
//                                       [--content-type T]; no stdin '-'), each
//                                       ended by a NUL byte, and an empty
//                                       argument (one more NUL) ends the record
//   bulk-put C PREFIX... COUNT [--size N] [--concurrency K]
//                                       COUNT blobs under each PREFIX: PREFIX00000,
//                                       PREFIX00001, ... (5 digits at least),
//                                       content = the blob's name and "\n"
//                                       repeated, cut to N bytes (default 16);
//                                       64 uploads in flight
//   setmeta C NAME k=v...               replace the blob's metadata
//   dump C [--prefix P] [--sha256]      JSON array, in service order, of every
//                                       blob under P: {name,size,contentType,
//                                       metadata} (+ sha256 of its bytes, hex,
//                                       with --sha256; 16 downloads in flight)
//   get-tree C PREFIX DIR               download every blob under PREFIX into
//                                       DIR (name minus PREFIX as the path);
//                                       folder markers (hdi_isfolder=true) become
//                                       directories, blobs with is_symlink=true
//                                       symlinks to their content
//   lease C NAME                        acquire an infinite lease on the blob
//                                       (writes and deletes without its id fail);
//                                       prints the lease id
//   unlease C NAME ID                   release that lease
//   blocks C NAME                       JSON {committed:[{name,size}],
//                                       uncommitted:[{name,size}]}: the block
//                                       list (names base64, as the service has them)
//   sas C [--perm P] [--minutes M]      a container SAS query string (no '?'),
//                                       permissions P (default rl), valid M
//                                       minutes (default 60), signed with the
//                                       connection string's account key
//   account-sas [--perm P] [--minutes M]  an account SAS (blob service,
//                                       resource types sco), permissions P
//                                       (default rl), the same way
//
// x-ms-version: requests carry BLOBTOOL_API_VERSION (default 2025-11-05,
// the newest version Azurite 3.35.0 accepts), because this SDK release would
// send a newer one that Azurite refuses while its version check is on.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { Readable } = require('stream');
const { pipeline } = require('stream/promises');

let sdk;
try {
	sdk = require(path.join(__dirname, '../../scripts/node/node_modules/@azure/storage-blob'));
} catch (e) {
	process.stderr.write('blobtool: @azure/storage-blob missing: run scripts/deps.sh first\n');
	process.exit(1);
}

const API_VERSION = process.env.BLOBTOOL_API_VERSION || '2025-11-05';
const MiB = 1024 * 1024;

class UsageError extends Error {}

function service() {
	const cs = process.env.AZURE_STORAGE_CONNECTION_STRING;
	if (!cs) throw new Error('AZURE_STORAGE_CONNECTION_STRING is not set');
	const svc = sdk.BlobServiceClient.fromConnectionString(cs, {
		retryOptions: { maxTries: 3, tryTimeoutInMs: 120000, retryDelayInMs: 500, maxRetryDelayInMs: 2000 },
	});
	// Every client derived from svc shares this pipeline.
	svc.storageClientContext.pipeline.addPolicy({
		name: 'blobtoolPinApiVersion',
		sendRequest(request, next) {
			request.headers.set('x-ms-version', API_VERSION);
			return next(request);
		},
	});
	return svc;
}

// Splits argv into positionals and --options. Options named in `multi`
// collect every value; `flags` take no value.
function parseArgs(argv, known, multi = [], flags = []) {
	const pos = [];
	const opt = {};
	for (const m of multi) opt[m] = [];
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a.startsWith('--') && a.length > 2) {
			const k = a.slice(2);
			if (flags.includes(k)) {
				opt[k] = true;
				continue;
			}
			if (!known.includes(k) && !multi.includes(k)) throw new UsageError(`unknown option ${a}`);
			if (i + 1 >= argv.length) throw new UsageError(`option ${a} needs a value`);
			const v = argv[++i];
			if (multi.includes(k)) opt[k].push(v);
			else opt[k] = v;
		} else {
			pos.push(a);
		}
	}
	return { pos, opt };
}

function need(pos, n, usage) {
	if (pos.length < n) throw new UsageError(`usage: ${usage}`);
}

function nonNegInt(s, what) {
	if (!/^[0-9]+$/.test(String(s))) throw new UsageError(`${what} must be a non-negative integer, got '${s}'`);
	const n = Number(s);
	if (!Number.isSafeInteger(n)) throw new UsageError(`${what} too large: ${s}`);
	return n;
}

function parseKv(list) {
	const md = {};
	for (const kv of list) {
		const i = kv.indexOf('=');
		if (i <= 0) throw new UsageError(`metadata must be k=v, got '${kv}'`);
		md[kv.slice(0, i)] = kv.slice(i + 1);
	}
	return md;
}

// Deterministic pseudo-random bytes: the AES-128-CTR keystream under a key
// derived from the seed. Fast (OpenSSL) and reproducible by anyone.
function randomStream(bytes, seed, chunk = MiB) {
	const key = crypto.createHash('sha256').update(`blobtool-seed:${seed}`).digest().subarray(0, 16);
	const cipher = crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
	const zeros = Buffer.alloc(chunk);
	let left = bytes;
	return new Readable({
		read() {
			if (left === 0) {
				this.push(cipher.final());
				this.push(null);
				return;
			}
			const n = Math.min(left, chunk);
			left -= n;
			this.push(cipher.update(n === chunk ? zeros : zeros.subarray(0, n)));
		},
	});
}

async function writeOut(buf) {
	if (!process.stdout.write(buf)) await new Promise((r) => process.stdout.once('drain', r));
}

// putArgs ARGV STDIN_OK: put's arguments, checked.
function putArgs(argv, stdinOk) {
	const { pos, opt } = parseArgs(argv, ['content-type'], ['meta']);
	need(pos, 2, 'put C NAME [FILE|-] [--meta k=v]... [--content-type T]');
	if (pos.length > 3) throw new UsageError(`too many arguments: ${pos.slice(3).join(' ')}`);
	if (pos[2] === '-' && !stdinOk) throw new UsageError(`${pos[0]}/${pos[1]}: no stdin ('-') here`);
	const options = { metadata: parseKv(opt.meta) };
	if (opt['content-type']) options.blobHTTPHeaders = { blobContentType: opt['content-type'] };
	return { c: pos[0], name: pos[1], src: pos[2], options };
}

// putOne SVC ARGV STDIN_OK: one upload, as the put subcommand does it.
async function putOne(svc, argv, stdinOk) {
	const { c, name, src, options } = putArgs(argv, stdinOk);
	const blob = svc.getContainerClient(c).getBlockBlobClient(name);
	if (src === undefined) {
		await blob.upload('', 0, options);
	} else if (src === '-') {
		await blob.uploadStream(process.stdin, 8 * MiB, 8, options);
	} else {
		const st = fs.statSync(src);
		if (st.size <= 8 * MiB) {
			await blob.upload(fs.readFileSync(src), st.size, options);
		} else {
			await blob.uploadStream(fs.createReadStream(src, { highWaterMark: MiB }), 8 * MiB, 8, options);
		}
	}
}

// runPool ITEMS K FN: FN(item) for every item, at most K at a time; the
// first failure rejects (the others still in flight are left to finish).
async function runPool(items, k, fn) {
	let next = 0;
	const worker = async () => {
		while (next < items.length) await fn(items[next++]);
	};
	await Promise.all(Array.from({ length: Math.min(k, items.length) }, worker));
}

const commands = {
	async mkcontainer(argv) {
		const { pos } = parseArgs(argv, []);
		need(pos, 1, 'mkcontainer C');
		await service().getContainerClient(pos[0]).createIfNotExists();
	},

	async rmcontainer(argv) {
		const { pos } = parseArgs(argv, []);
		need(pos, 1, 'rmcontainer C');
		await service().getContainerClient(pos[0]).deleteIfExists();
	},

	async containers(argv) {
		const { opt } = parseArgs(argv, ['prefix']);
		const out = [];
		for await (const c of service().listContainers({ prefix: opt.prefix })) out.push(c.name);
		await writeOut(JSON.stringify(out) + '\n');
	},

	async put(argv) {
		await putOne(service(), argv, true);
	},

	async 'put-many'(argv) {
		const { pos, opt } = parseArgs(argv, ['concurrency']);
		if (pos.length) throw new UsageError('usage: put-many [--concurrency K] <records');
		const conc = opt.concurrency === undefined ? 32 : Math.max(1, nonNegInt(opt.concurrency, '--concurrency'));
		const chunks = [];
		for await (const d of process.stdin) chunks.push(d);
		const fields = Buffer.concat(chunks).toString('utf8').split('\0');
		if (fields.pop() !== '') throw new UsageError('input does not end with a NUL byte');
		const records = [];
		for (let i = 0; i < fields.length; i++) {
			const end = fields.indexOf('', i);
			if (end < 0) throw new UsageError('the last record has no empty argument after it');
			records.push(fields.slice(i, end));
			i = end;
		}
		// Parse them all first: a usage error uploads nothing.
		for (const r of records) putArgs(r, false);
		const svc = service();
		await runPool(records, conc, async (r) => {
			try {
				await putOne(svc, r, false);
			} catch (e) {
				throw Object.assign(e, { message: `${r[0]}/${r[1]}: ${e.message}` });
			}
		});
	},

	async 'put-random'(argv) {
		const { pos, opt } = parseArgs(argv, ['seed', 'block-size']);
		need(pos, 3, 'put-random C NAME BYTES [--seed S]');
		const [c, name, bytesS] = pos;
		const bytes = nonNegInt(bytesS, 'BYTES');
		const blockSize = opt['block-size'] ? nonNegInt(opt['block-size'], '--block-size') : 8 * MiB;
		const seed = opt.seed === undefined ? '0' : opt.seed;
		const blob = service().getContainerClient(c).getBlockBlobClient(name);
		const hash = crypto.createHash('sha256');
		const src = randomStream(bytes, seed);
		src.on('data', (d) => hash.update(d));
		if (bytes === 0) {
			await blob.upload('', 0);
		} else {
			await blob.uploadStream(src, blockSize, 8);
		}
		await writeOut(hash.digest('hex') + '\n');
	},

	async get(argv) {
		const { pos, opt } = parseArgs(argv, ['offset', 'count']);
		need(pos, 2, 'get C NAME [--offset O] [--count N]');
		const blob = service().getContainerClient(pos[0]).getBlobClient(pos[1]);
		const offset = opt.offset === undefined ? 0 : nonNegInt(opt.offset, '--offset');
		const count = opt.count === undefined ? undefined : nonNegInt(opt.count, '--count');
		if (count === 0) return;
		const res = await blob.download(offset, count);
		await pipeline(res.readableStreamBody, process.stdout);
	},

	async sha256(argv) {
		const { pos } = parseArgs(argv, []);
		need(pos, 2, 'sha256 C NAME');
		const blob = service().getContainerClient(pos[0]).getBlobClient(pos[1]);
		const res = await blob.download(0);
		const hash = crypto.createHash('sha256');
		for await (const d of res.readableStreamBody) hash.update(d);
		await writeOut(hash.digest('hex') + '\n');
	},

	async props(argv) {
		const { pos } = parseArgs(argv, []);
		need(pos, 2, 'props C NAME');
		const p = await service().getContainerClient(pos[0]).getBlobClient(pos[1]).getProperties();
		const out = {
			name: pos[1],
			size: p.contentLength,
			lastModified: Math.floor(p.lastModified.getTime() / 1000),
			etag: p.etag,
			contentType: p.contentType === undefined ? null : p.contentType,
			metadata: p.metadata || {},
			contentMD5: p.contentMD5 ? Buffer.from(p.contentMD5).toString('hex') : null,
		};
		await writeOut(JSON.stringify(out) + '\n');
	},

	async dump(argv) {
		const { pos, opt } = parseArgs(argv, ['prefix'], [], ['sha256']);
		need(pos, 1, 'dump C [--prefix P] [--sha256]');
		const cc = service().getContainerClient(pos[0]);
		const out = [];
		for await (const it of cc.listBlobsFlat({ prefix: opt.prefix, includeMetadata: true })) {
			out.push({
				name: it.name,
				size: it.properties.contentLength,
				contentType: it.properties.contentType === undefined ? null : it.properties.contentType,
				metadata: it.metadata || {},
			});
		}
		if (opt.sha256) {
			await runPool(out, 16, async (o) => {
				const res = await cc.getBlobClient(o.name).download(0);
				const hash = crypto.createHash('sha256');
				for await (const d of res.readableStreamBody) hash.update(d);
				o.sha256 = hash.digest('hex');
			});
		}
		await writeOut(JSON.stringify(out) + '\n');
	},

	async 'get-tree'(argv) {
		const { pos } = parseArgs(argv, []);
		need(pos, 3, 'get-tree C PREFIX DIR');
		const [c, prefix, dir] = pos;
		const cc = service().getContainerClient(c);
		const items = [];
		for await (const it of cc.listBlobsFlat({ prefix, includeMetadata: true })) items.push(it);
		const md = (it) => Object.fromEntries(Object.entries(it.metadata || {}).map(([k, v]) => [k.toLowerCase(), v]));
		fs.mkdirSync(dir, { recursive: true });
		await runPool(items, 16, async (it) => {
			const rel = it.name.slice(prefix.length).replace(/\/+$/, '');
			if (rel === '') return;
			const dst = path.join(dir, rel);
			const m = md(it);
			if (m.hdi_isfolder === 'true') {
				fs.mkdirSync(dst, { recursive: true });
				return;
			}
			fs.mkdirSync(path.dirname(dst), { recursive: true });
			const buf = await cc.getBlobClient(it.name).downloadToBuffer();
			if (m.is_symlink === 'true') fs.symlinkSync(buf.toString(), dst);
			else fs.writeFileSync(dst, buf);
		});
	},

	async lease(argv) {
		const { pos } = parseArgs(argv, []);
		need(pos, 2, 'lease C NAME');
		const blob = service().getContainerClient(pos[0]).getBlobClient(pos[1]);
		const r = await blob.getBlobLeaseClient().acquireLease(-1);
		await writeOut(r.leaseId + '\n');
	},

	async unlease(argv) {
		const { pos } = parseArgs(argv, []);
		need(pos, 3, 'unlease C NAME ID');
		const blob = service().getContainerClient(pos[0]).getBlobClient(pos[1]);
		await blob.getBlobLeaseClient(pos[2]).releaseLease();
	},

	async blocks(argv) {
		const { pos } = parseArgs(argv, []);
		need(pos, 2, 'blocks C NAME');
		const r = await service().getContainerClient(pos[0]).getBlockBlobClient(pos[1]).getBlockList('all');
		const conv = (l) => (l || []).map((b) => ({ name: b.name, size: b.size }));
		await writeOut(JSON.stringify({ committed: conv(r.committedBlocks), uncommitted: conv(r.uncommittedBlocks) }) + '\n');
	},

	async list(argv) {
		const { pos, opt } = parseArgs(argv, ['prefix', 'delimiter'], [], ['lines']);
		need(pos, 1, 'list C [--prefix P] [--delimiter D] [--lines]');
		const cc = service().getContainerClient(pos[0]);
		const out = [];
		const o = { prefix: opt.prefix };
		if (opt.delimiter) {
			for await (const it of cc.listBlobsByHierarchy(opt.delimiter, o)) out.push(it.name);
		} else {
			for await (const it of cc.listBlobsFlat(o)) out.push(it.name);
		}
		if (opt.lines) {
			for (const n of out) await writeOut(n + '\n');
		} else {
			await writeOut(JSON.stringify(out) + '\n');
		}
	},

	async delete(argv) {
		const { pos } = parseArgs(argv, []);
		need(pos, 2, 'delete C NAME');
		await service().getContainerClient(pos[0]).getBlobClient(pos[1]).delete();
	},

	async exists(argv) {
		const { pos } = parseArgs(argv, []);
		need(pos, 2, 'exists C NAME');
		const e = await service().getContainerClient(pos[0]).getBlobClient(pos[1]).exists();
		await writeOut(e ? 'true\n' : 'false\n');
		if (!e) process.exitCode = 1;
	},

	async 'bulk-put'(argv) {
		const { pos, opt } = parseArgs(argv, ['size', 'concurrency']);
		need(pos, 3, 'bulk-put C PREFIX... COUNT [--size N] [--concurrency K]');
		const c = pos[0];
		const prefixes = pos.slice(1, -1);
		const count = nonNegInt(pos[pos.length - 1], 'COUNT');
		const size = opt.size === undefined ? 16 : nonNegInt(opt.size, '--size');
		const conc = opt.concurrency === undefined ? 64 : Math.max(1, nonNegInt(opt.concurrency, '--concurrency'));
		const width = Math.max(5, String(Math.max(count - 1, 0)).length);
		const cc = service().getContainerClient(c);
		const names = prefixes.flatMap((p) => Array.from({ length: count }, (_, i) => p + String(i).padStart(width, '0')));
		await runPool(names, conc, async (name) => {
			const unit = Buffer.from(name + '\n');
			const body = Buffer.alloc(size);
			for (let o = 0; o < size; o += unit.length) unit.copy(body, o, 0, Math.min(unit.length, size - o));
			await cc.getBlockBlobClient(name).upload(body, size);
		});
	},

	async sas(argv) {
		const { pos, opt } = parseArgs(argv, ['perm', 'minutes']);
		need(pos, 1, 'sas C [--perm P] [--minutes M]');
		const cc = service().getContainerClient(pos[0]);
		const q = sdk.generateBlobSASQueryParameters({
			containerName: pos[0],
			permissions: sdk.ContainerSASPermissions.parse(opt.perm || 'rl'),
			...sasCommon(opt),
		}, sharedKey(cc.credential, 'sas'));
		await writeOut(q.toString() + '\n');
	},

	async 'account-sas'(argv) {
		const { opt } = parseArgs(argv, ['perm', 'minutes']);
		const svc = service();
		const q = sdk.generateAccountSASQueryParameters({
			services: sdk.AccountSASServices.parse('b').toString(),
			resourceTypes: sdk.AccountSASResourceTypes.parse('sco').toString(),
			permissions: sdk.AccountSASPermissions.parse(opt.perm || 'rl'),
			...sasCommon(opt),
		}, sharedKey(svc.credential, 'account-sas'));
		await writeOut(q.toString() + '\n');
	},

	async setmeta(argv) {
		const { pos } = parseArgs(argv, []);
		need(pos, 2, 'setmeta C NAME k=v...');
		await service().getContainerClient(pos[0]).getBlobClient(pos[1]).setMetadata(parseKv(pos.slice(2)));
	},
};

// A SAS's validity (from 5 minutes ago for clock skew, --minutes ahead,
// default 60), protocol and version.
function sasCommon(opt) {
	const minutes = opt.minutes === undefined ? 60 : nonNegInt(opt.minutes, '--minutes');
	const now = Date.now();
	return {
		startsOn: new Date(now - 5 * 60 * 1000),
		expiresOn: new Date(now + minutes * 60 * 1000),
		protocol: sdk.SASProtocol.HttpsAndHttp,
		version: API_VERSION,
	};
}

function sharedKey(credential, cmd) {
	if (!(credential instanceof sdk.StorageSharedKeyCredential)) throw new Error(`${cmd} needs an account key in the connection string`);
	return credential;
}

function describe(e) {
	if (e && e.statusCode) {
		const code = (e.details && e.details.errorCode) || e.code || '';
		const first = String(e.message || '').split('\n')[0];
		return `HTTP ${e.statusCode}${code ? ' ' + code : ''}${first ? ': ' + first : ''}`;
	}
	return String((e && e.message) || e).split('\n')[0];
}

async function main() {
	const [cmd, ...argv] = process.argv.slice(2);
	if (!cmd || !Object.prototype.hasOwnProperty.call(commands, cmd)) {
		process.stderr.write(`blobtool: unknown command '${cmd || ''}'; commands: ${Object.keys(commands).join(' ')}\n`);
		process.exit(2);
	}
	try {
		await commands[cmd](argv);
	} catch (e) {
		if (e instanceof UsageError) {
			process.stderr.write(`blobtool: ${cmd}: ${e.message}\n`);
			process.exit(2);
		}
		// A closed stdout (e.g. `| head`) is not the tool's failure.
		if (e && e.code === 'EPIPE') process.exit(0);
		process.stderr.write(`blobtool: ${cmd}: ${describe(e)}\n`);
		process.exit(1);
	}
}

main();
