import { describe, expect, it } from 'vitest';

import {
  checkCaller,
  checkImpersonation,
  checkPassThrough,
  DEFAULT_IDENTITY_PREFIX,
  isPassThrough,
} from './request-policy.ts';
import type { AgentApiRefusal, CallerCertificate } from './request-policy.ts';

const P = DEFAULT_IDENTITY_PREFIX;
const RULE = ': impersonated identities must start with "spokelink:hub:"';

describe('checkImpersonation', () => {
  it.each<{
    name: string;
    headers: Record<string, string[]>;
    expected: AgentApiRefusal | undefined;
  }>([
    {
      name: 'a prefixed user',
      headers: { 'impersonate-user': [`${P}alice`] },
      expected: undefined,
    },
    {
      name: 'a prefixed user with prefixed groups',
      headers: {
        'impersonate-user': [`${P}alice`],
        'impersonate-group': [`${P}team-a`, `${P}team-b`],
      },
      expected: undefined,
    },
    {
      name: 'no Impersonate-User',
      headers: { accept: ['application/json'] },
      expected: {
        reason: 'missing-user',
        message: 'the agent API requires an Impersonate-User header starting with "spokelink:hub:"',
      },
    },
    {
      name: 'groups without a user',
      headers: { 'impersonate-group': [`${P}team-a`] },
      expected: {
        reason: 'missing-user',
        message: 'the agent API requires an Impersonate-User header starting with "spokelink:hub:"',
      },
    },
    {
      name: 'two users',
      headers: { 'impersonate-user': [`${P}alice`, `${P}bob`] },
      expected: {
        reason: 'repeated-user',
        message: 'exactly one Impersonate-User header is allowed',
      },
    },
    {
      name: 'an unprefixed user',
      headers: { 'impersonate-user': ['alice'] },
      expected: {
        reason: 'unprefixed-user',
        message: `impersonated user "alice" is refused${RULE}`,
      },
    },
    {
      name: 'the prefix alone',
      headers: { 'impersonate-user': [P] },
      expected: {
        reason: 'unprefixed-user',
        message: `impersonated user "spokelink:hub:" is refused${RULE}`,
      },
    },
    {
      name: 'a service account',
      headers: { 'impersonate-user': ['system:serviceaccount:kube-system:default'] },
      expected: {
        reason: 'unprefixed-user',
        message: `impersonated user "system:serviceaccount:kube-system:default" is refused${RULE}`,
      },
    },
    {
      name: 'the prefix in another case',
      headers: { 'impersonate-user': ['Spokelink:Hub:alice'] },
      expected: {
        reason: 'unprefixed-user',
        message: `impersonated user "Spokelink:Hub:alice" is refused${RULE}`,
      },
    },
    {
      name: 'system:masters as user',
      headers: { 'impersonate-user': ['system:masters'] },
      expected: {
        reason: 'system-masters',
        message: 'impersonated user "system:masters" is refused',
      },
    },
    {
      name: 'system:masters among groups',
      headers: {
        'impersonate-user': [`${P}alice`],
        'impersonate-group': [`${P}team-a`, 'system:masters'],
      },
      expected: {
        reason: 'system-masters',
        message: 'impersonated group "system:masters" is refused',
      },
    },
    {
      name: 'an unprefixed group',
      headers: { 'impersonate-user': [`${P}alice`], 'impersonate-group': ['system:authenticated'] },
      expected: {
        reason: 'unprefixed-group',
        message: `impersonated group "system:authenticated" is refused${RULE}`,
      },
    },
    {
      name: 'an empty group',
      headers: { 'impersonate-user': [`${P}alice`], 'impersonate-group': [''] },
      expected: { reason: 'unprefixed-group', message: `impersonated group "" is refused${RULE}` },
    },
    {
      name: 'Impersonate-Uid',
      headers: { 'impersonate-user': [`${P}alice`], 'impersonate-uid': ['1234'] },
      expected: {
        reason: 'forbidden-header',
        message: 'header Impersonate-Uid is refused by the agent API',
      },
    },
    {
      name: 'Impersonate-Extra-*',
      headers: { 'impersonate-user': [`${P}alice`], 'impersonate-extra-scopes': ['view'] },
      expected: {
        reason: 'forbidden-header',
        message: 'header Impersonate-Extra-Scopes is refused by the agent API',
      },
    },
    {
      name: 'an unknown Impersonate-* header',
      headers: { 'impersonate-user': [`${P}alice`], 'impersonate-something': ['x'] },
      expected: {
        reason: 'forbidden-header',
        message: 'header Impersonate-Something is refused by the agent API',
      },
    },
  ])('$name', ({ headers, expected }) => {
    expect(checkImpersonation(headers, P)).toEqual(expected);
  });

  it('honours a custom prefix', () => {
    expect(checkImpersonation({ 'impersonate-user': ['acme:bob'] }, 'acme:')).toBeUndefined();
    expect(checkImpersonation({ 'impersonate-user': [`${P}bob`] }, 'acme:')).toMatchObject({
      reason: 'unprefixed-user',
    });
  });
});

