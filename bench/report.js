#!/usr/bin/env node
// bench/report.js - turns one benchmark run (bench/work/<stamp>/) into
// <base>.md (the tables) and <base>.json (every number), and prints the
// markdown on stdout.
//
//   node bench/report.js WORKDIR BASE
//
// WORKDIR holds env.json, manifest.json, records/*.json (one per system and
// workload, written by bench/run.sh) and azurite.log (Azurite's access log in
// the format of bench/azurite-launch.js). Requests are counted from the log
// lines between a record's two snapshots, leaving out the benchmark's own
// checks (User-Agent azblobfs-bench-check), and, for azblobfs, also from the
// user.azblobfs.stats attribute (the difference of the two snapshots).
'use strict';

const fs = require('fs');
const path = require('path');

const [work, base] = process.argv.slice(2);
if (!work || !base) {
	process.stderr.write('usage: report.js WORKDIR BASE\n');
	process.exit(2);
}
const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const env = readJson(path.join(work, 'env.json'));
const manifest = readJson(path.join(work, 'manifest.json'));
const GiB = 1024 ** 3;
const bigGiB = env.big / GiB;

// ------------------------------------------------------------ access log

const logLines = fs.readFileSync(path.join(work, 'azurite.log'), 'utf8').split('\n');
const LOG_RE = /^AZLOG (\S+) "(\S+) (\S+)" (\d+) res=(\S+) req=(\S+) range=(\S+) copy=(\S) ms=(\S+) ua="(.*)"$/;

function classify(method, url, copy) {
	const [p, q = ''] = url.split('?');
	const params = new URLSearchParams(q);
	const comp = params.get('comp');
	const restype = params.get('restype');
	const segs = p.split('/').filter(Boolean);
	const blob = segs.length >= 3;
	if (method === 'GET' || method === 'HEAD') {
		if (comp === 'list') return segs.length >= 2 ? 'ListBlobs' : 'ListContainers';
		if (comp === 'blocklist') return 'GetBlockList';
		if (comp === 'metadata') return blob ? 'GetBlobMetadata' : 'GetContainerMetadata';
		if (comp === 'properties' && !blob) return 'GetServiceProperties';
		if (!blob) return restype === 'container' ? 'GetContainerProperties' : `${method}:${comp || 'account'}`;
		return method === 'GET' ? 'GetBlob' : 'GetBlobProperties';
	}
	if (method === 'PUT') {
		if (!blob) return restype === 'container' && !comp ? 'CreateContainer' : `PutContainer:${comp}`;
		if (comp === 'block') return 'PutBlock';
		if (comp === 'blocklist') return 'PutBlockList';
		if (comp === 'metadata') return 'SetBlobMetadata';
		if (comp === 'properties') return 'SetBlobProperties';
		if (copy === 'y') return 'CopyBlob';
		if (!comp) return 'PutBlob';
		return `PUT:${comp}`;
	}
	if (method === 'DELETE') return blob ? 'DeleteBlob' : 'DeleteContainer';
	if (method === 'POST' && comp === 'batch') return 'BlobBatch';
	return `${method}:${comp || ''}`;
}

function logCounts(from, to, onlyUa) {
	const r = { total: 0, ops: {}, errors: {}, get_bytes: 0, put_bytes: 0, get_ranges: [], other_clients: 0 };
	for (let i = from; i < to && i < logLines.length; i++) {
		const m = LOG_RE.exec(logLines[i]);
		if (!m) continue;
		const [, , method, url, status, res, req, range, copy, , ua] = m;
		if (ua.includes('azblobfs-bench-check')) continue;
		if (onlyUa && !ua.includes(onlyUa)) {
			r.other_clients++;
			continue;
		}
		const op = classify(method, url, copy);
		r.total++;
		r.ops[op] = (r.ops[op] || 0) + 1;
		if (Number(status) >= 400) {
			const k = `${op} ${status}`;
			r.errors[k] = (r.errors[k] || 0) + 1;
		}
		if (op === 'GetBlob') {
			if (res !== '-') r.get_bytes += Number(res);
			const rm = /bytes=(\d+)-(\d*)/.exec(range);
			r.get_ranges.push(rm && rm[2] !== '' ? Number(rm[2]) - Number(rm[1]) + 1 : res !== '-' ? Number(res) : 0);
		}
		if (req !== '-' && method === 'PUT') r.put_bytes += Number(req);
	}
	const g = r.get_ranges;
	r.get_range = g.length ? { n: g.length, min: Math.min(...g), avg: g.reduce((a, b) => a + b, 0) / g.length, max: Math.max(...g) } : null;
	r.get_sizes = {};
	for (const x of g) r.get_sizes[x] = (r.get_sizes[x] || 0) + 1;
	delete r.get_ranges;
	return r;
}

