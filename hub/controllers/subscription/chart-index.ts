/**
 * Choosing charts from a Helm repository's `index.yaml` for a HelmRepo subscription, as OCM's
 * Helm subscriber does: the entry named `spec.name` (every entry when it is empty), versions that
 * satisfy `packageFilter.version` (a Masterminds-style constraint: `,` means AND, `||` OR, `!=`
 * excludes; the rest is npm `semver` range syntax, which shares `^`, `~`, `x`, hyphen ranges),
 * whose digest equals `packageFilter.annotations.digest` when that is set; then the highest
 * version. Pure functions.
 */
import { createRequire } from 'node:module';

import { parse } from 'yaml';

import { SubscriptionError } from './errors.ts';

/** The part of npm's `semver` (CommonJS) used here, typed locally. */
interface SemverApi {
  valid(version: string, options?: { loose?: boolean }): string | null;
  validRange(range: string, options?: { loose?: boolean }): string | null;
  satisfies(version: string, range: string, options?: { loose?: boolean }): boolean;
  eq(a: string, b: string): boolean;
  rcompare(a: string, b: string): number;
}
const semver = createRequire(import.meta.url)('semver') as SemverApi;

/** One chart version of an index (the fields we read). */
export interface ChartVersion {
  readonly name: string;
  readonly version: string;
  readonly urls: readonly string[];
  readonly digest?: string;
  readonly keywords?: readonly string[];
}

/** A parsed repository index: chart name → its versions. */
export type ChartIndex = ReadonlyMap<string, readonly ChartVersion[]>;

/** Parses `index.yaml`; throws `HUB_ERR_SUB_RENDER_FAILED` when it is not an index. */
export function parseChartIndex(text: string, where: string): ChartIndex {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (err: unknown) {
    throw new SubscriptionError('HUB_ERR_SUB_RENDER_FAILED', `${where} is not valid YAML`, {
      cause: err,
    });
  }
  const entries = (doc as { entries?: unknown } | null)?.entries;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) {
    throw new SubscriptionError(
      'HUB_ERR_SUB_RENDER_FAILED',
      `${where} is not a Helm repository index (no entries)`,
    );
  }
  const index = new Map<string, ChartVersion[]>();
  for (const [name, list] of Object.entries(entries as Record<string, unknown>)) {
    if (!Array.isArray(list)) continue;
    const versions: ChartVersion[] = [];
    for (const raw of list as Record<string, unknown>[]) {
      const version = raw?.['version'];
      const urls = raw?.['urls'];
      if (typeof version !== 'string' || !Array.isArray(urls)) continue;
      const digest = raw['digest'];
      const keywords = raw['keywords'];
      versions.push({
        name,
        version,
        urls: urls.filter((u): u is string => typeof u === 'string'),
        ...(typeof digest === 'string' ? { digest } : {}),
        ...(Array.isArray(keywords)
          ? { keywords: keywords.filter((k): k is string => typeof k === 'string') }
          : {}),
      });
    }
    index.set(name, versions);
  }
  return index;
}

/**
 * Whether `version` satisfies the Masterminds-style `constraint` (see the module comment). An
 * empty constraint accepts every valid version; prereleases only match a constraint that names
 * one, as with both libraries. Throws `HUB_ERR_SUB_INVALID` on a constraint neither can read.
 */
export function satisfiesConstraint(version: string, constraint: string | undefined): boolean {
  const v = semver.valid(version, { loose: true });
  if (v === null) return false;
  const text = (constraint ?? '').trim();
  if (text === '' || text === '*') return semver.satisfies(v, '*');
  return text.split('||').some((group) => {
    const excluded: string[] = [];
    const kept: string[] = [];
    // `>= 1.2, < 2` → comparators; a hyphen range (`1.2 - 1.4`) stays one piece.
    for (const part of group.split(',')) {
      const p = part.trim().replace(/^(>=|<=|!=|>|<|=|~|\^)\s+/, '$1');
      if (p === '') continue;
      if (p.startsWith('!=')) excluded.push(p.slice(2).trim());
      else kept.push(p);
    }
    const range = kept.length === 0 ? '*' : kept.join(' ');
    if (semver.validRange(range, { loose: true }) === null) {
      throw new SubscriptionError(
        'HUB_ERR_SUB_INVALID',
        `packageFilter.version "${constraint}" is not a version constraint`,
      );
    }
    if (!semver.satisfies(v, range, { loose: true })) return false;
    return excluded.every((x) => {
      const ex = semver.valid(x, { loose: true });
      return ex === null || !semver.eq(v, ex);
    });
  });
}

/** What a subscription asks of an index. */
export interface ChartQuery {
  /** `spec.name`; empty or undefined: every chart of the index. */
  readonly name?: string;
  /** `packageFilter.version`. */
  readonly version?: string;
  /** `packageFilter.annotations.digest`. */
  readonly digest?: string;
}

/**
 * The chart versions to deploy: per chart name, the highest version the query accepts. Throws
 * `HUB_ERR_SUB_PACKAGE_NOT_FOUND` when the named chart is absent or no version qualifies.
 */
export function selectCharts(index: ChartIndex, query: ChartQuery): ChartVersion[] {
  const names =
    query.name === undefined || query.name === '' ? [...index.keys()].sort() : [query.name];
  const chosen: ChartVersion[] = [];
  for (const name of names) {
    const versions = index.get(name);
    if (versions === undefined) {
      throw new SubscriptionError(
        'HUB_ERR_SUB_PACKAGE_NOT_FOUND',
        `chart "${name}" is not in the repository index`,
      );
    }
    const ok = versions
      .filter((c) => satisfiesConstraint(c.version, query.version))
      .filter((c) => query.digest === undefined || c.digest === query.digest)
      .sort((a, b) =>
        semver.rcompare(
          semver.valid(a.version, { loose: true }) ?? '0.0.0',
          semver.valid(b.version, { loose: true }) ?? '0.0.0',
        ),
      );
    const best = ok[0];
    if (best === undefined) {
      const what = [
        query.version ? `version "${query.version}"` : '',
        query.digest ? `digest ${query.digest}` : '',
      ]
        .filter((s) => s !== '')
        .join(' and ');
      throw new SubscriptionError(
        'HUB_ERR_SUB_PACKAGE_NOT_FOUND',
        `no version of chart "${name}" matches ${what || 'a valid semantic version'}`,
      );
    }
    chosen.push(best);
  }
  return chosen;
}

/**
 * The download URL of a chart: absolute http(s) URLs as they are, relative ones resolved
 * against the repository URL (with a trailing slash), anything else refused.
 */
export function chartUrl(repoUrl: string, chart: ChartVersion): URL {
  const first = chart.urls[0];
  if (first === undefined) {
    throw new SubscriptionError(
      'HUB_ERR_SUB_PACKAGE_NOT_FOUND',
      `chart "${chart.name}" ${chart.version} has no download URL in the index`,
    );
  }
  const base = repoUrl.endsWith('/') ? repoUrl : `${repoUrl}/`;
  let url: URL;
  try {
    url = new URL(first, base);
  } catch (err: unknown) {
    throw new SubscriptionError(
      'HUB_ERR_SUB_CHANNEL_INVALID',
      `chart "${chart.name}" has the unreadable URL "${first}"`,
      { cause: err },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SubscriptionError(
      'HUB_ERR_SUB_CHANNEL_INVALID',
      `chart "${chart.name}" is at a ${url.protocol} URL; only http and https are fetched`,
    );
  }
  return url;
}