describe('checkCaller', () => {
  const gateway: CallerCertificate = {
    hasCertificate: true,
    isAuthorized: true,
    commonName: 'spokelink:gateway:s1',
    organizations: ['spokelink:gateways'],
  };
  it.each<{ name: string; caller: CallerCertificate; expected: AgentApiRefusal | undefined }>([
    { name: 'the gateway', caller: gateway, expected: undefined },
    {
      name: 'the gateway among other organizations',
      caller: { ...gateway, organizations: ['other', 'spokelink:gateways'] },
      expected: undefined,
    },
    {
      name: 'no certificate',
      caller: { hasCertificate: false, isAuthorized: false, organizations: [] },
      expected: {
        reason: 'no-client-certificate',
        message: 'the agent API requires a client certificate issued by the hub CA',
      },
    },
    {
      name: 'a certificate from another CA',
      caller: {
        ...gateway,
        isAuthorized: false,
        authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      },
      expected: {
        reason: 'untrusted-certificate',
        message: 'client certificate is not trusted: UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      },
    },
    {
      name: 'an agent certificate',
      caller: {
        ...gateway,
        commonName: 'spokelink:agent:c1:a0',
        organizations: ['spokelink:agents'],
      },
      expected: {
        reason: 'not-a-gateway',
        message:
          'client certificate "spokelink:agent:c1:a0" is not in organization "spokelink:gateways"',
      },
    },
  ])('$name', ({ caller, expected }) => {
    expect(checkCaller(caller)).toEqual(expected);
  });
});

describe('checkPassThrough', () => {
  const MARKER = { 'spokelink-pass-through': ['spoke-token'] };
  const BAD_MARKER: AgentApiRefusal = {
    reason: 'invalid-pass-through',
    message: 'header Spokelink-Pass-Through must be sent once, as "spoke-token"',
  };
  const NO_TOKEN: AgentApiRefusal = {
    reason: 'invalid-pass-through',
    message:
      "a pass-through request must carry exactly one Authorization header: the caller's own credential",
  };
  it.each<{
    name: string;
    headers: Record<string, string[]>;
    expected: AgentApiRefusal | undefined;
  }>([
    {
      name: 'a spoke token',
      headers: { ...MARKER, authorization: ['Bearer spoke'] },
      expected: undefined,
    },
    {
      name: 'a spoke token with any impersonation (the spoke decides it)',
      headers: {
        ...MARKER,
        authorization: ['Bearer spoke'],
        'impersonate-user': ['system:masters'],
        'impersonate-group': ['system:masters'],
        'impersonate-uid': ['1'],
      },
      expected: undefined,
    },
    { name: 'no Authorization', headers: MARKER, expected: NO_TOKEN },
    {
      name: 'an empty Authorization',
      headers: { ...MARKER, authorization: [' '] },
      expected: NO_TOKEN,
    },
    {
      name: 'two Authorization headers',
      headers: { ...MARKER, authorization: ['Bearer a', 'Bearer b'] },
      expected: NO_TOKEN,
    },
    {
      name: 'another marker value',
      headers: { 'spokelink-pass-through': ['true'], authorization: ['Bearer a'] },
      expected: BAD_MARKER,
    },
    {
      name: 'a repeated marker',
      headers: {
        'spokelink-pass-through': ['spoke-token', 'spoke-token'],
        authorization: ['Bearer a'],
      },
      expected: BAD_MARKER,
    },
  ])('$name', ({ headers, expected }) => {
    expect(isPassThrough(headers)).toBe(true);
    expect(checkPassThrough(headers)).toEqual(expected);
  });

  it('tells a pass-through from an impersonated request by the marker alone', () => {
    expect(isPassThrough({ authorization: ['Bearer a'] })).toBe(false);
    expect(isPassThrough({ 'spokelink-pass-through': [''] })).toBe(true);
  });
});