function statsDelta(s0, s1) {
	if (!s0 || !s1 || !s0.requests || !s1.requests) return null;
	const ops = {};
	const failed = {};
	let total = 0;
	for (const [op, outcomes] of Object.entries(s1.requests)) {
		for (const [k, v] of Object.entries(outcomes)) {
			const d = v - ((s0.requests[op] || {})[k] || 0);
			if (!d) continue;
			total += d;
			ops[op] = (ops[op] || 0) + d;
			if (k !== 'ok') failed[`${op} ${k}`] = (failed[`${op} ${k}`] || 0) + d;
		}
	}
	const num = (k) => (typeof s1[k] === 'number' && typeof s0[k] === 'number' ? s1[k] - s0[k] : null);
	return { total, ops, failed, total_requests: num('total_requests'), bytes_in: num('bytes_in'), bytes_out: num('bytes_out'), retries: num('retries') };
}

// ------------------------------------------------------------ records

const WL = {
	W1: { title: `W1 write ${fmtBytes(env.big)} (dd bs=1M conv=fsync)`, unit: 'MB/s' },
	W2: { title: `W2 read ${fmtBytes(env.big)} (dd bs=1M)`, unit: 'MB/s' },
	W3: { title: `W3 ls -l of ${num(env.ls_n)} files`, unit: 'names/s' },
	W4: { title: `W4 find over a 3-level tree (${num(manifest.tree ? manifest.tree.files : 0)} blobs)`, unit: 'entries/s' },
	W5: { title: `W5 cp -r of ${num(env.small_n)} × 4 KiB files`, unit: 'files/s' },
	W6: { title: `W6 cat of ${num(env.small_n)} × 4 KiB files`, unit: 'files/s' },
	W7: { title: `W7 fio 4 KiB randread, psync, 4 jobs, ${env.w7_secs} s`, unit: 'IOPS' },
	W8: { title: `W8 mv of a directory of ${num(env.mv_n)} files`, unit: 'files/s' },
};
const SYSTEMS = ['azblobfs', 'raw', 'raw-sdk', 'raw-1', 'rclone-off', 'rclone-writes', 'null'];
const SYS_LABEL = { azblobfs: 'azblobfs', raw: 'raw', 'raw-sdk': 'raw (SDK)', 'raw-1': 'raw, 1 in flight', 'rclone-off': 'rclone off', 'rclone-writes': 'rclone writes', null: 'null fs' };

function fmtBytes(b) {
	return b >= GiB ? `${+(b / GiB).toFixed(2)} GiB` : `${+(b / 1024 ** 2).toFixed(0)} MiB`;
}
function num(n) {
	return Number(n).toLocaleString('en-US');
}

