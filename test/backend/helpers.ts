/** A raw TCP WebSocket client for backend tests: exact bytes out, exact bytes in. */
import { connect, Socket } from 'net';
import { buildFrame } from '../../src/decoder/build';

export const MASK = Buffer.from([0x12, 0x34, 0x56, 0x78]);
export const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='; // RFC 6455 §1.3's example key
export const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='; // and its accept value

export function handshakeRequest(port: number, extraHeaders = ''): string {
  return (
    `GET /json HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://elsewhere.example\r\n${extraHeaders}\r\n`
  );
}

export const clientFrame = (opcode: number, payload: Buffer | string = '', extra: Record<string, unknown> = {}): Buffer =>
  buildFrame({ opcode, payload, mask: MASK, ...extra });

/** Collects everything the server sends; waits for byte counts or for the server's FIN. */
export class RawClient {
  received = Buffer.alloc(0);
  ended = false;
  closed = false;
  private waiters: (() => void)[] = [];
  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }
  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  /** Waits until `predicate` holds, re-checked on every event; fails after `ms`. */
  until(predicate: () => boolean, what: string, ms = 20000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${this.received.length} bytes`)), ms);
      const check = (): void => {
        if (predicate()) {
          clearTimeout(timer);
          resolve();
        } else if (this.closed) {
          clearTimeout(timer);
          reject(new Error(`connection closed while waiting for ${what}; got ${this.received.length} bytes`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }
  /** Waits for n bytes in total and returns them (consumed). */
  async read(n: number): Promise<Buffer> {
    await this.until(() => this.received.length >= n, `${n} bytes`);
    const out = this.received.subarray(0, n);
    this.received = this.received.subarray(n);
    return out;
  }
  /** Reads an HTTP response head (up to and including the blank line). */
  async readHead(): Promise<string> {
    await this.until(() => this.received.includes('\r\n\r\n'), 'an HTTP response head');
    const end = this.received.indexOf('\r\n\r\n') + 4;
    const head = this.received.subarray(0, end).toString('latin1');
    this.received = this.received.subarray(end);
    return head;
  }
  /** Reads one server frame (unmasked) and returns header and payload. */
  async readFrame(): Promise<{ header: Buffer; payload: Buffer }> {
    const first = await this.read(2);
    const len7 = first[1] & 0x7f;
    const ext = len7 === 126 ? await this.read(2) : len7 === 127 ? await this.read(8) : Buffer.alloc(0);
    const length = len7 === 126 ? ext.readUInt16BE(0) : len7 === 127 ? Number(ext.readBigUInt64BE(0)) : len7;
    return { header: Buffer.concat([first, ext]), payload: await this.read(length) };
  }
  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }
  waitEnd(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for the server to close')), 20000);
      const check = (): void => {
        if (this.ended || this.closed) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }
  destroy(): void {
    this.socket.destroy();
  }
}

/** A WebSocket client after a successful handshake (101 checked by the caller). */
export async function openWebSocket(port: number): Promise<{ client: RawClient; head: string }> {
  const client = await RawClient.open(port);
  client.write(handshakeRequest(port));
  const head = await client.readHead();
  return { client, head };
}
