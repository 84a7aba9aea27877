// The .proto files are the source of truth. These tests load them with @grpc/proto-loader
// (protobufjs underneath) and check (1) that they reproduce ANP's contract, (2) that the codec's
// table (schema.ts) matches them, and (3) that the codec and protobufjs agree byte for byte.
import { Buffer } from 'node:buffer';

import { loadSync } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';

import { decodePacket, encodePacket } from './codec.ts';
import { DIAL_FAILURE_WIRE, STREAM_RESET_WIRE } from './error-codes.ts';
import {
  CONNECT_METHOD_PATH,
  PROTO_DIR,
  PROXY_METHOD_PATH,
  loadTunnelServices,
} from './grpc-services.ts';
import { PacketType, type Packet } from './packet.ts';
import { PAYLOADS, PAYLOAD_BY_TYPE } from './schema.ts';

interface FieldDescriptor {
  name: string;
  number: number;
  type: string;
  typeName: string;
}
interface Loaded {
  type: { field?: FieldDescriptor[]; value?: { name: string; number: number }[] };
  serialize?: (value: object) => Buffer;
  deserialize?: (bytes: Buffer) => Record<string, unknown>;
}

const pkg = loadSync(['client.proto', 'agent.proto'], {
  includeDirs: [PROTO_DIR],
  keepCase: true,
  longs: String,
  enums: String,
  oneofs: true,
});
const loaded = (name: string): Loaded => {
  const def = pkg[name] as unknown as Loaded | undefined;
  if (def === undefined) throw new Error(`${name} missing from the .proto files`);
  return def;
};
const fieldsOf = (message: string): FieldDescriptor[] => loaded(message).type.field ?? [];
const scalar = (f: FieldDescriptor): string =>
  f.type === 'TYPE_ENUM' || f.type === 'TYPE_MESSAGE' ? f.typeName : f.type.slice(5).toLowerCase();

// ANP v0.36 (konnectivity-client/proto/client/client.proto): name → [number, type].
const ANP: Record<string, Record<string, [number, string]>> = {
  Packet: {
    type: [1, 'PacketType'],
    dialRequest: [2, 'DialRequest'],
    dialResponse: [3, 'DialResponse'],
    data: [4, 'Data'],
    closeRequest: [5, 'CloseRequest'],
    closeResponse: [6, 'CloseResponse'],
    closeDial: [7, 'CloseDial'],
    drain: [8, 'Drain'],
  },
  DialRequest: { protocol: [1, 'string'], address: [2, 'string'], random: [3, 'int64'] },
  DialResponse: { error: [1, 'string'], connectID: [2, 'int64'], random: [3, 'int64'] },
  CloseRequest: { connectID: [1, 'int64'] },
  CloseResponse: { error: [1, 'string'], connectID: [2, 'int64'] },
  CloseDial: { random: [1, 'int64'] },
  Drain: {},
  Data: { connectID: [1, 'int64'], error: [2, 'string'], data: [3, 'bytes'] },
};
const ANP_PACKET_TYPES = {
  DIAL_REQ: 0,
  DIAL_RSP: 1,
  CLOSE_REQ: 2,
  CLOSE_RSP: 3,
  DATA: 4,
  DIAL_CLS: 5,
  DRAIN: 6,
};

describe('the .proto files reproduce ANP', () => {
  it('has ANP gRPC method paths (no proto package)', () => {
    const services = loadTunnelServices();
    expect(services.proxyServiceServer.Proxy.path).toBe('/ProxyService/Proxy');
    expect(services.agentServiceServer.Connect.path).toBe('/AgentService/Connect');
    expect([PROXY_METHOD_PATH, CONNECT_METHOD_PATH]).toEqual([
      '/ProxyService/Proxy',
      '/AgentService/Connect',
    ]);
  });

  it.each(Object.entries(ANP))(
    'message %s has ANP fields; any others are numbered >= 100',
    (name, anp) => {
      const fields = fieldsOf(name);
      for (const [field, [number, type]] of Object.entries(anp)) {
        const f = fields.find((x) => x.name === field);
        expect(f, `${name}.${field}`).toBeDefined();
        expect([f?.number, f && scalar(f)]).toEqual([number, type]);
      }
      for (const f of fields.filter((x) => !(x.name in anp)))
        expect(f.number).toBeGreaterThanOrEqual(100);
    },
  );

  it('PacketType has ANP values; extensions are >= 100', () => {
    const values = loaded('PacketType').type.value ?? [];
    for (const [name, number] of Object.entries(ANP_PACKET_TYPES)) {
      expect(values.find((v) => v.name === name)?.number).toBe(number);
    }
    for (const v of values.filter((x) => !(x.name in ANP_PACKET_TYPES))) {
      expect(v.number).toBeGreaterThanOrEqual(100);
    }
  });
});