const records = [];
for (const f of fs.readdirSync(path.join(work, 'records')).sort()) {
	const r = readJson(path.join(work, 'records', f));
	const o = { system: r.system, workload: r.workload, variant: r.variant, round: r.round || 1 };
	if (r.error) {
		o.ok = false;
		o.error = r.error;
		records.push(o);
		continue;
	}
	const isRaw = r.system.startsWith('raw');
	const run = r.run || {};
	const raw = isRaw && r.raw && typeof r.raw === 'object' ? r.raw : null;
	o.rc = run.rc;
	o.cmd = run.cmd;
	o.wall_s = raw && raw.wall_s !== undefined ? raw.wall_s : run.t1 - run.t0;
	o.durable_s = o.wall_s;
	if (r.wait && !isRaw) {
		if (r.wait.first_poll) o.durable_s = o.wall_s;
		else if (r.wait.visible) o.durable_s = r.wait.visible_at - run.t0;
		else o.durable_s = null;
		o.durable_first_poll = !!r.wait.first_poll;
	}
	const b = r.before || {};
	const a = r.after || {};
	const tck = r.clk_tck || 100;
	// For raw: the Node client's own figures, or (curl) the CPU of the
	// benchmark's children between the snapshots.
	o.daemon_cpu_s = isRaw ? (raw ? raw.cpu_s : (a.self_cpu - b.self_cpu) / tck) : (a.cpu - b.cpu) / tck;
	o.daemon_hwm_mib = isRaw ? (raw ? raw.hwm_kib / 1024 : null) : a.hwm_kib / 1024;
	o.client = isRaw ? (raw ? (raw.client === 'sdk' ? 'node, SDK' : 'node, http') : 'curl') : null;
	o.daemon_alive_after = isRaw ? null : !!a.alive;
	o.azurite_cpu_s = (a.az_cpu - b.az_cpu) / tck;
	o.azurite_rss_mib = a.az_rss_kib / 1024;
	// CPU that programs outside the benchmark used meanwhile: the machine's
	// busy time minus the daemon, Azurite and the benchmark's own processes
	// (dd, cp, fio, node tools: this shell's reaped children).
	if (a.machine_busy !== undefined && b.machine_busy !== undefined) {
		o.machine_busy_s = (a.machine_busy - b.machine_busy) / tck;
		const self = (a.self_cpu - b.self_cpu) / tck;
		o.other_cpu_s = Math.max(0, o.machine_busy_s - (isRaw ? 0 : (a.cpu - b.cpu) / tck) - o.azurite_cpu_s - self);
		o.window_s = a.t - b.t;
		o.loadavg_before = b.loadavg;
	}
	o.requests_log = logCounts(b.log, a.log, isRaw ? 'azblobfs-bench-raw' : null);
	o.requests_stats = r.system === 'azblobfs' ? statsDelta(b.stats, a.stats) : null;
	o.check = r.check || null;
	o.bdi_ra_kb = r.bdi_ra_kb;
	o.unmount_note = r.unmount_note || '';
	o.daemon_log_problem_lines = r.daemon_log_problem_lines || 0;
	o.inflight = r.inflight;
	// The amount of work and the rate.
	const t = o.durable_s;
	switch (r.workload) {
		case 'W1':
		case 'W2':
			o.bytes = env.big;
			o.rate = t ? env.big / t / 1e6 : null;
			o.cpu_per_gib = o.daemon_cpu_s / bigGiB;
			break;
		case 'W3':
			o.items = env.ls_n;
			o.rate = env.ls_n / o.wall_s;
			break;
		case 'W4':
			o.items = manifest.tree.entries;
			o.rate = o.items / o.wall_s;
			break;
		case 'W5':
		case 'W6':
			o.items = env.small_n;
			o.rate = t ? o.items / t : null;
			break;
		case 'W7': {
			if (raw) {
				o.ios = raw.ios;
				o.rate = raw.iops;
			} else if (r.fio && r.fio.jobs && r.fio.jobs[0]) {
				const rd = r.fio.jobs[0].read;
				o.ios = rd.total_ios;
				o.rate = rd.iops;
				o.fio_lat_ms = rd.clat_ns ? { mean: rd.clat_ns.mean / 1e6, p99: (rd.clat_ns.percentile || {})['99.000000'] / 1e6 } : null;
			}
			break;
		}
		case 'W8':
			o.items = env.mv_n;
			o.rate = t ? o.items / t : null;
			break;
	}
	o.ok = o.rc === 0 && !(o.check && o.check.ok === false) && o.rate !== null && o.rate !== undefined;
	records.push(o);
}

// With --repeat, each system ran each workload once per round. The tables
// show the median: the record of median rate (the lower middle one for an
// even count), the median of the per-round CPU figures, the highest peak
// RSS, and ratios as the median of each round's own ratio (so that a round
// in which the machine or Azurite was slow for both sides cancels out).
const ROUNDS = env.repeat || 1;
function median(xs) {
	const v = xs.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b);
	if (!v.length) return null;
	const m = v.length >> 1;
	return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
