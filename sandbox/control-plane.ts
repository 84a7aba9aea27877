import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  type CertificateAuthority,
  createCa,
  generateKeyPair,
  issueCert,
  renderKubeconfig,
} from '../certs/index.ts';
import { type AdminCredentials, apiGet } from './api-probe.ts';
import { type BinaryPaths, ensureBinaries, isAlive } from './build.ts';
import { SandboxError } from './errors.ts';
import { ManagedProcess } from './managed-process.ts';
import { assertPortFree, freePort } from './ports.ts';

const DEFAULT_START_TIMEOUT_MS = 90_000;
const POLL_MS = 250;
const DIR_PREFIX = 'spokelink-cp-';
const SERVICE_CIDR = '10.0.0.0/24';
const SERVICE_IP = '10.0.0.1';
const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;

/** The controllers a control plane runs; enough for namespaces, GC, service accounts and CSRs. */
export const CONTROLLERS = [
  'namespace-controller',
  'garbage-collector-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'clusterrole-aggregation-controller',
  'certificatesigningrequest-signing-controller',
  'certificatesigningrequest-approving-controller',
  'certificatesigningrequest-cleaner-controller',
] as const;

export interface ControlPlaneOptions {
  /** DNS-label name, used in folder names, the kubeconfig and logs. */
  name: string;
  /** Fixed API server port; default: a free loopback port. */
  apiserverPort?: number;
  /** Run kube-controller-manager (default true). */
  withControllerManager?: boolean;
  /** Prebuilt binaries; default: `ensureBinaries()`. */
  binaries?: BinaryPaths;
  /** Parent folder for the control plane's own temp folder; default: the OS temp dir. */
  baseDir?: string;
  startTimeoutMs?: number;
}

/** Milliseconds each start phase took. */
export interface StartTimings {
  pkiMs: number;
  etcdMs: number;
  apiserverMs: number;
  controllerManagerMs: number;
  totalMs: number;
}

/**
 * A running local control plane: etcd, kube-apiserver and kube-controller-manager as real
 * processes, with PKI made by certs/. `stop()` stops them in reverse order and removes the
 * folder; it is idempotent. Live control planes are also stopped when this process exits or
 * gets SIGINT/SIGTERM, and folders left by a process that died are swept at the next start.
 */
export interface ControlPlane {
  readonly name: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** An admin (system:masters) kubeconfig file. */
  readonly kubeconfigPath: string;
  readonly dir: string;
  /** CA that signed the API server's serving certificate. */
  readonly servingCaPem: string;
  /** The API server's client CA (its key too: it is the cluster's CSR signer). */
  readonly clientCa: CertificateAuthority;
  readonly admin: AdminCredentials;
  readonly binaries: BinaryPaths;
  readonly timings: StartTimings;
  /** Process ids by component, for measurements. */
  pids(): Record<string, number>;
  /**
   * Stops kube-apiserver (SIGTERM, SIGKILL after 20 s), waits `downtimeMs` (default 0), and
   * starts it again with the same flags, port, certificates and etcd (so every object and every
   * credential stays valid); resolves once /readyz answers 200 again. For fault tests: clients
   * see their connections and watches end and must recover. etcd and KCM keep running. Calls are
   * serialized; rejects with `SANDBOX_ERR_STOPPED` once `stop()` was called.
   */
  restartApiServer(options?: { downtimeMs?: number }): Promise<void>;
  /** Stops KCM, then the API server, then etcd (SIGTERM, SIGKILL after `timeoutMs`), and removes the folder. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

const live = new Set<ControlPlaneImpl>();
let hooksInstalled = false;

/**
 * Starts a real control plane and resolves when /readyz answers 200 and (with the controller
 * manager) the `default` ServiceAccount exists. On any failure everything started so far is
 * stopped and removed before the promise rejects with a SandboxError.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  if (!NAME_PATTERN.test(options.name)) {
    throw new SandboxError(
      'SANDBOX_ERR_INVALID_OPTIONS',
      `control plane name "${options.name}" must be a DNS label of at most 40 characters`,
    );
  }
  if (options.apiserverPort !== undefined)
    await assertPortFree(options.apiserverPort, `the ${options.name} API server`);
  const binaries = options.binaries ?? (await ensureBinaries());
  sweepStale(options.baseDir ?? tmpdir());
  installExitHooks();
  // A free port can be taken between our probe and the child's bind; retry once with new ones.
  for (let attempt = 1; ; attempt++) {
    const plane = new ControlPlaneImpl(options, binaries);
    live.add(plane);
    try {
      await plane.start();
      return plane;
    } catch (err) {
      await plane.stop();
      const retry =
        err instanceof SandboxError &&
        err.code === 'SANDBOX_ERR_PORT_IN_USE' &&
        attempt < 3 &&
        options.apiserverPort === undefined;
      if (!retry) throw err;
    }
  }
}

class ControlPlaneImpl implements ControlPlane {
  readonly name: string;
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly binaries: BinaryPaths;
  server = '';
  servingCaPem = '';
  clientCa: CertificateAuthority = { certPem: '', keyPem: '' };
  admin: AdminCredentials = { server: '', caPem: '', certPem: '', keyPem: '' };
  timings: StartTimings = {
    pkiMs: 0,
    etcdMs: 0,
    apiserverMs: 0,
    controllerManagerMs: 0,
    totalMs: 0,
  };
  #options: ControlPlaneOptions;
  #procs: ManagedProcess[] = [];
  #stopping: Promise<void> | undefined;
  /** The API server's flags, kept for restartApiServer(). */
  #apiserverArgs: string[] = [];
  #restarting: Promise<void> = Promise.resolve();

