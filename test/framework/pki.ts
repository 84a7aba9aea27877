import {
  type CertificateAuthority,
  createCa,
  generateKeyPair,
  issueCert,
  type IssuedCert,
  type KeyPair,
} from '../../certs/index.ts';
import { agentCommonName, AGENT_ORGANIZATION } from '../../protocol/identity.ts';

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
  /** The client certificate of agent `agentName` of `cluster`. */
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
    agent(cluster, agentName) {
      const key = `${cluster}/${agentName}`;
      let cert = agents.get(key);
      if (!cert) {
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
  return pki;
}

/** A CA nobody trusts, for negative tests. */
export function foreignCa(): CertificateAuthority {
  return createCa({
    commonName: 'spokelink-test-foreign-ca',
    keyPair: (sharedKey ??= generateKeyPair()),
  });
}