const allOf = (sys, wl, variant) => records.filter((r) => r.system === sys && r.workload === wl && (!variant || r.variant === variant));
function find(sys, wl, variant) {
	const all = allOf(sys, wl, variant);
	const ok = all.filter((r) => r.ok).sort((a, b) => a.rate - b.rate);
	if (ok.length < all.length) return all.find((r) => !r.ok); // a failure shows, whatever the other rounds did
	return ok[(ok.length - 1) >> 1];
}
const medianOf = (sys, wl, key, variant) => median(allOf(sys, wl, variant).filter((r) => !r.error).map((r) => r[key]));
const maxOf = (sys, wl, key, variant) => {
	const v = allOf(sys, wl, variant).filter((r) => !r.error && typeof r[key] === 'number').map((r) => r[key]);
	return v.length ? Math.max(...v) : null;
};
function roundRatios(a, b, wl, variant) { // azblobfs / other, round by round, where both succeeded
	const out = [];
	for (let k = 1; k <= ROUNDS; k++) {
		const x = allOf(a, wl, variant).find((r) => r.round === k);
		const y = allOf(b, wl, variant).find((r) => r.round === k);
		if (x && y && x.ok && y.ok && x.rate && y.rate) out.push(x.rate / y.rate);
	}
	return out;
}
const ratioOf = (a, b, wl, variant) => median(roundRatios(a, b, wl, variant));

// ------------------------------------------------------------ formatting

function fmt(v, digits) {
	if (v === null || v === undefined || Number.isNaN(v)) return '—';
	const d = digits !== undefined ? digits : Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
	return Number(v).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}
function cell(r) {
	if (!r) return '—';
	if (r.error) return 'FAIL';
	if (r.rc !== 0) return `FAIL (rc ${r.rc})`;
	if (r.rate === null || r.rate === undefined) return 'FAIL (never on the service)';
	const v = fmt(r.rate);
	if (r.check && r.check.ok === false) return `${v} ✗`;
	return v;
}
function ratio(a, b, wl, variant) {
	const v = ratioOf(a, b, wl, variant);
	return v === null ? '—' : `${fmt(v, 2)}×`;
}
// "0.86×", or with rounds "0.86× (median of 5 rounds, 0.69–1.06)".
function ratioText(a, b, wl, variant) {
	const rs = roundRatios(a, b, wl, variant);
	const v = median(rs);
	if (v === null) return '—';
	if (ROUNDS < 2) return `${fmt(v, 2)}×`;
	return `${fmt(v, 2)}× (median of ${rs.length} rounds, ${fmt(Math.min(...rs), 2)}–${fmt(Math.max(...rs), 2)})`;
}
function ops(c) {
	if (!c) return '—';
	const e = Object.entries(c.ops || {}).sort((x, y) => y[1] - x[1]);
	if (!e.length) return '0';
	let s = e.map(([k, v]) => `${k} ${num(v)}`).join(', ');
	const errs = Object.entries(c.errors || c.failed || {});
	if (errs.length) s += ` (failed: ${errs.map(([k, v]) => `${k} ×${num(v)}`).join(', ')})`;
	return s;
}
function checkCell(r) {
	if (r.error) return `✗ ${r.error}`;
	const c = r.check;
	if (!c || c.ok === null || c.ok === undefined) return c && c.detail ? `n/a (${c.detail})` : 'n/a';
	if (c.ok) {
		const what = c.sha256 ? `sha256 ${c.sha256.slice(0, 8)}` : 'ok';
		return `✓ ${what}`;
	}
	return `✗ ${c.detail || 'mismatch'}`;
}

