import { describe, expect, it } from 'vitest';

import {
  downstreamResponseHeaders,
  kubeStatus,
  rawResponseHead,
  upstreamRequestHeaders,
} from './http-headers.ts';

const AGENT = { kind: 'agent-token', token: 'agent-token' } as const;
const T = { kind: 'agent-token', token: 't' } as const;
const PASS_THROUGH = { kind: 'pass-through' } as const;

describe('upstreamRequestHeaders', () => {
  it('replaces the credentials, keeps end-to-end headers and repeated groups', () => {
    expect(
      upstreamRequestHeaders(
        {
          host: ['agent-api'],
          authorization: ['Bearer hub-user-token'],
          'proxy-authorization': ['Basic eA=='],
          'impersonate-user': ['spokelink:hub:alice'],
          'impersonate-group': ['spokelink:hub:a', 'spokelink:hub:b'],
          accept: ['application/json'],
          'content-length': ['12'],
          connection: ['keep-alive, X-Drop-Me'],
          'keep-alive': ['timeout=5'],
          'x-drop-me': ['1'],
          expect: ['100-continue'],
          te: ['trailers'],
        },
        AGENT,
      ),
    ).toEqual({
      'impersonate-user': 'spokelink:hub:alice',
      'impersonate-group': ['spokelink:hub:a', 'spokelink:hub:b'],
      accept: 'application/json',
      'content-length': '12',
      authorization: 'Bearer agent-token',
    });
  });

  it("drops a pass-through marker sent with an impersonated request and still uses the agent's token", () => {
    expect(
      upstreamRequestHeaders(
        {
          authorization: ['Bearer x'],
          'spokelink-pass-through': ['spoke-token'],
          'impersonate-user': ['spokelink:hub:alice'],
        },
        T,
      ),
    ).toEqual({ 'impersonate-user': 'spokelink:hub:alice', authorization: 'Bearer t' });
  });

  it("passes the caller's Authorization and Impersonate-* through unchanged, without the marker", () => {
    expect(
      upstreamRequestHeaders(
        {
          host: ['agent-api'],
          authorization: ['Bearer spoke-sa-token'],
          'spokelink-pass-through': ['spoke-token'],
          'impersonate-user': ['system:serviceaccount:ns:other'],
          'impersonate-group': ['a', 'b'],
          accept: ['application/json'],
          connection: ['keep-alive'],
        },
        PASS_THROUGH,
      ),
    ).toEqual({
      authorization: 'Bearer spoke-sa-token',
      'impersonate-user': 'system:serviceaccount:ns:other',
      'impersonate-group': ['a', 'b'],
      accept: 'application/json',
    });
  });

  it('never sends a credential of its own on a pass-through without Authorization', () => {
    expect(
      upstreamRequestHeaders(
        { 'spokelink-pass-through': ['spoke-token'], accept: ['*/*'] },
        PASS_THROUGH,
      ),
    ).toEqual({ accept: '*/*' });
  });

  it('keeps a pass-through upgrade with the caller credential', () => {
    expect(
      upstreamRequestHeaders(
        {
          connection: ['Upgrade'],
          upgrade: ['websocket'],
          authorization: ['Bearer s'],
          'spokelink-pass-through': ['spoke-token'],
        },
        PASS_THROUGH,
        { isUpgrade: true },
      ),
    ).toEqual({ connection: 'Upgrade', upgrade: 'websocket', authorization: 'Bearer s' });
  });

  it('keeps a chunked body chunked', () => {
    expect(
      upstreamRequestHeaders({ 'transfer-encoding': ['chunked'], upgrade: ['h2c'] }, T),
    ).toEqual({ 'transfer-encoding': 'chunked', authorization: 'Bearer t' });
  });

  it('keeps Connection: Upgrade and Upgrade for upgrades', () => {
    expect(
      upstreamRequestHeaders(
        {
          connection: ['Upgrade'],
          upgrade: ['SPDY/3.1'],
          'x-stream-protocol-version': ['v4.channel.k8s.io', 'v5.channel.k8s.io'],
          'impersonate-user': ['spokelink:hub:alice'],
        },
        T,
        { isUpgrade: true },
      ),
    ).toEqual({
      'x-stream-protocol-version': ['v4.channel.k8s.io', 'v5.channel.k8s.io'],
      'impersonate-user': 'spokelink:hub:alice',
      connection: 'Upgrade',
      upgrade: 'SPDY/3.1',
      authorization: 'Bearer t',
    });
  });
});

describe('downstreamResponseHeaders', () => {
  it('drops hop-by-hop headers only', () => {
    expect(
      downstreamResponseHeaders({
        'content-type': ['application/json'],
        'audit-id': ['abc'],
        'transfer-encoding': ['chunked'],
        connection: ['keep-alive'],
        'keep-alive': ['timeout=5'],
        warning: ['299 - "a"', '299 - "b"'],
      }),
    ).toEqual({
      'content-type': 'application/json',
      'audit-id': 'abc',
      warning: ['299 - "a"', '299 - "b"'],
    });
  });
});

describe('rawResponseHead and kubeStatus', () => {
  it('writes an HTTP/1.1 head', () => {
    expect(rawResponseHead(101, 'Switching Protocols', ['Upgrade', 'SPDY/3.1'])).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\n\r\n',
    );
  });

  it('builds a Kubernetes Status', () => {
    expect(kubeStatus(403, 'Forbidden', 'no')).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'no',
      reason: 'Forbidden',
      code: 403,
    });
  });
});
