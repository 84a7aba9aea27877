import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import {
  type CertErrorCode,
  createCa,
  generateKeyPair,
  issueCert,
  type KubeconfigOptions,
  renderKubeconfig,
} from './index.ts';
import { expectCertError } from './test-support.ts';

const caKeys = generateKeyPair();
const clientKeys = generateKeyPair();
const ca = createCa({ commonName: 'cluster1-ca', keyPair: caKeys });
const client = issueCert(ca, {
  commonName: 'spokelink-admin',
  organizations: ['system:masters'],
  usage: 'client',
  keyPair: clientKeys,
});
const base64 = (text: string): string => Buffer.from(text).toString('base64');

const certOptions: KubeconfigOptions = {
  clusterName: 'cluster1',
  server: 'https://127.0.0.1:6443',
  caPem: ca.certPem,
  userName: 'admin',
  clientCertPem: client.certPem,
  clientKeyPem: client.keyPem,
};

describe('renderKubeconfig', () => {
  it('renders a client-certificate kubeconfig with embedded data', () => {
    expect(parse(renderKubeconfig(certOptions))).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'cluster1',
          cluster: {
            server: 'https://127.0.0.1:6443',
            'certificate-authority-data': base64(ca.certPem),
          },
        },
      ],
      users: [
        {
          name: 'admin',
          user: {
            'client-certificate-data': base64(client.certPem),
            'client-key-data': base64(client.keyPem),
          },
        },
      ],
      contexts: [{ name: 'admin@cluster1', context: { cluster: 'cluster1', user: 'admin' } }],
      'current-context': 'admin@cluster1',
    });
  });

  it('never folds the base64 data across lines', () => {
    const line = renderKubeconfig(certOptions)
      .split('\n')
      .find((l) => l.includes('client-key-data'));
    expect(line).toBe(`      client-key-data: ${base64(client.keyPem)}`);
  });

  it('is accepted by @kubernetes/client-node', () => {
    const kc = new KubeConfig();
    kc.loadFromString(renderKubeconfig(certOptions));
    expect(kc.getCurrentContext()).toBe('admin@cluster1');
    expect(kc.getCurrentCluster()).toMatchObject({
      name: 'cluster1',
      server: 'https://127.0.0.1:6443',
      caData: base64(ca.certPem),
      skipTLSVerify: false,
    });
    expect(kc.getCurrentUser()).toMatchObject({
      name: 'admin',
      certData: base64(client.certPem),
      keyData: base64(client.keyPem),
    });
  });

  it('renders a token, namespace, proxy-url and context name', () => {
    const yaml = renderKubeconfig({
      clusterName: 'cluster2',
      server: 'https://hub.example:8443/clusters/cluster2',
      caPem: ca.certPem,
      proxyUrl: 'http://127.0.0.1:8090',
      tlsServerName: 'kubernetes.default.svc',
      userName: 'sa-user',
      token: 'eyJhbGciOiJSUzI1NiJ9.payload.sig',
      contextName: 'cluster2',
      namespace: 'open-cluster-management-agent',
    });
    const kc = new KubeConfig();
    kc.loadFromString(yaml);
    expect(kc.getCurrentContext()).toBe('cluster2');
    expect(kc.getContextObject('cluster2')).toMatchObject({
      cluster: 'cluster2',
      user: 'sa-user',
      namespace: 'open-cluster-management-agent',
    });
    expect(kc.getCurrentCluster()).toMatchObject({
      server: 'https://hub.example:8443/clusters/cluster2',
      proxyUrl: 'http://127.0.0.1:8090',
      tlsServerName: 'kubernetes.default.svc',
    });
    expect(kc.getCurrentUser()).toMatchObject({ token: 'eyJhbGciOiJSUzI1NiJ9.payload.sig' });
    expect(parse(yaml).clusters[0].cluster['proxy-url']).toBe('http://127.0.0.1:8090');
  });

  it('renders insecure-skip-tls-verify without a CA', () => {
    const yaml = renderKubeconfig({
      clusterName: 'c',
      server: 'https://10.0.0.1',
      insecureSkipTlsVerify: true,
      userName: 'u',
    });
    expect(parse(yaml).clusters[0].cluster).toEqual({
      server: 'https://10.0.0.1',
      'insecure-skip-tls-verify': true,
    });
    const kc = new KubeConfig();
    kc.loadFromString(yaml);
    expect(kc.getCurrentCluster()?.skipTLSVerify).toBe(true);
  });

  it('normalizes a CA bundle', () => {
    const other = createCa({ commonName: 'other-ca', keyPair: clientKeys });
    const yaml = renderKubeconfig({
      ...certOptions,
      caPem: `${ca.certPem}\n\n${other.certPem.replace(/\n/g, '\r\n')}`,
    });
    expect(parse(yaml).clusters[0].cluster['certificate-authority-data']).toBe(
      base64(ca.certPem + other.certPem),
    );
  });

  it.each([
    {
      name: 'an empty clusterName',
      opts: { clusterName: '' },
      code: 'CERT_ERR_INVALID_OPTIONS',
      message: 'invalid options: clusterName must be a non-empty string',
    },
    {
      name: 'a server that is not a URL',
      opts: { server: '127.0.0.1:6443' },
      code: 'CERT_ERR_INVALID_OPTIONS',
      message: 'invalid options: server is not a valid URL',
    },
    {
      name: 'a server with another scheme',
      opts: { server: 'ftp://127.0.0.1' },
      code: 'CERT_ERR_INVALID_OPTIONS',
      message: 'invalid options: server must use https or http, got ftp',
    },
    {
      name: 'a proxy with another scheme',
      opts: { proxyUrl: 'ws://proxy' },
      code: 'CERT_ERR_INVALID_OPTIONS',
      message: 'invalid options: proxyUrl must use http or https or socks5, got ws',
    },
    {
      name: 'caPem with insecureSkipTlsVerify',
      opts: { insecureSkipTlsVerify: true },
      code: 'CERT_ERR_INVALID_OPTIONS',
      message: 'invalid options: caPem and insecureSkipTlsVerify cannot be used together',
    },
    {
      name: 'a client certificate without its key',
      opts: {},
      omit: 'clientKeyPem',
      code: 'CERT_ERR_INVALID_OPTIONS',
      message: 'invalid options: clientCertPem and clientKeyPem must be given together',
    },
    {
      name: 'a token with a newline',
      opts: { token: 'abc\ndef' },
      code: 'CERT_ERR_INVALID_OPTIONS',
      message:
        'invalid options: token must be a non-empty string of printable characters without spaces',
    },
    {
      name: 'a client key of another certificate',
      opts: { clientKeyPem: caKeys.privateKeyPem },
      code: 'CERT_ERR_KEY_MISMATCH',
      message: 'private key does not match certificate "CN=spokelink-admin,O=system:masters"',
    },
    {
      name: 'a CA that is not PEM',
      opts: { caPem: 'not pem' },
      code: 'CERT_ERR_INVALID_PEM',
      message: 'invalid certificate bundle PEM: no PEM block found',
    },
  ] satisfies {
    name: string;
    opts: Partial<KubeconfigOptions>;
    omit?: 'clientKeyPem';
    code: CertErrorCode;
    message: string;
  }[])('rejects $name', (row) => {
    const merged: KubeconfigOptions = { ...certOptions, ...row.opts };
    if ('omit' in row) delete merged[row.omit];
    expectCertError(() => renderKubeconfig(merged), row.code, row.message);
  });
});