const L = [];
const date = env.date.slice(0, 10);
L.push(`# azblobfs benchmark — ${date}, ${env.host}${env.quick ? ' (--quick)' : ''}${ROUNDS > 1 ? `, ${ROUNDS} rounds` : ''}`);
L.push('');
L.push(
	`azblobfs ${env.azblobfs_rev}${env.azblobfs_src_dirty_files ? ` (+${env.azblobfs_src_dirty_files} uncommitted files under src/, include/)` : ''} · ` +
		`${env.rclone_version || 'rclone absent'} · ${env.fio_version} · Azurite ${env.azurite_version} (in memory, 127.0.0.1) · ` +
		`@azure/storage-blob ${env.sdk_version} · Node ${env.node_version} · libfuse ${env.libfuse} · Linux ${env.kernel} · ` +
		`${env.cpus} CPUs (${env.cpu_model}) · ${env.mem_gib} GiB`,
);
L.push('');
L.push('Every workload runs cold: a fresh mount and `sync; echo 3 > /proc/sys/vm/drop_caches` before it. ' +
	'Rates count until the data is on the service (for writes: until the REST API shows it; rclone `writes` uploads after close). ' +
	'"raw" is the same transfer with no file system: W1/W2 with curl (8 MiB Put Blocks or ranges, 16 in flight), W3–W8 with a lean Node REST client ' +
	'(32 requests in flight for small files; "raw, 1 in flight" is the serial version); "raw (SDK)" does W1/W2 through the official SDK (`@azure/storage-blob`). ' +
	'✗ marks a failed correctness check. See bench/README.md for the columns.' +
	(ROUNDS > 1 ? ` Every workload ran ${ROUNDS} times (rounds; even rounds in reverse system order): rates are medians, ratios the median of the rounds' own ratios, peak RSS the highest; "Rounds" lists them all.` : ''));
L.push('');
L.push('## Throughput');
L.push('');
const cols = SYSTEMS.filter((s) => records.some((r) => r.system === s));
L.push(`| workload | unit | ${cols.map((s) => SYS_LABEL[s]).join(' | ')} | azblobfs / raw | azblobfs / rclone off | azblobfs / rclone writes |`);
L.push(`|---|---|${cols.map(() => '---:').join('|')}|---:|---:|---:|`);
const rows = [];
for (const wl of Object.keys(WL)) {
	const variants = wl === 'W3' ? ['cold', 'warm'] : ['main'];
	for (const v of variants) {
		if (!records.some((r) => r.workload === wl)) continue;
		const title = wl === 'W3' ? `${WL[wl].title}, ${v}` : WL[wl].title;
		const az = find('azblobfs', wl, v);
		const row = {
			workload: wl,
			variant: v,
			unit: WL[wl].unit,
			values: Object.fromEntries(cols.map((s) => [s, find(s, wl, v) ? find(s, wl, v).rate : null])),
			ratio_raw: ratioOf('azblobfs', 'raw', wl, v),
			ratio_rclone_off: ratioOf('azblobfs', 'rclone-off', wl, v),
			ratio_rclone_writes: ratioOf('azblobfs', 'rclone-writes', wl, v),
		};
		rows.push(row);
		L.push(
			`| ${title} | ${WL[wl].unit} | ${cols.map((s) => cell(find(s, wl, v))).join(' | ')} | ` +
				`${ratio('azblobfs', 'raw', wl, v)} | ${ratio('azblobfs', 'rclone-off', wl, v)} | ${ratio('azblobfs', 'rclone-writes', wl, v)} |`,
		);
	}
}
L.push('');

// CPU per GiB.
L.push('## Daemon CPU per GiB (W1, W2)');
L.push('');
L.push('| workload | azblobfs s/GiB | null fs s/GiB | azblobfs − null (target ≤ 0.5 s) | rclone off s/GiB | rclone writes s/GiB | raw client (curl) s/GiB | raw client (SDK) s/GiB | Azurite s/GiB during azblobfs | azblobfs peak RSS MiB (target ≤ 64) |');
L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const cpuRows = [];
for (const wl of ['W1', 'W2']) {
	const g = (s) => find(s, wl);
	if (!g('azblobfs') && !g('null')) continue;
	const c = (s) => medianOf(s, wl, 'cpu_per_gib');
	const d = c('azblobfs') !== null && c('null') !== null ? c('azblobfs') - c('null') : null;
	const az = g('azblobfs');
	const azCpu = medianOf('azblobfs', wl, 'azurite_cpu_s');
	const hwm = maxOf('azblobfs', wl, 'daemon_hwm_mib');
	cpuRows.push({ workload: wl, azblobfs: c('azblobfs'), null: c('null'), delta: d, rclone_off: c('rclone-off'), rclone_writes: c('rclone-writes'), raw: c('raw'), raw_sdk: c('raw-sdk') });
	L.push(
		`| ${wl} | ${fmt(c('azblobfs'), 2)} | ${fmt(c('null'), 2)} | ${d === null ? '—' : (d >= 0 ? '+' : '') + fmt(d, 2)} | ${fmt(c('rclone-off'), 2)} | ${fmt(c('rclone-writes'), 2)} | ${fmt(c('raw'), 2)} | ${fmt(c('raw-sdk'), 2)} | ` +
			`${azCpu !== null ? fmt(azCpu / bigGiB, 2) : '—'} | ${hwm !== null ? fmt(hwm, 1) : '—'} |`,
	);
}
L.push('');

