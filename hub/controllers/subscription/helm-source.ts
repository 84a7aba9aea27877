/**
 * HelmRepo channels, read on the hub: GET `<pathname>/index.yaml` (undici), choose the charts
 * (chart-index.ts), download each `.tgz` (checked against the index's sha256 digest when there is
 * one) and render it with `helm template` (render.ts) with the values of `packageOverrides`.
 * Only http(s) URLs; no redirects followed; bodies bounded in size and time. The channel's
 * credentials (`authHeader`, or basic auth from `user`/`password`) go to the repository's origin
 * only: a chart URL on another origin is fetched without them, as helm does without
 * `--pass-credentials`. The channel's `caCerts` are trusted besides the bundled roots.
 *
 * Stateless apart from the undici agents it makes per call (closed before it returns); safe to
 * call concurrently.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';

import { Agent, request } from 'undici';

import type { PackageOverrides } from '../../api/index.ts';
import type { ChannelAccess } from './channel-access.ts';
import { chartUrl, parseChartIndex, selectCharts, type ChartQuery } from './chart-index.ts';
import { SubscriptionError } from './errors.ts';
import { overridePair, type SourceObject } from './package-filter.ts';
import { helmTemplate, type RenderTools } from './render.ts';

/** Largest index.yaml read, bytes. */
export const MAX_INDEX_BYTES = 32 * 1024 * 1024;
/** Largest chart archive read, bytes. */
export const MAX_CHART_BYTES = 32 * 1024 * 1024;
/** Deadline of one HTTP request (headers and body each), ms. */
export const HTTP_TIMEOUT_MS = 30_000;

