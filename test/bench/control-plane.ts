// Control-plane benchmark: start time and resident memory of real local control planes.
// Starts `--count` control planes one after another (default 2), measures each phase and the
// RSS of every process after `--settle-s` seconds, then one extra side by side (all running at
// once), and prints one JSON object per line, the summary last.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { type ControlPlane, ensureBinaries, startControlPlane } from '../../sandbox/index.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '2' },
    'settle-s': { type: 'string', default: '10' },
  },
});
const count = Number(values.count);
const settleMs = Number(values['settle-s']) * 1000;

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

const binaries = await ensureBinaries();
const planes: ControlPlane[] = [];
const rows: Array<Record<string, number | string>> = [];
try {
  for (let i = 0; i < count; i++) {
    const plane = await startControlPlane({ name: `bench-${i}`, binaries });
    planes.push(plane);
    await new Promise((r) => setTimeout(r, settleMs));
    const rss = Object.fromEntries(
      Object.entries(plane.pids()).map(([name, pid]) => [name, rssKiB(pid)]),
    );
    const total = Object.values(rss).reduce((a, b) => a + b, 0);
    const row = {
      plane: plane.name,
      start_total_ms: plane.timings.totalMs,
      start_pki_ms: plane.timings.pkiMs,
      start_etcd_ms: plane.timings.etcdMs,
      start_apiserver_ms: plane.timings.apiserverMs,
      start_kcm_ms: plane.timings.controllerManagerMs,
      rss_etcd_kib: rss['etcd'] ?? 0,
      rss_apiserver_kib: rss['kube-apiserver'] ?? 0,
      rss_kcm_kib: rss['kube-controller-manager'] ?? 0,
      rss_total_kib: total,
      planes_running: planes.length,
    };
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
} finally {
  await Promise.all(planes.map((p) => p.stop()));
}
const mean = (key: string) =>
  Math.round(rows.reduce((a, r) => a + Number(r[key]), 0) / rows.length);
process.stdout.write(
  `${JSON.stringify({
    bench: 'control-plane',
    planes: rows.length,
    start_total_ms_mean: mean('start_total_ms'),
    start_apiserver_ms_mean: mean('start_apiserver_ms'),
    rss_total_kib_mean: mean('rss_total_kib'),
    rss_apiserver_kib_mean: mean('rss_apiserver_kib'),
    rss_etcd_kib_mean: mean('rss_etcd_kib'),
    rss_kcm_kib_mean: mean('rss_kcm_kib'),
    planes_side_by_side: planes.length,
  })}\n`,
);
