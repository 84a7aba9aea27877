import { describe, expect, it } from 'vitest';

import { WorkError } from '../manifest-work/errors.ts';
import type { ResourceRef } from '../manifest-work/resource-ref.ts';
import { evaluateConfigurationPolicy, type PolicySpoke } from './evaluate-policy.ts';
import type { JsonMap } from './object-compare.ts';

const KINDS: Record<string, { group: string; resource: string; namespaced: boolean }> = {
  'v1/ConfigMap': { group: '', resource: 'configmaps', namespaced: true },
  'v1/Namespace': { group: '', resource: 'namespaces', namespaced: false },
};
const NOW = new Date('2026-03-04T05:06:07.000Z');

/** A small in-memory cluster: objects by `resource|namespace|name`; `refuse` fails writes. */
function fakeSpoke(objects: Record<string, JsonMap>, refuse?: string) {
  const verbs: string[] = [];
  const keyOf = (ref: ResourceRef) => `${ref.resource}|${ref.namespace ?? ''}|${ref.name}`;
  const write = (verb: string, ref: ResourceRef, body?: JsonMap) => {
    verbs.push(`${verb} ${keyOf(ref)}`);
    if (refuse !== undefined) {
      throw new WorkError('HUB_ERR_WORK_SPOKE_API', refuse, { status: 403, reason: 'Forbidden' });
    }
    if (body === undefined) delete objects[keyOf(ref)];
    else
      objects[keyOf(ref)] = {
        ...body,
        metadata: { ...(body.metadata as JsonMap), uid: 'new-uid' },
      };
    return objects[keyOf(ref)] ?? {};
  };
  const spoke: PolicySpoke = {
    async resolve(apiVersion, kind) {
      const found = KINDS[`${apiVersion}/${kind}`];
      if (found === undefined) {
        throw new WorkError('HUB_ERR_WORK_UNKNOWN_KIND', `no matches for kind "${kind}"`);
      }
      return { ...found, version: 'v1', kind };
    },
    async get(ref) {
      return objects[keyOf(ref)];
    },
    async create(ref, body) {
      return write('create', ref, body as JsonMap);
    },
    async replace(ref, body) {
      return write('replace', ref, body as JsonMap);
    },
    async delete(ref) {
      write('delete', ref);
      return true;
    },
    async request(_method, path) {
      const [, , , maybeNs, ns, resource] = path.split('/');
      const namespace = maybeNs === 'namespaces' && resource !== undefined ? ns : '';
      const plural = resource ?? maybeNs ?? '';
      const items = Object.entries(objects)
        .filter(
          ([k]) =>
            k.startsWith(`${plural}|${namespace}|`) ||
            (plural === 'namespaces' && k.startsWith('namespaces|')),
        )
        .map(([, o]) => o);
      return { items };
    },
  };
  return { spoke, verbs, objects };
}