describe('schema.ts matches client.proto', () => {
  it('PacketType constants equal the proto enum', () => {
    const values = loaded('PacketType').type.value ?? [];
    expect(Object.fromEntries(values.map((v) => [v.name, v.number]))).toEqual(PacketType);
  });

  it('every Packet payload member is in the table, and nothing else', () => {
    const members = fieldsOf('Packet').filter((f) => f.name !== 'type');
    expect(members.map((f) => [f.name, f.number, f.typeName])).toEqual(
      PAYLOADS.map((p) => [p.protoField, p.field, p.message]),
    );
  });

  it.each(PAYLOADS.map((p) => [p.message, p] as const))('%s fields', (message, spec) => {
    expect(fieldsOf(message).map((f) => [f.number, f.name, scalar(f)])).toEqual(
      spec.fields.map((f) => [f.number, f.protoName, f.protoType]),
    );
  });

  it.each([
    ['ExtDialError', 'EXT_DIAL_ERROR_', DIAL_FAILURE_WIRE],
    ['ExtStreamError', 'EXT_STREAM_ERROR_', STREAM_RESET_WIRE],
  ] as const)('%s values equal the TypeScript code table', (name, prefix, table) => {
    const values = loaded(name).type.value ?? [];
    const expected = Object.entries(table).map(([code, n]) => [
      prefix + code.toUpperCase().replaceAll('-', '_'),
      n,
    ]);
    expect(values.map((v) => [v.name, v.number])).toEqual([
      [`${prefix}UNSPECIFIED`, 0],
      ...expected,
    ]);
  });
});

/** The protobufjs object for a packet, with only non-default fields (as proto3 encodes). */
function toProtoObject(p: Packet): Record<string, unknown> {
  const spec = PAYLOAD_BY_TYPE.get(p.type)!;
  const body: Record<string, unknown> = {};
  for (const field of spec.fields) {
    const value = (p as unknown as Record<string, unknown>)[field.slot];
    if (value === undefined || value === '' || value === 0 || value === 0n) continue;
    if (value instanceof Uint8Array && value.length === 0) continue;
    if (field.kind === 'enum') {
      const prefix = field.protoType === 'ExtDialError' ? 'EXT_DIAL_ERROR_' : 'EXT_STREAM_ERROR_';
      body[field.protoName] = prefix + String(value).toUpperCase().replaceAll('-', '_');
    } else {
      // protobufjs with `longs: String` gives 64-bit integers as decimal strings.
      const isLong = field.kind === 'int64' || field.kind === 'uint64';
      body[field.protoName] = isLong ? String(value) : value;
    }
  }
  return p.type === 'DIAL_REQ'
    ? { [spec.protoField]: body }
    : { type: p.type, [spec.protoField]: body };
}

describe('codec and protobufjs agree', () => {
  const samples: Packet[] = [
    { type: 'DIAL_REQ', protocol: 'tcp', address: 'c1:443', random: 0x7fff_ffff_ffff_fff0n },
    {
      type: 'DIAL_RSP',
      random: 3n,
      connectId: 0n,
      error: 'lookup x: no such host',
      errorCode: 'dns',
    },
    { type: 'DIAL_RSP', random: 3n, connectId: 3n, error: '' },
    { type: 'CLOSE_REQ', connectId: 12n, errorCode: 'overloaded' },
    { type: 'CLOSE_RSP', connectId: 12n, error: 'EOF' },
    { type: 'DATA', connectId: 1n << 40n, data: Buffer.from('ünïcode and binary \u0000\u00ff') },
    { type: 'DIAL_CLS', random: 99n, errorCode: 'timeout' },
    { type: 'DRAIN' },
    { type: 'EXT_WINDOW_UPDATE', connectId: 2n, increment: 16 * 1024 * 1024 },
    { type: 'EXT_HALF_CLOSE', connectId: 2n },
    { type: 'EXT_PING', nonce: 123, timestampUs: 2 ** 40 },
    { type: 'EXT_PONG', nonce: 123, timestampUs: 2 ** 40 },
  ];
  const Packet = loaded('Packet');

  it.each(samples.map((p) => [p.type, p] as const))('%s: same bytes both ways', (_type, packet) => {
    const ours = encodePacket(packet);
    const theirs = Packet.serialize!(toProtoObject(packet));
    expect(ours.toString('hex')).toBe(theirs.toString('hex'));
    const decoded = { ...Packet.deserialize!(ours) };
    delete decoded.payload; // protobufjs's virtual oneof name
    expect(decoded).toEqual(toProtoObject(packet));
    expect(encodePacket(decodePacket(theirs) as Packet).equals(ours)).toBe(true);
  });
});