/** Checks a HelmRepo channel's pathname: an http(s) URL without credentials. */
export function checkHelmRepoUrl(pathname: string): URL {
  let url: URL;
  try {
    url = new URL(pathname.trim());
  } catch (err: unknown) {
    throw new SubscriptionError(
      'HUB_ERR_SUB_CHANNEL_INVALID',
      `channel pathname "${pathname}" is not a URL`,
      { cause: err },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SubscriptionError(
      'HUB_ERR_SUB_CHANNEL_INVALID',
      `channel pathname "${pathname}" uses ${url.protocol.replace(/:$/, '')}; Helm repositories are read over http(s) only`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new SubscriptionError(
      'HUB_ERR_SUB_CHANNEL_INVALID',
      `channel pathname of host ${url.host} carries credentials; they are not accepted in URLs`,
    );
  }
  return url;
}

/**
 * The `Authorization` header `access` sends to `url` of repository `repo`: none for another
 * origin (see the module comment) or an anonymous channel.
 */
export function authorizationFor(access: ChannelAccess, repo: URL, url: URL): string | undefined {
  if (url.origin !== repo.origin) return undefined;
  if (access.authHeader !== undefined) return access.authHeader;
  if (access.basicAuth === undefined) return undefined;
  const { user, password } = access.basicAuth;
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/**
 * GET `url` into memory, at most `maxBytes`; `SourceUnreachable` on any failure. `tls`: the
 * channel's verification and extra CA bundle; `authorization`: the header to send, if any
 * (`credentialsFrom` names its Secret in failure messages).
 */
export async function fetchBytes(
  url: URL,
  maxBytes: number,
  tls: Pick<ChannelAccess, 'insecureSkipVerify' | 'caPem' | 'credentialsFrom'>,
  authorization?: string,
): Promise<Buffer> {
  const dispatcher = new Agent({
    connect: {
      rejectUnauthorized: !tls.insecureSkipVerify,
      timeout: HTTP_TIMEOUT_MS,
      ...(tls.caPem === undefined ? {} : { ca: [...rootCertificates, tls.caPem] }),
    },
    headersTimeout: HTTP_TIMEOUT_MS,
    bodyTimeout: HTTP_TIMEOUT_MS,
  });
  const withCredentials =
    authorization === undefined || tls.credentialsFrom === undefined
      ? ''
      : ` (with the credentials of ${tls.credentialsFrom})`;
  const fail = (why: string, cause?: unknown) =>
    new SubscriptionError(
      'HUB_ERR_SUB_SOURCE_UNREACHABLE',
      `GET ${url.href}${withCredentials}: ${why}`,
      { cause },
    );
  try {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        method: 'GET',
        dispatcher,
        ...(authorization === undefined ? {} : { headers: { authorization } }),
      });
    } catch (err: unknown) {
      throw fail(err instanceof Error ? err.message : String(err), err);
    }
    const { statusCode, body } = res;
    body.on('error', () => undefined);
    if (statusCode !== 200) {
      body.destroy();
      throw fail(`answered HTTP ${statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          body.destroy();
          throw new SubscriptionError(
            'HUB_ERR_SUB_TOO_LARGE',
            `GET ${url.href}: the body is larger than ${maxBytes} bytes`,
          );
        }
        chunks.push(chunk as Buffer);
      }
    } catch (err: unknown) {
      if (err instanceof SubscriptionError) throw err;
      throw fail(err instanceof Error ? err.message : String(err), err);
    }
    return Buffer.concat(chunks);
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}

/** What a HelmRepo subscription renders. */
export interface HelmSubscriptionInput {
  readonly pathname: string;
  /** The channel's credentials and trust (channel-access.ts). */
  readonly access: ChannelAccess;
  readonly query: ChartQuery;
  readonly packageOverrides: readonly PackageOverrides[] | undefined;
  /** The namespace releases render into (the Subscription's). */
  readonly namespace: string;
  /** Default release name: `<chart>-<first 5 characters of this>` (the Subscription's UID). */
  readonly uid: string;
}

/** The result: objects, and `<chart>-<version>` of each chart rendered (for the status). */
export interface HelmRendering {
  readonly objects: SourceObject[];
  readonly charts: readonly string[];
}

/** Release name and values of a chart, from `packageOverrides` (as OCM's HelmRelease). */
export function releaseOf(
  chart: string,
  uid: string,
  overrides: readonly PackageOverrides[] | undefined,
): { releaseName: string; values?: Record<string, unknown> } {
  const mine = (overrides ?? []).filter((p) => p.packageName === chart);
  const alias = mine.find(
    (p) => p.packageAlias !== undefined && p.packageAlias !== '',
  )?.packageAlias;
  let values: Record<string, unknown> | undefined;
  for (const entry of mine)
    for (const raw of entry.packageOverrides ?? []) {
      const { path, value } = overridePair(raw, chart);
      if (path !== 'spec') continue; // OCM: `path: spec` carries the values; others are ignored
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new SubscriptionError(
          'HUB_ERR_SUB_INVALID',
          `packageOverrides of chart "${chart}": the value of path "spec" must be a map of values`,
        );
      }
      values = value as Record<string, unknown>; // replaces, as OCM does since its PR #158
    }
  return {
    releaseName: alias ?? `${chart}-${uid.slice(0, 5)}`,
    ...(values === undefined ? {} : { values }),
  };
}

/** Reads the index, chooses, downloads and renders; see the module comment. */
export async function renderHelmSubscription(
  tools: RenderTools,
  input: HelmSubscriptionInput,
): Promise<HelmRendering> {
  const repo = checkHelmRepoUrl(input.pathname);
  const base = repo.href.endsWith('/') ? repo.href : `${repo.href}/`;
  const indexUrl = new URL('index.yaml', base);
  const { access } = input;
  const indexText = (
    await fetchBytes(indexUrl, MAX_INDEX_BYTES, access, authorizationFor(access, repo, indexUrl))
  ).toString();
  const charts = selectCharts(parseChartIndex(indexText, indexUrl.href), input.query);
  const scratch = mkdtempSync(join(tmpdir(), 'spokelink-charts-'));
  try {
    const objects: SourceObject[] = [];
    for (const chart of charts) {
      const url = chartUrl(repo.href, chart);
      const bytes = await fetchBytes(
        url,
        MAX_CHART_BYTES,
        access,
        authorizationFor(access, repo, url),
      );
      if (chart.digest !== undefined && chart.digest !== '') {
        const got = createHash('sha256').update(bytes).digest('hex');
        if (got !== chart.digest.replace(/^sha256:/, '')) {
          throw new SubscriptionError(
            'HUB_ERR_SUB_SOURCE_UNREACHABLE',
            `chart "${chart.name}" ${chart.version} from ${url.href} does not match the digest in the index`,
          );
        }
      }
      const file = join(
        scratch,
        `${chart.name}-${chart.version}.tgz`.replace(/[^A-Za-z0-9._-]/g, '_'),
      );
      writeFileSync(file, bytes);
      const release = releaseOf(chart.name, input.uid, input.packageOverrides);
      objects.push(
        ...(await helmTemplate(tools, {
          chart: file,
          namespace: input.namespace,
          shown: `chart "${chart.name}" ${chart.version}`,
          ...release,
        })),
      );
    }
    return { objects, charts: charts.map((c) => `${c.name}-${c.version}`) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