describe('evaluateConfigurationPolicy', () => {
  it('evaluates every template, lists namespaces for the selector, and reports related objects', async () => {
    const { spoke } = fakeSpoke({
      'namespaces||a': { metadata: { name: 'a' } },
      'namespaces||b': { metadata: { name: 'b' } },
      'configmaps|a|cfg': { metadata: { name: 'cfg', namespace: 'a' }, data: { k: 'v' } },
    });
    const result = await evaluateConfigurationPolicy(
      spoke,
      {
        name: 'cp',
        namespaceSelector: { include: ['*'] },
        isEnforce: false,
        objectTemplates: [
          {
            complianceType: 'musthave',
            objectDefinition: {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: 'cfg' },
              data: { k: 'v' },
            },
          },
        ],
      },
      NOW,
    );
    expect(result.templates).toEqual([
      {
        isCompliant: false,
        reason: 'K8s does not have a `must have` object',
        message: 'configmaps [cfg] not found in namespace b',
      },
    ]);
    expect(result.status.compliant).toBe('NonCompliant');
    expect(result.status.compliancyDetails).toEqual([
      {
        Compliant: 'NonCompliant',
        Validity: {},
        conditions: [
          {
            type: 'violation',
            status: 'True',
            reason: 'K8s does not have a `must have` object',
            message: 'configmaps [cfg] not found in namespace b',
            lastTransitionTime: '2026-03-04T05:06:07Z',
          },
        ],
      },
    ]);
    expect(result.status.relatedObjects).toEqual([
      {
        object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'a' } },
        compliant: 'Compliant',
        reason: 'Resource found as expected',
      },
      {
        object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'b' } },
        compliant: 'NonCompliant',
        reason: 'Resource not found but should exist',
      },
    ]);
    expect(result.interests).toEqual([
      { group: '', version: 'v1', resource: 'configmaps', namespaces: ['a', 'b'], name: 'cfg' },
      { group: '', version: 'v1', resource: 'namespaces' },
    ]);
  });

  it('marks objects it created with createdByPolicy and their uid', async () => {
    const { spoke, verbs } = fakeSpoke({});
    const result = await evaluateConfigurationPolicy(
      spoke,
      {
        name: 'cp',
        isEnforce: true,
        objectTemplates: [
          {
            complianceType: 'musthave',
            objectDefinition: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } },
          },
        ],
      },
      NOW,
    );
    expect(verbs).toEqual(['create namespaces||prod']);
    expect(result.templates[0]?.message).toBe('namespaces [prod] was created successfully');
    expect(result.status.relatedObjects?.[0]?.properties).toEqual({
      createdByPolicy: true,
      uid: 'new-uid',
    });
  });

  it('turns a refused write into a NonCompliant template with the API server message', async () => {
    const { spoke } = fakeSpoke({}, 'namespaces is forbidden: no');
    const result = await evaluateConfigurationPolicy(
      spoke,
      {
        name: 'cp',
        isEnforce: true,
        objectTemplates: [
          {
            complianceType: 'musthave',
            objectDefinition: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } },
          },
        ],
      },
      NOW,
    );
    expect(result.templates).toEqual([
      {
        isCompliant: false,
        reason: 'K8s creation error',
        message: 'namespaces [prod] could not be created: namespaces is forbidden: no',
      },
    ]);
  });

  it('reports an unknown kind and a malformed template, and still evaluates the others', async () => {
    const { spoke } = fakeSpoke({ 'namespaces||prod': { metadata: { name: 'prod' } } });
    const result = await evaluateConfigurationPolicy(
      spoke,
      {
        name: 'cp',
        isEnforce: false,
        objectTemplates: [
          {
            complianceType: 'musthave',
            objectDefinition: {
              apiVersion: 'example.com/v1',
              kind: 'Widget',
              metadata: { name: 'w' },
            },
          },
          { complianceType: 'musthave', objectDefinition: { kind: 'Namespace' } },
          {
            complianceType: 'musthave',
            objectDefinition: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } },
          },
        ],
      },
      NOW,
    );
    expect(result.templates.map((t) => [t.isCompliant, t.reason, t.message])).toEqual([
      [
        false,
        'K8s error',
        "couldn't find mapping resource with kind Widget in API version example.com/v1, please check if you have CRD deployed",
      ],
      [
        false,
        'K8s decode object definition error',
        'Decoding error, please check your policy file! Aborting handling the object template at index [1] in policy `cp` with error = `objectDefinition has no apiVersion`',
      ],
      [true, 'K8s `must have` object already exists', 'namespaces [prod] found as specified'],
    ]);
  });

  it('rejects when the cluster cannot be reached (the caller retries)', async () => {
    const { spoke } = fakeSpoke({});
    const down: PolicySpoke = {
      ...spoke,
      get: () =>
        Promise.reject(
          new WorkError('HUB_ERR_WORK_SPOKE_UNREACHABLE', 'GET: the cluster could not be reached'),
        ),
    };
    await expect(
      evaluateConfigurationPolicy(
        down,
        {
          name: 'cp',
          isEnforce: false,
          objectTemplates: [
            {
              complianceType: 'musthave',
              objectDefinition: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } },
            },
          ],
        },
        NOW,
      ),
    ).rejects.toMatchObject({ code: 'HUB_ERR_WORK_SPOKE_UNREACHABLE' });
  });
});
