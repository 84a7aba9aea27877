import {
  CustomObjectsApi,
  Observable,
  type KubeConfig,
  type RequestContext,
} from '@kubernetes/client-node';

import { apiStatus } from '../kube/index.ts';
import type { LeaseObject } from './lease-record.ts';

/**
 * Where one Lease is read and written. Every call is one API request that `signal` aborts.
 * Stateless; calls may overlap.
 */
export interface LeaseStore {
  /** The Lease, or undefined when it does not exist. */
  get(signal: AbortSignal): Promise<LeaseObject | undefined>;
  /** Creates the Lease; resolves undefined when it already exists (another replica was first). */
  create(lease: LeaseObject, signal: AbortSignal): Promise<LeaseObject | undefined>;
  /**
   * Replaces the Lease, guarded by `lease.metadata.resourceVersion`; resolves undefined when
   * that version is no longer current (409) or the Lease is gone (404): someone else wrote.
   */
  replace(lease: LeaseObject, signal: AbortSignal): Promise<LeaseObject | undefined>;
}

const GROUP = 'coordination.k8s.io';
const VERSION = 'v1';
const PLURAL = 'leases';

/** Per-call options that make `signal` abort the request (client-node's middleware hook). */
function withSignal(signal: AbortSignal) {
  return {
    middleware: [
      {
        pre: (context: RequestContext) => {
          context.setSignal(signal);
          return new Observable(Promise.resolve(context));
        },
        post: <T>(response: T) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append' as const,
  };
}

/**
 * The Lease `namespace/name` on the API server of `kubeConfig`. The generic client is used so
 * that times travel as the API server's strings (metav1.MicroTime) in both directions.
 */
export function kubeLeaseStore(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
): LeaseStore {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const where = { group: GROUP, version: VERSION, plural: PLURAL, namespace };
  return {
    async get(signal) {
      try {
        return (await api.getNamespacedCustomObject(
          { ...where, name },
          withSignal(signal),
        )) as LeaseObject;
      } catch (err: unknown) {
        if (apiStatus(err) === 404) return undefined;
        throw err;
      }
    },
    async create(lease, signal) {
      try {
        return (await api.createNamespacedCustomObject(
          { ...where, body: lease },
          withSignal(signal),
        )) as LeaseObject;
      } catch (err: unknown) {
        if (apiStatus(err) === 409) return undefined;
        throw err;
      }
    },
    async replace(lease, signal) {
      try {
        return (await api.replaceNamespacedCustomObject(
          { ...where, name, body: lease },
          withSignal(signal),
        )) as LeaseObject;
      } catch (err: unknown) {
        const status = apiStatus(err);
        if (status === 409 || status === 404) return undefined;
        throw err;
      }
    },
  };
}