// Targets from issue 6.
const tg = [];
const T = (name, measured, met) => tg.push({ target: name, measured, met });
{
	const az1 = find('azblobfs', 'W1');
	const az2 = find('azblobfs', 'W2');
	const rw1 = find('raw', 'W1');
	const rw2 = find('raw', 'W2');
	const okr = (a, b) => a && b && a.ok && b.ok;
	if (okr(az1, rw1)) T('W1 sequential write ≥ 0.95× raw', `${ratioText('azblobfs', 'raw', 'W1')} (${fmt(az1.rate)} vs ${fmt(rw1.rate)} MB/s)`, ratioOf('azblobfs', 'raw', 'W1') >= 0.95);
	if (okr(az2, rw2)) T('W2 sequential read ≥ 0.95× raw', `${ratioText('azblobfs', 'raw', 'W2')} (${fmt(az2.rate)} vs ${fmt(rw2.rate)} MB/s)`, ratioOf('azblobfs', 'raw', 'W2') >= 0.95);
	for (const row of cpuRows) {
		if (row.delta !== null) T(`${row.workload} daemon CPU ≤ null fs + 0.5 s per GiB`, `${fmt(row.azblobfs, 2)} vs ${fmt(row.null, 2)} s/GiB`, row.delta <= 0.5);
	}
	for (const wl of ['W1', 'W2']) {
		const h = maxOf('azblobfs', wl, 'daemon_hwm_mib');
		if (h !== null) T(`${wl} daemon peak RSS ≤ 64 MiB`, `${fmt(h, 1)} MiB${ROUNDS > 1 ? ' (highest round)' : ''}`, h <= 64);
	}
	const az7 = find('azblobfs', 'W7');
	const bestRclone = (wl) => ['rclone-off', 'rclone-writes'].map((s) => find(s, wl)).filter((r) => r && r.ok).sort((x, y) => y.rate - x.rate)[0];
	const rc7 = bestRclone('W7');
	if (az7 && az7.ok && rc7) T('W7 random 4 KiB IOPS ≥ 4× rclone', `${ratioText('azblobfs', rc7.system, 'W7')} (${fmt(az7.rate)} vs ${fmt(rc7.rate)} IOPS, ${SYS_LABEL[rc7.system]})`, ratioOf('azblobfs', rc7.system, 'W7') >= 4);
	if (az7 && !az7.error && az7.requests_log) {
		const g = az7.requests_log.get_range;
		const gets = az7.requests_log.ops.GetBlob || 0;
		const big = Object.entries(az7.requests_log.get_sizes).filter(([k]) => Number(k) > 64 * 1024).reduce((a, [, v]) => a + v, 0);
		const amp = az7.ios ? az7.requests_log.get_bytes / (az7.ios * 4096) : null;
		T('W7 one small ranged GET per read that misses the cache', `${num(gets)} Get Blob for ${num(az7.ios || 0)} reads; ${num(big)} of them > 64 KiB (max ${g ? fmtSize(g.max) : '—'}); bytes fetched ${fmt(amp, 2)}× the bytes read`, !!g && g.max <= 1024 * 1024 + 128 * 1024 && gets <= (az7.ios || 0) * 1.1);
	}
	const az5 = find('azblobfs', 'W5');
	const rc5 = bestRclone('W5');
	if (az5 && !az5.error) {
		const n = az5.requests_log.total;
		T('W5 one request per file', `${fmt(n / env.small_n, 2)} requests per file (${ops(az5.requests_log)})`, n <= env.small_n * 1.05 + 5);
		if (az5.ok && rc5) T('W5 ≥ 2× rclone files/s', `${ratioText('azblobfs', rc5.system, 'W5')} (${SYS_LABEL[rc5.system]})`, ratioOf('azblobfs', rc5.system, 'W5') >= 2);
	}
	const az8 = find('azblobfs', 'W8');
	const rc8 = bestRclone('W8');
	if (az8 && !az8.error) {
		const n = az8.requests_log.total;
		T('W8 two requests per blob (copy, delete)', `${fmt(n / env.mv_n, 2)} requests per blob (${ops(az8.requests_log)})`, n <= env.mv_n * 2.1 + 10);
		if (az8.ok && rc8) T('W8 ≥ 3× faster than rclone', `${ratioText('azblobfs', rc8.system, 'W8')} (${SYS_LABEL[rc8.system]})`, ratioOf('azblobfs', rc8.system, 'W8') >= 3);
	}
}
function fmtSize(b) {
	if (b >= 1024 * 1024) return `${+(b / 1024 / 1024).toFixed(2)} MiB`;
	if (b >= 1024) return `${+(b / 1024).toFixed(1)} KiB`;
	return `${Math.round(b)} B`;
}
L.push('## Targets of issue 6 (informational; the benchmark asserts nothing)');
L.push('');
L.push('| target | measured | met |');
L.push('|---|---|---|');
for (const t of tg) L.push(`| ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`);
L.push('');