  constructor(options: ControlPlaneOptions, binaries: BinaryPaths) {
    this.#options = options;
    this.name = options.name;
    this.binaries = binaries;
    const base = options.baseDir ?? tmpdir();
    mkdirSync(base, { recursive: true });
    this.dir = mkdtempSync(join(base, `${DIR_PREFIX}${options.name}-`));
    this.kubeconfigPath = join(this.dir, 'admin.kubeconfig');
    for (const sub of ['pki', 'logs', 'etcd'])
      mkdirSync(join(this.dir, sub), { recursive: true, mode: 0o700 });
    this.#recordOwner();
  }

  pids(): Record<string, number> {
    return Object.fromEntries(
      this.#procs
        .filter((p) => p.pid !== undefined && !p.isExited)
        .map((p) => [p.name, p.pid as number]),
    );
  }

  async start(): Promise<void> {
    const started = Date.now();
    let mark = started;
    const lap = () => {
      const now = Date.now();
      const ms = now - mark;
      mark = now;
      return ms;
    };
    const timeoutMs = this.#options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const apiPort = this.#options.apiserverPort ?? (await freePort());
    const [etcdClientPort, etcdPeerPort] = [await freePort(), await freePort()];
    this.server = `https://127.0.0.1:${apiPort}`;
    const pki = this.#writePki();
    this.timings.pkiMs = lap();

    const etcd = this.#spawn('etcd', this.binaries.etcd, [
      '--name=default',
      `--data-dir=${join(this.dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);
    await this.#waitFor(etcd, timeoutMs, 'etcd /health', async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${etcdClientPort}/health`, {
          signal: AbortSignal.timeout(2_000),
        });
        return res.status === 200;
      } catch {
        return false;
      }
    });
    this.timings.etcdMs = lap();

    this.#apiserverArgs = [
      `--etcd-servers=http://127.0.0.1:${etcdClientPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(this.dir, 'pki')}`,
      `--tls-cert-file=${pki.apiserverCert}`,
      `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.clientCaCert}`,
      '--authorization-mode=RBAC',
      '--enable-bootstrap-token-auth=true',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--allow-privileged=true',
      `--service-account-issuer=https://127.0.0.1:${apiPort}`,
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      '--profiling=false',
      '--v=0',
    ];
    const apiserver = this.#spawn(
      'kube-apiserver',
      this.binaries['kube-apiserver'],
      this.#apiserverArgs,
    );
    await this.#waitFor(
      apiserver,
      timeoutMs,
      'kube-apiserver /readyz',
      async () => (await apiGet(this.admin, '/readyz')).status === 200,
    );
    await this.#waitFor(
      apiserver,
      timeoutMs,
      'the default namespace',
      async () => (await apiGet(this.admin, '/api/v1/namespaces/default')).status === 200,
    );
    this.timings.apiserverMs = lap();

    if (this.#options.withControllerManager ?? true) {
      const kcm = this.#spawn('kube-controller-manager', this.binaries['kube-controller-manager'], [
        `--kubeconfig=${this.kubeconfigPath}`,
        '--leader-elect=false',
        '--secure-port=0',
        `--controllers=${CONTROLLERS.join(',')}`,
        `--service-account-private-key-file=${pki.saKey}`,
        `--root-ca-file=${pki.servingCaCert}`,
        `--cluster-signing-cert-file=${pki.clientCaCert}`,
        `--cluster-signing-key-file=${pki.clientCaKey}`,
        '--cluster-signing-duration=24h',
        '--use-service-account-credentials=false',
        '--v=0',
      ]);
      await this.#waitFor(
        kcm,
        timeoutMs,
        'the default ServiceAccount',
        async () =>
          (await apiGet(this.admin, '/api/v1/namespaces/default/serviceaccounts/default'))
            .status === 200,
      );
    }
    this.timings.controllerManagerMs = lap();
    this.timings.totalMs = Date.now() - started;
  }

  restartApiServer(options: { downtimeMs?: number } = {}): Promise<void> {
    const run = async () => {
      const index = this.#procs.findIndex((p) => p.name === 'kube-apiserver');
      const old = this.#procs[index];
      if (this.#stopping || old === undefined)
        throw new SandboxError(
          'SANDBOX_ERR_STOPPED',
          `control plane ${this.name} is stopped: its API server cannot be restarted`,
        );
      await old.stop();
      if ((options.downtimeMs ?? 0) > 0)
        await new Promise((r) => setTimeout(r, options.downtimeMs));
      const proc = new ManagedProcess(
        'kube-apiserver',
        this.binaries['kube-apiserver'],
        this.#apiserverArgs,
        { logFile: join(this.dir, 'logs', 'kube-apiserver.log') },
      );
      this.#procs[index] = proc;
      this.#recordOwner();
      await this.#waitFor(
        proc,
        this.#options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
        'kube-apiserver /readyz after a restart',
        async () => (await apiGet(this.admin, '/readyz')).status === 200,
      );
    };
    // One restart at a time; a failed one does not block the next.
    const next = this.#restarting.then(run, run);
    this.#restarting = next.catch(() => undefined);
    return next;
  }

  stop(timeoutMs?: number): Promise<void> {
    this.#stopping ??= (async () => {
      // A restart in progress sees #stopping and ends first, so its new API server is stopped too.
      await this.#restarting;
      // Reverse start order: controller manager, API server, then etcd.
      for (const proc of [...this.#procs].reverse()) await proc.stop(timeoutMs);
      rmSync(this.dir, { recursive: true, force: true });
      live.delete(this);
    })();
    return this.#stopping;
  }

  /** Synchronous cleanup for exit handlers: no waiting is possible there. */
  killNow(): void {
    for (const proc of this.#procs) proc.killNow();
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  #writePki() {
    const pkiDir = join(this.dir, 'pki');
    const servingCa = createCa({ commonName: `spokelink-${this.name}-serving-ca` });
    const clientCa = createCa({ commonName: `spokelink-${this.name}-client-ca` });
    const apiserver = issueCert(servingCa, {
      commonName: 'kube-apiserver',
      dnsNames: [
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
      ipAddresses: ['127.0.0.1', SERVICE_IP],
      usage: 'server',
    });
    const admin = issueCert(clientCa, {
      commonName: 'spokelink-admin',
      organizations: ['system:masters'],
      usage: 'client',
    });
    const sa = generateKeyPair();
    const files = {
      servingCaCert: [join(pkiDir, 'serving-ca.crt'), servingCa.certPem],
      clientCaCert: [join(pkiDir, 'client-ca.crt'), clientCa.certPem],
      clientCaKey: [join(pkiDir, 'client-ca.key'), clientCa.keyPem],
      apiserverCert: [join(pkiDir, 'apiserver.crt'), apiserver.certPem],
      apiserverKey: [join(pkiDir, 'apiserver.key'), apiserver.keyPem],
      saKey: [join(pkiDir, 'sa.key'), sa.privateKeyPem],
      saPub: [join(pkiDir, 'sa.pub'), sa.publicKeyPem],
    } as const;
    for (const [path, pem] of Object.values(files)) writeFileSync(path, pem, { mode: 0o600 });
    this.servingCaPem = servingCa.certPem;
    this.clientCa = clientCa;
    this.admin = {
      server: this.server,
      caPem: servingCa.certPem,
      certPem: admin.certPem,
      keyPem: admin.keyPem,
    };
    writeFileSync(
      this.kubeconfigPath,
      renderKubeconfig({
        clusterName: this.name,
        contextName: this.name,
        server: this.server,
        caPem: servingCa.certPem,
        userName: `${this.name}-admin`,
        clientCertPem: admin.certPem,
        clientKeyPem: admin.keyPem,
      }),
      { mode: 0o600 },
    );
    return Object.fromEntries(Object.entries(files).map(([k, [path]]) => [k, path])) as Record<
      keyof typeof files,
      string
    >;
  }

  #spawn(name: string, binary: string, args: string[]): ManagedProcess {
    const proc = new ManagedProcess(name, binary, args, {
      logFile: join(this.dir, 'logs', `${name}.log`),
    });
    this.#procs.push(proc);
    this.#recordOwner();
    return proc;
  }

  /** Polls `check` until it holds; fails early when the process exits, or after the timeout. */
  async #waitFor(
    proc: ManagedProcess,
    timeoutMs: number,
    what: string,
    check: () => Promise<boolean>,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void proc.exited.then((e) => (exit = e));
    for (;;) {
      if (exit) throw proc.earlyExitError(exit, join(this.dir, 'logs', `${proc.name}.log`));
      if (this.#stopping)
        throw new SandboxError(
          'SANDBOX_ERR_STOPPED',
          `control plane ${this.name} was stopped while starting`,
        );
      if (await check()) return;
      if (Date.now() > deadline) {
        throw new SandboxError(
          'SANDBOX_ERR_START_TIMEOUT',
          `${this.name}: ${what} not ready after ${Math.round(timeoutMs / 1000)}s; last lines of ${proc.name}:\n${proc.logTail.slice(-15).join('\n')}`,
          { logTail: proc.logTail },
        );
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** owner.json lets a later run find and clean up after a process that died hard. */
  #recordOwner(): void {
    const pids = this.#procs.map((p) => p.pid).filter((p): p is number => p !== undefined);
    writeFileSync(
      join(this.dir, 'owner.json'),
      JSON.stringify({ ownerPid: process.pid, name: this.name, pids }),
    );
  }
}

/**
 * Removes control-plane folders whose owning process is gone, killing children it left
 * behind. A pid is killed only if its command line still names that folder (pids get reused).
 */
export function sweepStale(baseDir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(baseDir).filter((e) => e.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = join(baseDir, entry);
    let owner: { ownerPid?: unknown; pids?: unknown };
    try {
      owner = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as typeof owner;
    } catch {
      continue;
    }
    if (typeof owner.ownerPid !== 'number' || isAlive(owner.ownerPid)) continue;
    for (const pid of Array.isArray(owner.pids) ? owner.pids : []) {
      if (typeof pid !== 'number') continue;
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir))
          process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const plane of [...live]) plane.killNow();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      // Graceful first (etcd and the API server flush and exit in well under a second), with
      // SIGKILL from the 'exit' hook as the backstop if a second signal arrives.
      process.once(signal, () => process.exit(1));
      void Promise.allSettled([...live].map((plane) => plane.stop(5_000))).finally(() =>
        process.exit(signal === 'SIGINT' ? 130 : 143),
      );
    });
  }
}
