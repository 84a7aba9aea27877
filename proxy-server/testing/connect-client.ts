/**
 * A raw HTTP CONNECT client for tests: sends the request line and headers on a plain socket,
 * parses the response head, and hands back the socket for the tunnelled bytes.
 */
import { Buffer } from 'node:buffer';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

/** A parsed CONNECT response; `socket` carries the tunnel after a 200. */
export interface ConnectResponse {
  readonly status: number;
  /** Header names lowercased. */
  readonly headers: Readonly<Record<string, string>>;
  /** Bytes after the head that arrived with it. */
  readonly rest: Buffer;
  readonly socket: Socket;
}

/**
 * Sends `<method> <target> HTTP/1.1` to `http://host:port` (or `https://`, trusting `caPem`)
 * and reads the response head.
 */
export function sendConnect(
  proxyUrl: string,
  target: string,
  headers: Record<string, string> = {},
  method = 'CONNECT',
  caPem?: string,
): Promise<ConnectResponse> {
  const { protocol, hostname, port } = new URL(proxyUrl);
  const socket: Socket =
    protocol === 'https:'
      ? connectTls({ host: hostname, port: Number(port), ca: caPem, servername: 'localhost' })
      : connect({ host: hostname, port: Number(port) });
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    socket.once('error', reject);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      socket.off('error', reject);
      const [statusLine = '', ...lines] = head.subarray(0, end).toString('latin1').split('\r\n');
      const fields: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        fields[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({
        status: Number(statusLine.split(' ')[1]),
        headers: fields,
        rest: head.subarray(end + 4),
        socket,
      });
    };
    socket.on('data', onData);
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`${method} ${target} HTTP/1.1\r\nHost: ${target}\r\n${extra}\r\n`);
  });
}

/** Reads everything until the peer ends, as text. */
export async function readAll(socket: Socket, first: Buffer = Buffer.alloc(0)): Promise<string> {
  const chunks = [first];
  socket.resume();
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