// Observations: things that look wrong.
const notes = [];
for (const r of records) {
	const who = `${r.workload}${r.variant !== 'main' ? ' ' + r.variant : ''} ${SYS_LABEL[r.system]}${ROUNDS > 1 ? ` (round ${r.round})` : ''}`;
	if (r.error) {
		notes.push(`${who}: did not run: ${r.error}`);
		continue;
	}
	if (r.rc !== 0) notes.push(`${who}: the command failed (exit status ${r.rc}${r.rc === 124 ? ', timed out' : ''}).`);
	if (r.check && r.check.ok === false) notes.push(`${who}: correctness check failed: ${r.check.detail || JSON.stringify(r.check)}`);
	if (r.durable_s === null) notes.push(`${who}: the data never showed up on the service within the wait.`);
	if (r.other_cpu_s !== undefined && r.window_s > 0 && r.other_cpu_s > 0.2 && r.other_cpu_s > 0.1 * r.window_s * env.cpus)
		notes.push(`${who}: other programs on the machine used ${fmt(r.other_cpu_s, 1)} s of CPU during the ${fmt(r.window_s, 1)} s of this workload (${fmt((100 * r.other_cpu_s) / (r.window_s * env.cpus), 0)}% of the machine): its numbers may be disturbed.`);
	if (r.daemon_alive_after === false) notes.push(`${who}: the daemon was not running at the end of the workload.`);
	if (r.unmount_note) notes.push(`${who}: ${r.unmount_note}.`);
	if (r.system === 'azblobfs') {
		if (r.daemon_log_problem_lines) notes.push(`${who}: ${r.daemon_log_problem_lines} error/warning lines in the daemon log.`);
		const s = r.requests_stats;
		const lg = r.requests_log;
		if (s && lg && s.total !== lg.total) notes.push(`${who}: the stats attribute counts ${num(s.total)} requests, Azurite's log ${num(lg.total)}.`);
		if (s && Object.keys(s.failed).length) notes.push(`${who}: requests that did not succeed (stats): ${Object.entries(s.failed).map(([k, v]) => `${k} ×${v}`).join(', ')}.`);
		if (s && s.retries) notes.push(`${who}: ${s.retries} retries.`);
	}
	if (r.requests_log && Object.keys(r.requests_log.errors).length && !r.system.startsWith('raw'))
		notes.push(`${who}: HTTP errors in Azurite's log: ${Object.entries(r.requests_log.errors).map(([k, v]) => `${k} ×${v}`).join(', ')}.`);
}
// Every round's rate, and azblobfs / raw round by round.
if (ROUNDS > 1) {
	L.push('## Rounds');
	L.push('');
	L.push(`| workload | system | ${Array.from({ length: ROUNDS }, (_, k) => `round ${k + 1}`).join(' | ')} | median |`);
	L.push(`|---|---|${Array.from({ length: ROUNDS }, () => '---:').join('|')}|---:|`);
	for (const row of rows) {
		const v = row.variant;
		const title = `${row.workload}${v !== 'main' ? ' ' + v : ''}`;
		for (const sys of cols) {
			const all = allOf(sys, row.workload, v);
			if (!all.length) continue;
			const per = Array.from({ length: ROUNDS }, (_, k) => cell(all.find((r) => r.round === k + 1)));
			L.push(`| ${title} | ${SYS_LABEL[sys]} | ${per.join(' | ')} | ${fmt(median(all.filter((r) => r.ok).map((r) => r.rate)))} ${row.unit} |`);
		}
		if (allOf('raw', row.workload, v).length && allOf('azblobfs', row.workload, v).length) {
			const per = Array.from({ length: ROUNDS }, (_, k) => {
				const x = allOf('azblobfs', row.workload, v).find((r) => r.round === k + 1);
				const y = allOf('raw', row.workload, v).find((r) => r.round === k + 1);
				return x && y && x.ok && y.ok ? `${fmt(x.rate / y.rate, 2)}×` : '—';
			});
			L.push(`| ${title} | azblobfs / raw | ${per.join(' | ')} | ${ratio('azblobfs', 'raw', row.workload, v)} |`);
		}
	}
	L.push('');
}

