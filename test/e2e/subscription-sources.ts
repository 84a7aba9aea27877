// Real sources for the subscription e2e tests, on loopback: a bare Git repository served over
// smart HTTP by the real `git http-backend` (run as CGI by a small Node server), a working clone
// to commit to, and a Helm repository whose charts are packaged by the real `helm package` and
// indexed by `helm repo index`, served as static files. Either may require HTTP basic auth (a
// 401 with a challenge otherwise, before git http-backend runs) and be served over HTTPS.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';

/** Runs a command to completion; throws with its stderr when it fails. */
export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const res = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, HOME: cwd, GIT_CONFIG_NOSYSTEM: '1', ...env },
    encoding: 'utf8',
  });
  if (res.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')}: ${res.stderr}${res.error?.message ?? ''}`);
  return res.stdout;
}

/** How a source server is reached: optional basic auth and TLS (a cert for 127.0.0.1). */
export interface SourceServerOptions {
  readonly basicAuth?: { readonly user: string; readonly password: string };
  readonly tls?: { readonly certPem: string; readonly keyPem: string };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** An HTTP(S) server on loopback answering 401 to requests without the expected credentials. */
function sourceServer(options: SourceServerOptions, handler: Handler): Server {
  const expected =
    options.basicAuth === undefined
      ? undefined
      : `Basic ${Buffer.from(`${options.basicAuth.user}:${options.basicAuth.password}`).toString('base64')}`;
  const guarded: Handler = (req, res) => {
    if (expected !== undefined && req.headers.authorization !== expected) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="e2e"' }).end();
      return;
    }
    handler(req, res);
  };
  const server =
    options.tls === undefined
      ? createServer(guarded)
      : createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, guarded);
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('tlsClientError', () => undefined);
  return server as Server;
}

async function listen(server: Server, isTls: boolean): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${isTls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Answers one request by running `git http-backend` as a CGI program. */
function gitCgi(root: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: root,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: '127.0.0.1',
      ...(req.headers['content-encoding'] === undefined
        ? {}
        : { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) }),
      ...(req.headers['git-protocol'] === undefined
        ? {}
        : { GIT_PROTOCOL: String(req.headers['git-protocol']) }),
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  child.on('error', () => res.destroy());
  child.stdin.on('error', () => undefined);
  req.on('error', () => child.kill());
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let isHeadDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (isHeadDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const crlf = head.indexOf('\r\n\r\n');
    const lf = head.indexOf('\n\n');
    const end = crlf >= 0 ? crlf : lf;
    if (end < 0) return;
    const sep = crlf >= 0 ? 4 : 2;
    let status = 200;
    for (const line of head.subarray(0, end).toString().split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
      else res.setHeader(name, value);
    }
    res.statusCode = status;
    isHeadDone = true;
    res.write(head.subarray(end + sep));
  });
  child.stdout.on('end', () => res.end());
}

/** A bare repository `<name>.git` served over smart HTTP, and a clone to commit to. */
export interface GitServer {
  /** `http://127.0.0.1:<port>/<name>.git` */
  readonly url: string;
  /** Writes `files` (path → content, or null to delete) in the clone, commits, pushes `main`. */
  commit(files: Record<string, string | null>, message: string): string;
  /** Makes a symbolic link in the clone (committed with the next commit). */
  symlink(path: string, target: string): void;
  close(): Promise<void>;
}

/** Starts a {@link GitServer} with an empty repository `name`. */
export async function startGitServer(
  name: string,
  options: SourceServerOptions = {},
): Promise<GitServer> {
  const root = mkdtempSync(join(tmpdir(), 'spokelink-git-'));
  const bare = join(root, 'repos', `${name}.git`);
  mkdirSync(dirname(bare), { recursive: true });
  run('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare], root);
  const work = join(root, 'work');
  run('git', ['init', '--quiet', '--initial-branch=main', work], root);
  const server = sourceServer(options, (req, res) => gitCgi(join(root, 'repos'), req, res));
  const base = await listen(server, options.tls !== undefined);
  const git = (args: string[]) =>
    run('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', ...args], work);
  return {
    url: `${base}/${name}.git`,
    commit(files, message) {
      for (const [path, content] of Object.entries(files)) {
        const full = join(work, normalize(path));
        if (content === null) rmSync(full, { force: true });
        else {
          mkdirSync(dirname(full), { recursive: true });
          writeFileSync(full, content);
        }
      }
      git(['add', '--all']);
      git(['commit', '--quiet', '--allow-empty', '-m', message]);
      git(['push', '--quiet', bare, 'HEAD:refs/heads/main']);
      return git(['rev-parse', 'HEAD']).trim();
    },
    symlink(path, target) {
      const full = join(work, normalize(path));
      mkdirSync(dirname(full), { recursive: true });
      run('ln', ['-s', target, full], work);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A chart to package: its name, version and the ConfigMap template's data. */
export interface ChartSpec {
  readonly name: string;
  readonly version: string;
}

/** A Helm repository on loopback: `url` serves `index.yaml` and the packaged charts. */
export interface HelmRepoServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Packages each chart with `helm package` (a ConfigMap `<release>-<chart>` whose data carry the
 * chart version and `.Values.greeting`), indexes them with `helm repo index --url`, and serves
 * the folder.
 */
export async function startHelmRepo(
  helm: string,
  charts: readonly ChartSpec[],
  options: SourceServerOptions = {},
): Promise<HelmRepoServer> {
  const root = mkdtempSync(join(tmpdir(), 'spokelink-helm-'));
  const repo = join(root, 'repo');
  mkdirSync(repo);
  const server = sourceServer(options, (req, res) => {
    const path = normalize(new URL(req.url ?? '/', 'http://localhost').pathname).replace(
      /^\/+/,
      '',
    );
    if (path.includes('..') || path === '') {
      res.statusCode = 404;
      res.end();
      return;
    }
    try {
      const body = readFileSync(join(repo, path));
      res.setHeader('content-length', body.length);
      res.end(body);
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  const url = await listen(server, options.tls !== undefined);
  const env = {
    HELM_CACHE_HOME: join(root, 'c'),
    HELM_CONFIG_HOME: join(root, 'f'),
    HELM_DATA_HOME: join(root, 'd'),
  };
  for (const chart of charts) {
    const dir = join(root, 'src', `${chart.name}-${chart.version}`, chart.name);
    mkdirSync(join(dir, 'templates'), { recursive: true });
    writeFileSync(
      join(dir, 'Chart.yaml'),
      `apiVersion: v2\nname: ${chart.name}\nversion: ${chart.version}\ndescription: e2e chart\n`,
    );
    writeFileSync(join(dir, 'values.yaml'), 'greeting: hello\n');
    writeFileSync(
      join(dir, 'templates', 'configmap.yaml'),
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: {{ .Release.Name }}-{{ .Chart.Name }}',
        'data:',
        '  chartVersion: {{ .Chart.Version | quote }}',
        '  greeting: {{ .Values.greeting | quote }}',
        '',
      ].join('\n'),
    );
    run(helm, ['package', dir, '--destination', repo], root, env);
  }
  run(helm, ['repo', 'index', repo, '--url', url], root, env);
  return {
    url,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
