import { describe, expect, it } from 'vitest';

import { children, DerError, readDer, readOid, readTime, TAG } from './der.ts';

const hex = (text: string): Buffer => Buffer.from(text.replace(/ /g, ''), 'hex');

describe('readDer', () => {
  it('reads a nested value with exact byte slices', () => {
    const node = readDer(hex('30 06 02 01 05 04 01 ff'));
    expect(node.tag).toBe(TAG.SEQUENCE);
    const [int, octets] = children(node);
    expect(int?.raw.toString('hex')).toBe('020105');
    expect(octets?.value.toString('hex')).toBe('ff');
  });

  it('reads a long-form length', () => {
    const body = Buffer.alloc(200, 0x41);
    const node = readDer(Buffer.concat([hex('04 81 c8'), body]));
    expect(node.value.equals(body)).toBe(true);
  });

  it.each([
    { name: 'empty input', der: '', message: 'truncated DER at byte 0' },
    { name: 'value longer than the input', der: '04 05 00', message: 'truncated DER at byte 0' },
    { name: 'indefinite length', der: '30 80 00 00', message: 'indefinite length at byte 0' },
    {
      name: 'non-minimal long form',
      der: '04 81 01 00',
      message: 'non-minimal length encoding at byte 0',
    },
    {
      name: 'leading zero length octet',
      der: '04 82 00 81' + '00'.repeat(129),
      message: 'non-minimal length encoding at byte 0',
    },
    { name: 'trailing bytes', der: '05 00 00', message: '1 trailing bytes after DER value' },
    { name: 'high tag number', der: '1f 01 00', message: 'unsupported high tag number at byte 0' },
  ])('rejects $name', ({ der, message }) => {
    expect(() => readDer(hex(der))).toThrow(new DerError(message));
  });
});

describe('readOid', () => {
  it.each([
    { der: '06 03 55 04 03', oid: '2.5.4.3' },
    { der: '06 09 2a 86 48 86 f7 0d 01 01 0b', oid: '1.2.840.113549.1.1.11' },
    { der: '06 03 2b 65 70', oid: '1.3.101.112' },
    { der: '06 03 88 37 01', oid: '2.999.1' },
  ])('decodes $oid', ({ der, oid }) => {
    expect(readOid(readDer(hex(der)), 'test')).toBe(oid);
  });

  it('rejects a truncated arc', () => {
    expect(() => readOid(readDer(hex('06 02 55 84')), 'test')).toThrow(
      new DerError('truncated OID for test'),
    );
  });
});

describe('readTime', () => {
  const time = (tag: number, text: string): Buffer =>
    Buffer.concat([Buffer.from([tag, text.length]), Buffer.from(text, 'latin1')]);

  it.each([
    { tag: TAG.UTC_TIME, text: '491231235959Z', iso: '2049-12-31T23:59:59.000Z' },
    { tag: TAG.UTC_TIME, text: '500101000000Z', iso: '1950-01-01T00:00:00.000Z' },
    { tag: TAG.GENERALIZED_TIME, text: '20500101000000Z', iso: '2050-01-01T00:00:00.000Z' },
  ])('reads $text', ({ tag, text, iso }) => {
    expect(readTime(readDer(time(tag, text)), 'notAfter').toISOString()).toBe(iso);
  });

  it.each(['4912312359Z', '491231235959+0100', '491332000000Z', '490230000000Z'])(
    'rejects UTCTime %s',
    (text) => {
      expect(() => readTime(readDer(time(TAG.UTC_TIME, text)), 'notAfter')).toThrow(
        new DerError('invalid time for notAfter'),
      );
    },
  );
});
