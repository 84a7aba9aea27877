import { describe, expect, it } from 'vitest';

import { createCa, generateKeyPair } from '../../../certs/index.ts';
import type { Channel } from '../../api/index.ts';
import { channelAccess, type ChannelRefReader } from './channel-access.ts';
import { SubscriptionError } from './errors.ts';

const caPem = createCa({ commonName: 'channel-access-ca', keyPair: generateKeyPair() }).certPem;

const channel = (spec: Partial<Channel['spec']>, type = 'Git'): Channel =>
  ({
    apiVersion: 'apps.open-cluster-management.io/v1',
    kind: 'Channel',
    metadata: { name: 'ch', namespace: 'chns' },
    spec: { type, pathname: 'https://git.example.com/r.git', ...spec },
  }) as Channel;

/** A reader over fixed objects, keyed `<Kind>/<namespace>/<name>`. */
const reader =
  (objects: Record<string, Record<string, string>>): ChannelRefReader =>
  (kind, namespace, name) =>
    Promise.resolve(objects[`${kind}/${namespace}/${name}`]);

describe('channelAccess', () => {
  it.each([
    {
      name: 'anonymous Git channel',
      channel: channel({}),
      objects: {},
      expected: { insecureSkipVerify: false },
    },
    {
      name: 'Git user and accessToken, trimmed',
      channel: channel({ secretRef: { name: 's' }, insecureSkipVerify: true }),
      objects: { 'Secret/chns/s': { user: 'me\n', accessToken: ' tok\n' } },
      expected: {
        insecureSkipVerify: true,
        basicAuth: { user: 'me', password: 'tok' },
        credentialsFrom: 'Secret chns/s',
      },
    },
    {
      name: 'HelmRepo user and password, CA bundle and insecureSkipVerify from the ConfigMap',
      channel: channel(
        { secretRef: { name: 's', namespace: 'chns' }, configMapRef: { name: 'c' } },
        'HelmRepo',
      ),
      objects: {
        'Secret/chns/s': { user: 'me', password: 'pw' },
        'ConfigMap/chns/c': { caCerts: caPem, insecureSkipVerify: 'true' },
      },
      expected: {
        insecureSkipVerify: true,
        caPem: `${caPem.trim()}\n`,
        basicAuth: { user: 'me', password: 'pw' },
        credentialsFrom: 'Secret chns/s',
      },
    },
    {
      name: 'HelmRepo authHeader wins over user and password',
      channel: channel({ secretRef: { name: 's' } }, 'HelmRepo'),
      objects: { 'Secret/chns/s': { authHeader: 'Bearer t', user: 'me', password: 'pw' } },
      expected: {
        insecureSkipVerify: false,
        authHeader: 'Bearer t',
        credentialsFrom: 'Secret chns/s',
      },
    },
    {
      name: 'a Git ConfigMap without caCerts adds nothing (insecureSkipVerify there is HelmRepo only)',
      channel: channel({ configMapRef: { name: 'c' } }),
      objects: { 'ConfigMap/chns/c': { insecureSkipVerify: 'true' } },
      expected: { insecureSkipVerify: false },
    },
  ])('$name', async ({ channel: ch, objects, expected }) => {
    const kind = ch.spec.type === 'HelmRepo' ? 'helmrepo' : 'git';
    expect(await channelAccess(reader(objects), ch, kind)).toEqual(expected);
  });

  it.each([
    {
      name: 'missing Secret',
      channel: channel({ secretRef: { name: 's' } }),
      objects: {},
      message: 'Secret chns/s (secretRef of channel chns/ch) does not exist',
    },
    {
      name: 'missing ConfigMap',
      channel: channel({ configMapRef: { name: 'c' } }),
      objects: {},
      message: 'ConfigMap chns/c (configMapRef of channel chns/ch) does not exist',
    },
    {
      name: 'Git Secret without accessToken',
      channel: channel({ secretRef: { name: 's' } }),
      objects: { 'Secret/chns/s': { user: 'me' } },
      message: 'Secret chns/s has no key accessToken (a Git channel needs user and accessToken)',
    },
    {
      name: 'HelmRepo Secret without password',
      channel: channel({ secretRef: { name: 's' } }, 'HelmRepo'),
      objects: { 'Secret/chns/s': { user: 'me' } },
      message:
        'Secret chns/s has no key password (a HelmRepo channel needs authHeader, or user and password)',
    },
    {
      name: 'SSH key',
      channel: channel({ secretRef: { name: 's' } }),
      objects: { 'Secret/chns/s': { sshKey: 'PRIVATE' } },
      message:
        'Secret chns/s holds an sshKey: Git channels are read over http(s) only, with user and accessToken',
    },
    {
      name: 'a token with a line break inside',
      channel: channel({ secretRef: { name: 's' } }),
      objects: { 'Secret/chns/s': { user: 'me', accessToken: 'a\nurl=https://evil' } },
      message: 'key accessToken of Secret chns/s holds a line break',
    },
    {
      name: 'a Secret in another namespace',
      channel: channel({ secretRef: { name: 's', namespace: 'kube-system' } }),
      objects: {},
      message:
        "channel chns/ch: secretRef names namespace kube-system; it must be in the channel's namespace chns",
    },
    {
      name: 'caCerts without a certificate',
      channel: channel({ configMapRef: { name: 'c' } }),
      objects: { 'ConfigMap/chns/c': { caCerts: 'not a pem' } },
      message: 'key caCerts of ConfigMap chns/c holds no PEM certificate',
    },
    {
      name: 'caCerts with a broken certificate',
      channel: channel({ configMapRef: { name: 'c' } }),
      objects: {
        'ConfigMap/chns/c': {
          caCerts: `${caPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`,
        },
      },
      message: 'key caCerts of ConfigMap chns/c: certificate 2 cannot be parsed',
    },
  ])('refuses: $name', async ({ channel: ch, objects, message }) => {
    const kind = ch.spec.type === 'HelmRepo' ? 'helmrepo' : 'git';
    const err = await channelAccess(reader(objects), ch, kind).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubscriptionError);
    expect(err).toMatchObject({ code: 'HUB_ERR_SUB_CHANNEL_CREDENTIALS', message });
  });
});
