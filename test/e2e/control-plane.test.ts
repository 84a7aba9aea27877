// The sandbox's real control plane, seen the way a user sees it: kubectl, client-node, CSRs.
import { X509Certificate } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';

import {
  AuthenticationV1Api,
  CertificatesV1Api,
  CoreV1Api,
  KubeConfig,
  VersionApi,
} from '@kubernetes/client-node';
import { describe, expect, inject, it, onTestFinished } from 'vitest';

import { createCsr, generateKeyPair, renderKubeconfig } from '../../certs/index.ts';
import { apiGet, KUBERNETES_VERSION } from '../../sandbox/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';

const hub = inject('hub');

function adminConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(hub.kubeconfigPath);
  return kc;
}

/** A config for the same API server authenticating with a bearer token or a client cert. */
function configAs(user: { token?: string; certPem?: string; keyPem?: string }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(
    renderKubeconfig({
      clusterName: hub.name,
      server: hub.server,
      caPem: hub.servingCaPem,
      userName: 'test-user',
      ...(user.token === undefined ? {} : { token: user.token }),
      ...(user.certPem === undefined ? {} : { clientCertPem: user.certPem }),
      ...(user.keyPem === undefined ? {} : { clientKeyPem: user.keyPem }),
    }),
  );
  return kc;
}

async function whoami(kc: KubeConfig): Promise<string | undefined> {
  const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  return review.status?.userInfo?.username;
}

async function freshNamespace(core: CoreV1Api, prefix: string): Promise<string> {
  const ns = await core.createNamespace({ body: { metadata: { generateName: `${prefix}-` } } });
  const name = ns.metadata?.name;
  if (!name) throw new Error('namespace without a name');
  onTestFinished(async () => {
    await core.deleteNamespace({ name }).catch(() => undefined);
  });
  return name;
}

describe('a local control plane', () => {
  it('is ready and reports the version it was built as', async () => {
    expect((await apiGet(hub.admin, '/readyz')).status).toBe(200);
    const version = await adminConfig().makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe(KUBERNETES_VERSION);
    expect(version.major).toBe('1');
  });

  it('lists namespaces with the kubectl built alongside it', async () => {
    const res = await kubectl(hub.binaries.kubectl, ['get', 'namespaces', '-o', 'name'], {
      kubeconfig: hub.kubeconfigPath,
    });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout.split('\n')).toEqual(
      expect.arrayContaining(['namespace/default', 'namespace/kube-system']),
    );
    const version = await kubectl(hub.binaries.kubectl, ['version', '-o', 'json'], {
      kubeconfig: hub.kubeconfigPath,
    });
    const parsed = JSON.parse(version.stdout) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    expect(parsed.clientVersion.gitVersion).toBe(KUBERNETES_VERSION);
    expect(parsed.serverVersion.gitVersion).toBe(KUBERNETES_VERSION);
  });

  it("lists namespaces with the machine's own kubectl on PATH", async () => {
    const res = await kubectl('kubectl', ['get', 'namespaces', '-o', 'name'], {
      kubeconfig: hub.kubeconfigPath,
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.split('\n')).toEqual(
      expect.arrayContaining(['namespace/default', 'namespace/kube-system']),
    );
  });

  it('issues a working service-account token through TokenRequest', async () => {
    const core = adminConfig().makeApiClient(CoreV1Api);
    const namespace = await freshNamespace(core, 'token');
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'robot' } } });
    const request = await core.createNamespacedServiceAccountToken({
      name: 'robot',
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const token = request.status?.token;
    expect(token).toMatch(/^ey/);
    const expires = new Date(request.status?.expirationTimestamp ?? 0).getTime();
    expect(expires - Date.now()).toBeGreaterThan(3500_000);
    expect(await whoami(configAs({ token: token as string }))).toBe(
      `system:serviceaccount:${namespace}:robot`,
    );
  });

  it('signs an approved CSR for kubernetes.io/kube-apiserver-client, and the cert authenticates', async () => {
    const kc = adminConfig();
    const certificates = kc.makeApiClient(CertificatesV1Api);
    const keyPair = generateKeyPair();
    const user = `csr-user-${Date.now()}`;
    const csrPem = createCsr({ commonName: user, organizations: ['spokelink:test'], keyPair });
    const name = `${user}`;
    await certificates.createCertificateSigningRequest({
      body: {
        metadata: { name },
        spec: {
          request: Buffer.from(csrPem).toString('base64'),
          signerName: 'kubernetes.io/kube-apiserver-client',
          usages: ['client auth', 'digital signature', 'key encipherment'],
          expirationSeconds: 3600,
        },
      },
    });
    onTestFinished(async () => {
      await certificates.deleteCertificateSigningRequest({ name }).catch(() => undefined);
    });
    const csr = await certificates.readCertificateSigningRequest({ name });
    csr.status = {
      conditions: [
        {
          type: 'Approved',
          status: 'True',
          reason: 'E2ETest',
          message: 'approved by the sandbox test',
        },
      ],
    };
    await certificates.replaceCertificateSigningRequestApproval({ name, body: csr });
    const certB64 = await eventually('the signed certificate', async () => {
      const current = await certificates.readCertificateSigningRequest({ name });
      return current.status?.certificate || undefined;
    });
    const certPem = Buffer.from(certB64, 'base64').toString('utf8');
    const cert = new X509Certificate(certPem);
    expect(cert.verify(new X509Certificate(hub.clientCa.certPem).publicKey)).toBe(true);
    expect(cert.subject).toContain(`CN=${user}`);
    expect(await whoami(configAs({ certPem, keyPem: keyPair.privateKeyPem }))).toBe(user);
  });

  it('finishes terminating a deleted namespace, removing what it held', async () => {
    const core = adminConfig().makeApiClient(CoreV1Api);
    const namespace = await freshNamespace(core, 'doomed');
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'data' }, data: { a: 'b' } },
    });
    await core.deleteNamespace({ name: namespace });
    const phase = (await core.readNamespace({ name: namespace })).status?.phase;
    expect(phase).toBe('Terminating');
    await eventually('the namespace to be gone', async () => {
      const res = await apiGet(hub.admin, `/api/v1/namespaces/${namespace}`);
      return res.status === 404 ? true : undefined;
    });
  });

  it('keeps its admin kubeconfig readable by its owner only', () => {
    expect(statSync(hub.kubeconfigPath).mode & 0o777).toBe(0o600);
    expect(statSync(join(hub.dir, 'pki', 'client-ca.key')).mode & 0o777).toBe(0o600);
  });
});
