import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { CERT_ERROR_CODES, CertError } from './index.ts';

// Keeps the catalog and the docs in sync, as fastify's test/internals/errors.test.js does.
describe('error catalog', () => {
  const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
  const documented = [...readme.matchAll(/^\| `(CERT_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]);

  it('documents every code in the README error table', () => {
    expect(documented.toSorted()).toEqual([...CERT_ERROR_CODES].toSorted());
  });

  it('lists each code once', () => {
    expect(new Set(CERT_ERROR_CODES).size).toBe(CERT_ERROR_CODES.length);
  });
});

describe('CertError', () => {
  it('carries code, message, name and cause', () => {
    const cause = new Error('underlying');
    const err = new CertError(
      'CERT_ERR_EXPIRED',
      'certificate expired at 2026-01-01T00:00:00.000Z',
      { cause },
    );
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('CertError');
    expect(err.code).toBe('CERT_ERR_EXPIRED');
    expect(err.message).toBe('certificate expired at 2026-01-01T00:00:00.000Z');
    expect(err.cause).toBe(cause);
    expect(String(err)).toBe('CertError: certificate expired at 2026-01-01T00:00:00.000Z');
  });
});
