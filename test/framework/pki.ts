import {
  type CertificateAuthority,
  createCa,
  generateKeyPair,
  issueCert,
  type IssuedCert,
  type KeyPair,
} from '../../certs/index.ts';
import {
  agentCommonName,
  AGENT_ORGANIZATION,
  GATEWAY_ORGANIZATION,
} from '../../protocol/identity.ts';

/**
 * One hub CA per test process, and certificates from it. RSA keys are made once and shared by
 * every certificate issued here (tests never generate keys per test, STYLE §7).
 */
export interface TestPki {
  ca: CertificateAuthority;
  /** Serving certificate for 127.0.0.1 / localhost (the proxy-server's). */
  server: IssuedCert;
  /** A frontend (hub) client certificate. */
  hubClient: IssuedCert;
  /** The cluster gateway's client certificate for agents' `agent-api` (O `spokelink:gateways`). */
  gateway: IssuedCert;
  /**
   * The certificate of agent `agentName` of `cluster`: its tunnel client certificate and its
   * agent API serving certificate (usage server-client, as the hub issues them).
   */
  agent(cluster: string, agentName: string): IssuedCert;
}

let pki: TestPki | undefined;
let sharedKey: KeyPair | undefined;

export function testPki(): TestPki {
  if (pki) return pki;
  sharedKey ??= generateKeyPair();
  const keyPair = sharedKey;
  const ca = createCa({ commonName: 'spokelink-test-hub-ca' });
  const agents = new Map<string, IssuedCert>();
  pki = {
    ca,
    server: issueCert(ca, {
      commonName: 'proxy-server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      keyPair,
    }),
    hubClient: issueCert(ca, {
      commonName: 'spokelink:hub:test',
      organizations: ['spokelink:hub'],
      usage: 'client',
      keyPair,
    }),
    gateway: issueCert(ca, {
      commonName: 'spokelink:gateway:test',
      organizations: [GATEWAY_ORGANIZATION],
      usage: 'client',
      keyPair,
    }),
    agent(cluster, agentName) {
      const key = `${cluster}/${agentName}`;
      let cert = agents.get(key);
      if (!cert) {
        cert = issueCert(ca, {
          commonName: agentCommonName(cluster, agentName),
          organizations: [AGENT_ORGANIZATION],
          usage: 'server-client',
          keyPair,
        });
        agents.set(key, cert);
      }
      return cert;
    },
  };
  return pki;
}

/** A CA nobody trusts, for negative tests. */
export function foreignCa(): CertificateAuthority {
  return createCa({
    commonName: 'spokelink-test-foreign-ca',
    keyPair: (sharedKey ??= generateKeyPair()),
  });
}
