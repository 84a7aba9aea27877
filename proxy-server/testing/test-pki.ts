/**
 * Certificates for proxy-server's own tests: one CA and one RSA key per test file (module
 * level), leaf certificates issued on demand and cached. Never call per test (STYLE §7).
 */
import { createCa, generateKeyPair, issueCert } from '../../certs/index.ts';
import type { CertificateAuthority, IssuedCert, KeyPair } from '../../certs/index.ts';
import { AGENT_ORGANIZATION, agentCommonName } from '../../protocol/index.ts';

/** A CA with its serving, frontend and agent certificates. */
export interface ServerTestPki {
  readonly ca: CertificateAuthority;
  /** Serving certificate for 127.0.0.1 and localhost. */
  readonly server: IssuedCert;
  /** A hub (frontend) client certificate. */
  readonly frontend: IssuedCert;
  /** The client certificate of agent `agentName` of `cluster`. */
  agent(cluster: string, agentName: string): IssuedCert;
  /** The server's TLS options for startProxyServer. */
  readonly serverTls: { certPem: string; keyPem: string; caPem: string };
}

/** Creates a CA (named `name`) and its leaf certificates, all sharing one key. */
export function createServerTestPki(
  name = 'proxy-server-test-ca',
  keyPair: KeyPair = generateKeyPair(),
): ServerTestPki {
  const ca = createCa({ commonName: name, keyPair });
  const server = issueCert(ca, {
    commonName: 'proxy-server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
    keyPair,
  });
  const frontend = issueCert(ca, {
    commonName: 'spokelink:hub:test',
    organizations: ['spokelink:hub'],
    usage: 'client',
    keyPair,
  });
  const agents = new Map<string, IssuedCert>();
  return {
    ca,
    server,
    frontend,
    serverTls: { certPem: server.certPem, keyPem: server.keyPem, caPem: ca.certPem },
    agent(cluster, agentName) {
      const key = `${cluster}/${agentName}`;
      let cert = agents.get(key);
      if (cert === undefined) {
        cert = issueCert(ca, {
          commonName: agentCommonName(cluster, agentName),
          organizations: [AGENT_ORGANIZATION],
          usage: 'client',
          keyPair,
        });
        agents.set(key, cert);
      }
      return cert;
    },
  };
}