L.push('## Observations (generated: failures, mismatches, request counts that differ)');
L.push('');
if (!notes.length) L.push('None.');
for (const n of notes) L.push(`- ${n}`);
L.push('');

// Details.
L.push('## Details');
L.push('');
L.push("| workload | system | wall s | until on service s | rate | daemon CPU s | peak RSS MiB | Azurite CPU s | other programs' CPU s | requests (Azurite log) | requests (azblobfs stats) | check |");
L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|');
for (const wl of Object.keys(WL)) {
	for (const r of records.filter((x) => x.workload === wl)) {
		const name = `${wl}${r.variant !== 'main' ? ' ' + r.variant : ''}${ROUNDS > 1 ? ` r${r.round}` : ''}`;
		if (r.error) {
			L.push(`| ${name} | ${SYS_LABEL[r.system]} | — | — | — | — | — | — | — | — | — | ✗ ${r.error} |`);
			continue;
		}
		let req = ops(r.requests_log);
		const g = r.requests_log && r.requests_log.get_range;
		if (g) {
			const top = Object.entries(r.requests_log.get_sizes).sort((x, y) => y[1] - x[1]);
			req += `; Get Blob sizes: ${top.slice(0, 4).map(([k, v]) => `${fmtSize(Number(k))} ×${num(v)}`).join(', ')}${top.length > 4 ? ', …' : ''} (avg ${fmtSize(g.avg)})`;
		}
		L.push(
			`| ${name} | ${SYS_LABEL[r.system]} | ${fmt(r.wall_s, 2)} | ${r.durable_s === r.wall_s ? '=' : fmt(r.durable_s, 2)} | ${fmt(r.rate)} ${WL[wl].unit} | ` +
				`${fmt(r.daemon_cpu_s, 2)}${r.client ? ` (client: ${r.client})` : ''} | ${fmt(r.daemon_hwm_mib, 1)} | ${fmt(r.azurite_cpu_s, 2)} | ${fmt(r.other_cpu_s, 2)} | ${req} | ${ops(r.requests_stats)} | ${checkCell(r)} |`,
		);
	}
}
L.push('');
L.push(
	`Fixtures: big.bin ${fmtBytes(env.big)} random; ls10k/ ${num(env.ls_n)} blobs of 64 B; tree/ ${env.tree.replace(/,/g, ' × ')} ` +
		`(a/b/file; ${num(manifest.tree.entries)} paths with the directories); small/ ${num(env.small_n)} × ${env.small_size} B random; ` +
		`W8 moves ${num(env.mv_n)} × ${env.small_size} B. Kernel read-ahead of the mounts (BDI read_ahead_kb): ` +
		`${[...new Set(records.filter((r) => r.bdi_ra_kb).map((r) => `${SYS_LABEL[r.system]} ${r.bdi_ra_kb}`))].join(', ') || '—'}.`,
);
L.push('');

const md = L.join('\n');
fs.writeFileSync(`${base}.md`, md + '\n');
fs.writeFileSync(`${base}.json`, JSON.stringify({ env, manifest, summary: rows, cpu_per_gib: cpuRows, targets: tg, observations: notes, records }, null, 1) + '\n');
process.stdout.write(md + '\n');
