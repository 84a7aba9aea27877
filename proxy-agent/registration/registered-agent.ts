/**
 * An agent that registers itself with the hub, as OCM's klusterlet does, with one egress: the
 * proxy-server's address. On start it reads the bootstrap Secret `spokelink join` left on its
 * spoke; if it holds no valid hub certificate yet, it makes a key (stored first, so a restart
 * keeps it), discovers and verifies the hub CA with the bootstrap token, sends a CSR to the
 * registration API and waits until the hub accepts the cluster and signs it. Then it runs the
 * tunnel agent with that certificate, and renews it over mTLS (no token) once 80 % of its
 * lifetime has passed, switching the running agent to the new one.
 */
import { createPublicKey } from 'node:crypto';

import type { KubeConfig } from '@kubernetes/client-node';

import {
  CLOCK_SKEW_BACKDATE_MS,
  createCsr,
  generateKeyPair,
  parseCertificate,
} from '../../certs/index.ts';
import {
  AGENT_ORGANIZATION,
  type RegistrationStatus,
  agentCommonName,
} from '../../protocol/index.ts';
import { AgentError, toError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ProxyAgentOptions } from '../options.ts';
import { type ProxyAgent, startProxyAgent } from '../proxy-agent.ts';
import {
  RegistrationClient,
  RegistrationRefusedError,
  discoverHub,
} from './registration-client.ts';
import { SpokeSecrets, type StoredIdentity } from './spoke-secrets.ts';

/** Options of {@link startRegisteredAgent}. */
export interface RegisteredAgentOptions {
  /** The agent's own spoke, with the agent's ServiceAccount credentials. */
  readonly spoke: KubeConfig;
  /** Namespace of the bootstrap and identity Secrets. */
  readonly namespace: string;
  /** The tunnel agent's options apart from what registration provides. */
  readonly agent: Omit<
    ProxyAgentOptions,
    'clusterName' | 'agentName' | 'servers' | 'tls' | 'transport'
  >;
  readonly logger: Logger;
  /** How often to ask the hub while a request is pending; default 2 s. */
  readonly pollMs?: number;
  /** How often to check whether the certificate is due; default 60 s (or less for short lives). */
  readonly rotationCheckMs?: number;
  /** Fraction of the lifetime after which to renew; default 0.8. */
  readonly rotationFraction?: number;
}

