import { describe, expect, it } from 'vitest';

import { formatIp, ipToBytes } from './ip.ts';

describe('ipToBytes / formatIp', () => {
  it.each([
    { input: '127.0.0.1', hex: '7f000001', text: '127.0.0.1' },
    { input: '::1', hex: '00000000000000000000000000000001', text: '::1' },
    { input: '::', hex: '00000000000000000000000000000000', text: '::' },
    {
      input: '2001:DB8:0:0:1:0:0:1',
      hex: '20010db8000000000001000000000001',
      text: '2001:db8::1:0:0:1',
    },
    {
      input: '2001:db8:0:1:1:1:1:1',
      hex: '20010db8000000010001000100010001',
      text: '2001:db8:0:1:1:1:1:1',
    },
    { input: 'fe80::', hex: 'fe800000000000000000000000000000', text: 'fe80::' },
    { input: '::ffff:192.0.2.1', hex: '00000000000000000000ffffc0000201', text: '::ffff:c000:201' },
    { input: '1:2:3:4:5:6:7:8', hex: '00010002000300040005000600070008', text: '1:2:3:4:5:6:7:8' },
  ])('$input → $text', ({ input, hex, text }) => {
    const bytes = ipToBytes(input);
    expect(bytes?.toString('hex')).toBe(hex);
    expect(formatIp(bytes as Buffer)).toBe(text);
  });

  it.each(['localhost', '1.2.3', '256.1.1.1', 'fe80::1%eth0', '', '1:2:3:4:5:6:7:8:9'])(
    'refuses %j',
    (input) => {
      expect(ipToBytes(input)).toBeUndefined();
    },
  );

  it('refuses octet strings that are not 4 or 16 long', () => {
    expect(formatIp(Buffer.alloc(8))).toBeUndefined();
  });
});
