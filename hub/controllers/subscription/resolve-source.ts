/**
 * Reading a Subscription's channel on the hub: the objects it delivers, by channel type.
 * - Git / GitHub: the commit of `git-branch` (or `git-tag`, `git-desired-commit`), below
 *   `git-path`: plain YAML, kustomize directories (`kubectl kustomize`), chart directories
 *   (`helm template`), then the package filter and overrides.
 * - HelmRepo: the chosen chart versions rendered with their values.
 * - Namespace: nothing, as current OCM (its namespace subscriber, built on the removed
 *   Deployable API, is gone); the outcome says so.
 * - ObjectBucket: not supported (`HUB_ERR_SUB_CHANNEL_UNSUPPORTED`).
 * Stateless; the Git cache lives in the {@link GitSource} passed in.
 */
import { readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

import { parse } from 'yaml';

import { AppsAnnotations, type Channel, type Subscription } from '../../api/index.ts';
import { channelAccess, type ChannelRefReader } from './channel-access.ts';
import { SubscriptionError } from './errors.ts';
import type { GitSource } from './git-source.ts';
import { renderHelmSubscription } from './helm-source.ts';
import { assertLocalKustomizations } from './kustomize-guard.ts';
import { applyPackageOverrides, filterResources, type SourceObject } from './package-filter.ts';
import { helmTemplate, kustomize, readYamlFiles, type RenderTools } from './render.ts';
import { resolveGitPath, walkSource } from './source-paths.ts';
import { releaseOf } from './helm-source.ts';

/** Channel types as this controller handles them (case-insensitive, GitHub = Git). */
export type ChannelKind = 'git' | 'helmrepo' | 'namespace' | 'objectbucket';

/** The normalised type of a channel. */
export function channelKind(channel: Channel): ChannelKind {
  const t = channel.spec.type.toLowerCase();
  return t === 'github' ? 'git' : (t as ChannelKind);
}

/** What was read. */
export interface SourceRead {
  readonly objects: readonly SourceObject[];
  /** `commit <sha>` / `chart <name>-<version>`; names the revision in the status message. */
  readonly revision: string;
  /** Set for the Namespace channel's legacy no-op. */
  readonly note?: { readonly reason: string; readonly message: string };
}

/** The message of a Namespace-channel subscription. */
export const NAMESPACE_CHANNEL_MESSAGE =
  'Namespace channels are legacy: OCM no longer propagates anything from them (their Deployable-based subscriber was removed), and neither does this hub';

/** What {@link readSource} needs. */
export interface SourceContext {
  readonly git: GitSource;
  readonly tools: RenderTools;
  /** Reads the channel's `secretRef` Secret and `configMapRef` ConfigMap. */
  readonly refs: ChannelRefReader;
}

function annotation(sub: Subscription, primary: string, legacy?: string): string | undefined {
  const a = sub.metadata?.annotations ?? {};
  const v = a[primary] ?? (legacy === undefined ? undefined : a[legacy]);
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** The Git checkout parameters of a subscription (annotations). */
export function gitParameters(sub: Subscription) {
  const depthText = annotation(sub, AppsAnnotations.GitCloneDepth);
  const depth = depthText === undefined ? undefined : Number(depthText);
  if (depth !== undefined && (!Number.isInteger(depth) || depth < 1 || depth > 10_000)) {
    throw new SubscriptionError(
      'HUB_ERR_SUB_INVALID',
      `git-clone-depth "${depthText ?? ''}" is not a whole number from 1 to 10000`,
    );
  }
  const branch = annotation(sub, AppsAnnotations.GitBranch, AppsAnnotations.GithubBranch);
  const tag = annotation(sub, AppsAnnotations.GitTag);
  const commit = annotation(sub, AppsAnnotations.GitDesiredCommit);
  return {
    path: annotation(sub, AppsAnnotations.GitPath, AppsAnnotations.GithubPath) ?? '',
    ref: {
      ...(branch === undefined ? {} : { branch }),
      ...(tag === undefined ? {} : { tag }),
      ...(commit === undefined ? {} : { commit }),
      ...(depth === undefined ? {} : { depth }),
    },
  };
}

/** Reads the channel; rejects with a {@link SubscriptionError}. */
export async function readSource(
  ctx: SourceContext,
  sub: Subscription,
  channel: Channel,
): Promise<SourceRead> {
  const kind = channelKind(channel);
  const namespace = sub.metadata?.namespace ?? '';
  switch (kind) {
    case 'namespace':
      return {
        objects: [],
        revision: 'nothing',
        note: { reason: 'NamespaceChannelNotPropagated', message: NAMESPACE_CHANNEL_MESSAGE },
      };
    case 'objectbucket':
      throw new SubscriptionError(
        'HUB_ERR_SUB_CHANNEL_UNSUPPORTED',
        'ObjectBucket channels are not supported by this hub',
      );
    case 'helmrepo': {
      const digest = sub.spec.packageFilter?.annotations?.['digest'];
      const rendering = await renderHelmSubscription(ctx.tools, {
        pathname: channel.spec.pathname,
        access: await channelAccess(ctx.refs, channel, 'helmrepo'),
        query: {
          ...(sub.spec.name === undefined ? {} : { name: sub.spec.name }),
          ...(sub.spec.packageFilter?.version === undefined
            ? {}
            : { version: sub.spec.packageFilter.version }),
          ...(digest === undefined ? {} : { digest }),
        },
        packageOverrides: sub.spec.packageOverrides,
        namespace,
        uid: sub.metadata?.uid ?? '',
      });
      return { objects: rendering.objects, revision: `chart ${rendering.charts.join(', ')}` };
    }
    case 'git': {
      const { path, ref } = gitParameters(sub);
      const access = await channelAccess(ctx.refs, channel, 'git');
      const checkout = await ctx.git.checkout(channel.spec.pathname, ref, access);
      try {
        const start = resolveGitPath(checkout.dir, path);
        const layout = walkSource(checkout.dir, start);
        const objects: SourceObject[] = readYamlFiles(checkout.dir, layout.files);
        // Kustomize and helm read files on their own (bases, `.Files.Get`): before either runs,
        // no link may lead out of the checkout and no kustomization may name anything outside.
        if (layout.kustomizations.length > 0 || layout.charts.length > 0)
          assertLocalKustomizations(checkout.dir);
        for (const dir of layout.kustomizations)
          objects.push(...(await kustomize(ctx.tools, dir, relative(checkout.dir, dir) || '.')));
        for (const dir of layout.charts) {
          const chart = chartName(dir);
          const release = releaseOf(chart, sub.metadata?.uid ?? '', sub.spec.packageOverrides);
          objects.push(
            ...(await helmTemplate(ctx.tools, {
              chart: dir,
              namespace,
              shown: `chart directory "${relative(checkout.dir, dir) || '.'}"`,
              ...release,
            })),
          );
        }
        const filtered = filterResources(objects, sub.spec);
        return {
          objects: applyPackageOverrides(filtered, sub.spec.packageOverrides),
          revision: `commit ${checkout.commit.slice(0, 12)}`,
        };
      } finally {
        checkout.dispose();
      }
    }
    default:
      throw new SubscriptionError(
        'HUB_ERR_SUB_CHANNEL_UNSUPPORTED',
        `channel type "${channel.spec.type}" is not supported`,
      );
  }
}

/** A chart directory's chart name (Chart.yaml `name`, else the directory's name). */
function chartName(dir: string): string {
  try {
    const doc = parse(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as { name?: unknown } | null;
    if (typeof doc?.name === 'string' && doc.name !== '') return doc.name;
  } catch {
    // an unreadable Chart.yaml fails in helm template with a better message
  }
  return basename(dir);
}
