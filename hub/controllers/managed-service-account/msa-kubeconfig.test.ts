// A KubeConfig from an account's hub Secret: the gateway URL of the cluster, the gateway's CA,
// the token; anything else than such a Secret is refused.
import { Buffer } from 'node:buffer';

import { describe, expect, it } from 'vitest';

import { MsaError } from './errors.ts';
import { kubeConfigFromTokenSecret } from './msa-kubeconfig.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const TARGET = { cluster: 'c1', gatewayUrl: 'https://hub.example:8443/', gatewayCaPem: 'CA PEM' };
const LABELS = { 'authentication.open-cluster-management.io/is-managed-serviceaccount': 'true' };

describe('kubeConfigFromTokenSecret', () => {
  it('points at the gateway with the token and the gateway CA', () => {
    const kc = kubeConfigFromTokenSecret(
      {
        metadata: { name: 'robot', namespace: 'c1', labels: LABELS },
        data: { token: b64('the-token'), 'ca.crt': b64('SPOKE CA') },
      },
      TARGET,
    );
    expect(kc.getCurrentContext()).toBe('c1/robot');
    expect(kc.getCurrentCluster()).toMatchObject({
      server: 'https://hub.example:8443/clusters/c1',
      caData: b64('CA PEM'),
      skipTLSVerify: false,
    });
    expect(kc.getCurrentUser()?.token).toBe('the-token');
  });

  it.each([
    {
      name: 'unlabelled',
      secret: { metadata: { name: 's', namespace: 'c1' }, data: { token: b64('t') } },
      message:
        'Secret c1/s is not a ManagedServiceAccount token Secret (no authentication.open-cluster-management.io/is-managed-serviceaccount=true)',
    },
    {
      name: 'no token',
      secret: { metadata: { name: 's', namespace: 'c1', labels: LABELS }, data: {} },
      message: 'Secret c1/s has no token',
    },
  ])('refuses a Secret that is $name', ({ secret, message }) => {
    expect(() => kubeConfigFromTokenSecret(secret, TARGET)).toThrow(
      new MsaError('HUB_ERR_MSA_INVALID_SECRET', message),
    );
  });
});