/** A running registered agent. */
export interface RegisteredAgent {
  /** Resolves once the agent has its certificate and a tunnel is up. */
  ready(): Promise<void>;
  /** The tunnel agent, once registration is done. */
  readonly agent: ProxyAgent | undefined;
  /** Certificates issued to this agent so far in this process (1 + renewals). */
  readonly certificatesIssued: number;
  drain(): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

function keyPairOf(privateKeyPem: string): { privateKeyPem: string; publicKeyPem: string } {
  const publicKeyPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' });
  return { privateKeyPem, publicKeyPem: publicKeyPem.toString() };
}

/**
 * Whether a certificate is due for renewal: once `fraction` of its lifetime as issued has
 * passed. The lifetime leaves out the issuer's clock-skew backdating of notBefore, which
 * would otherwise make short-lived certificates due the moment they arrive.
 */
export function isDueForRenewal(certPem: string, fraction: number, now = Date.now()): boolean {
  const info = parseCertificate(certPem);
  const notAfter = info.notAfter.getTime();
  const lifetime = Math.max(0, notAfter - info.notBefore.getTime() - CLOCK_SKEW_BACKDATE_MS);
  return notAfter - now <= (1 - fraction) * lifetime;
}

function isUsable(identity: StoredIdentity, commonName: string): boolean {
  if (identity.certPem === undefined || identity.keyPem === undefined) return false;
  if (identity.caPem === undefined || identity.tunnel === undefined) return false;
  try {
    const info = parseCertificate(identity.certPem);
    return info.commonName === commonName && info.notAfter.getTime() > Date.now();
  } catch {
    return false;
  }
}

/** Starts registration (if needed) and then the agent; see the module comment. */
export function startRegisteredAgent(options: RegisteredAgentOptions): RegisteredAgent {
  const { logger } = options;
  const secrets = new SpokeSecrets(options.spoke, options.namespace);
  const pollMs = options.pollMs ?? 2_000;
  const stop = new AbortController();
  let agent: ProxyAgent | undefined;
  let issued = 0;
  let rotationTimer: NodeJS.Timeout | undefined;

  const waitIssued = async (
    client: RegistrationClient,
    first: RegistrationStatus,
    auth: Parameters<RegistrationClient['status']>[1],
  ): Promise<RegistrationStatus> => {
    let status = first;
    let said = '';
    while (status.phase === 'Pending') {
      if (status.message !== undefined && status.message !== said) {
        said = status.message;
        logger.info('registration pending', { request: status.name, message: status.message });
      }
      await sleep(pollMs, stop.signal);
      if (stop.signal.aborted) throw new AgentError('AGENT_ERR_CLOSED', 'agent stopped');
      try {
        status = await client.status(status.name, auth);
      } catch (err: unknown) {
        if (err instanceof RegistrationRefusedError) throw err;
        logger.warn('registration status failed; retrying', { error: toError(err).message });
      }
    }
    if (status.phase === 'Denied' || status.certificate === undefined) {
      throw new AgentError(
        'AGENT_ERR_REGISTRATION',
        `the hub denied request ${status.name}: ${status.message ?? 'no reason given'}`,
      );
    }
    return status;
  };

  const register = async (): Promise<{
    identity: StoredIdentity;
    cluster: string;
    agentName: string;
    transport: 'grpc' | 'websocket';
  }> => {
    const boot = await secrets.bootstrap();
    const commonName = agentCommonName(boot.clusterName, boot.agentName);
    let identity = await secrets.identity();
    const transport = boot.transport ?? 'grpc';
    if (isUsable(identity, commonName)) {
      logger.info('using the stored hub certificate', { clusterName: boot.clusterName });
      return { identity, cluster: boot.clusterName, agentName: boot.agentName, transport };
    }
    if (identity.keyPem === undefined) {
      identity = { keyPem: generateKeyPair().privateKeyPem };
      await secrets.saveIdentity(identity);
    }
    const keyPem = identity.keyPem as string;
    const discovery = await discoverHub({
      hubUrl: boot.hub,
      token: boot.token,
      ...(boot.caHash === undefined ? {} : { caHash: boot.caHash }),
    });
    logger.info('hub discovered', { hub: boot.hub, tunnel: discovery.tunnel });
    const client = new RegistrationClient({ hubUrl: boot.hub, caPem: discovery.caBundle });
    const csr = createCsr({
      commonName,
      organizations: [AGENT_ORGANIZATION],
      keyPair: keyPairOf(keyPem),
    });
    const first = await client.submit(boot.token, {
      clusterName: boot.clusterName,
      agentName: boot.agentName,
      csr,
    });
    await secrets.saveIdentity({ keyPem, requestName: first.name, tunnel: discovery.tunnel });
    const done = await waitIssued(client, first, { token: boot.token });
    identity = {
      keyPem,
      certPem: done.certificate as string,
      caPem: done.caBundle,
      requestName: done.name,
      tunnel: discovery.tunnel,
    };
    await secrets.saveIdentity(identity);
    issued += 1;
    logger.info('registered with the hub', { clusterName: boot.clusterName, request: done.name });
    return { identity, cluster: boot.clusterName, agentName: boot.agentName, transport };
  };

  const rotate = async (hub: string, identity: StoredIdentity): Promise<StoredIdentity> => {
    const current = { certPem: identity.certPem as string, keyPem: identity.keyPem as string };
    const keyPem = generateKeyPair().privateKeyPem;
    const csr = createCsr({
      commonName: parseCertificate(current.certPem).commonName,
      organizations: [AGENT_ORGANIZATION],
      keyPair: keyPairOf(keyPem),
    });
    const client = new RegistrationClient({ hubUrl: hub, caPem: identity.caPem as string });
    const first = await client.renew(current, csr);
    const done = await waitIssued(client, first, { clientCert: current });
    const next: StoredIdentity = {
      ...identity,
      keyPem,
      certPem: done.certificate as string,
      caPem: done.caBundle,
      requestName: done.name,
    };
    await secrets.saveIdentity(next);
    issued += 1;
    return next;
  };

  const readyPromise = (async () => {
    let registered;
    for (;;) {
      try {
        registered = await register();
        break;
      } catch (err: unknown) {
        if (stop.signal.aborted) throw err;
        const isFinal =
          err instanceof RegistrationRefusedError ||
          (err instanceof AgentError && err.code !== 'AGENT_ERR_CONNECT_FAILED');
        if (isFinal) throw err;
        logger.warn('registration failed; retrying', { error: toError(err).message });
        await sleep(pollMs * 2, stop.signal);
      }
    }
    const { identity, cluster, agentName, transport } = registered;
    const tunnel = identity.tunnel ?? {};
    const server = transport === 'grpc' ? tunnel.grpc : tunnel.websocket;
    if (server === undefined) {
      throw new AgentError(
        'AGENT_ERR_INVALID_OPTIONS',
        `the hub advertises no ${transport} tunnel endpoint`,
      );
    }
    agent = startProxyAgent({
      ...options.agent,
      clusterName: cluster,
      agentName,
      transport,
      servers: [transport === 'grpc' ? server : `wss://${server}/tunnel`],
      tls: {
        certPem: identity.certPem as string,
        keyPem: identity.keyPem as string,
        caPem: identity.caPem as string,
      },
    });
    let currentIdentity = identity;
    const boot = await secrets.bootstrap();
    const lifetime = (() => {
      const info = parseCertificate(identity.certPem as string);
      return info.notAfter.getTime() - info.notBefore.getTime() - CLOCK_SKEW_BACKDATE_MS;
    })();
    const checkMs = options.rotationCheckMs ?? Math.max(1_000, Math.min(60_000, lifetime / 20));
    let isRotating = false;
    rotationTimer = setInterval(() => {
      if (isRotating || stop.signal.aborted) return;
      const fraction = options.rotationFraction ?? 0.8;
      if (!isDueForRenewal(currentIdentity.certPem as string, fraction)) return;
      isRotating = true;
      rotate(boot.hub, currentIdentity).then(
        (next) => {
          currentIdentity = next;
          agent?.rotateCertificate({
            certPem: next.certPem as string,
            keyPem: next.keyPem as string,
            caPem: next.caPem as string,
          });
          logger.info('hub certificate renewed', {
            clusterName: cluster,
            notAfter: parseCertificate(next.certPem as string).notAfter.toISOString(),
          });
          isRotating = false;
        },
        (err: unknown) => {
          logger.warn('certificate renewal failed; retrying', { error: toError(err).message });
          isRotating = false;
        },
      );
    }, checkMs);
    rotationTimer.unref();
    await agent.ready();
  })();
  readyPromise.catch(() => undefined);

  return {
    ready: () => readyPromise,
    get agent() {
      return agent;
    },
    get certificatesIssued() {
      return issued;
    },
    async drain() {
      stop.abort();
      clearInterval(rotationTimer);
      await agent?.drain();
    },
    async close() {
      stop.abort();
      clearInterval(rotationTimer);
      await agent?.close();
    },
  };
}
