/**
 * `wsscope send` against the built-in backend (a port of the gorilla/websocket server of
 * the seed): a masked text gets the User JSON; an unmasked client frame and a bad close
 * code get what gorilla answers, a close 1002, and the connection ends.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startBackend } from '../../src/backend';
import type { FrameEvent, MessageEvent } from '../../src/decoder/events';
import { parseWsUrl } from '../../src/teach/client';
import { runSend, type SendOptions } from '../../src/teach/send';
import { killChildren, runCli } from './helpers';

let backend: { port: number; close: () => Promise<void> };

beforeAll(async () => {
  backend = await startBackend({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  killChildren();
  await backend.close();
});

async function send(hex: string, extra: Partial<SendOptions> = {}) {
  const lines: string[] = [];
  const result = await runSend(
    {
      url: parseWsUrl(`ws://127.0.0.1:${backend.port}/json`),
      chunks: [Buffer.from(hex.replace(/ /g, ''), 'hex')],
      // The backend never closes after answering a text: the run ends after this silence.
      timeoutMs: 3000,
      ui: 'text',
      key: 'dGhlIHNhbXBsZSBub25jZQ==',
      keepEvents: true,
      ...extra,
    },
    (line) => lines.push(line),
  );
  return { lines, ...result };
}

const server = <T extends FrameEvent | MessageEvent>(events: unknown[], kind: T['event']) =>
  events.filter((e): e is T => (e as T).event === kind && (e as T).dir === 'server');

describe('wsscope send against the built-in backend', () => {
  it('a masked text frame (RFC 6455 §5.7) gets the User JSON, decoded', async () => {
    const r = await send('81 85 37 fa 21 3d 7f 9f 4d 51 58');
    expect(r.ending).toBe('timeout');
    const messages = server<MessageEvent>(r.events, 'message');
    expect(messages.map((m) => m.text)).toEqual(['{"name":"Hello","age":18,"description":"Hello很厉害!!!!"}\n']);
    expect(r.lines.slice(1, 8)).toEqual([
      '→ GET /json HTTP/1.1  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      '← HTTP/1.1 101 Switching Protocols  Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      '  accept valid: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) = s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      'sending 11 bytes: 81 85 37 fa 21 3d 7f 9f 4d 51 58',
      '→ client frame #0 text FIN masked 37fa213d len=5/7-bit "Hello"',
      '← server frame #0 text FIN unmasked len=61/7-bit "{\\"name\\":\\"Hello\\",\\"age\\":18,\\"description\\":\\"..."',
      'no data for 3000 ms: closing the TCP connection',
    ]);
  });

  it('an unmasked client frame gets a close 1002 as from gorilla, and the server ends the connection', async () => {
    const r = await send('81 05 48 65 6c 6c 6f');
    expect(r.ending).toBe('closed by the server');
    const closes = server<FrameEvent>(r.events, 'frame').filter((f) => f.opcode === 8);
    expect(closes.map((f) => [f.closeCode, f.closeReason])).toEqual([[1002, 'incorrect mask flag']]);
    expect(r.lines.slice(4)).toEqual([
      'sending 7 bytes: 81 05 48 65 6c 6c 6f',
      '→ client frame #0 text FIN unmasked len=5/7-bit "Hello" ! unmasked-client-frame',
      '    ! unmasked-client-frame (RFC 6455 §5.1): frame from the client is not masked',
      '← server frame #0 close FIN unmasked len=21/7-bit 1002 Protocol Error "incorrect mask flag"',
      'the server closed the TCP connection',
      'sent 7 bytes, received 23 bytes after the handshake',
    ]);
  });

  it('a close with the invalid code 999 gets a close 1002 (RFC 6455 §7.4.2)', async () => {
    // 88 82 37fa213d: a masked close frame whose payload is 03 e7 (999), masked.
    const r = await send('88 82 37 fa 21 3d 34 1d');
    expect(r.ending).toBe('closed by the server');
    const closes = server<FrameEvent>(r.events, 'frame').filter((f) => f.opcode === 8);
    expect(closes.map((f) => [f.closeCode, f.closeReason])).toEqual([[1002, 'invalid close code']]);
  });

  it('--ui json prints the events of docs/design.md, one per line, ending with end', async () => {
    const r = await runCli([
      'send', '--url', `ws://127.0.0.1:${backend.port}/json`, '--ui', 'json', '--hex', '81 05 48 65 6c 6c 6f',
    ]);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => `${e.event}${e.dir ? ' ' + e.dir : ''}`)).toEqual([
      'open',
      'handshake',
      'frame client',
      'message client',
      'frame server',
      'end',
    ]);
    expect(events[0]).toMatchObject({ conn: 1, client: expect.stringMatching(/^127\.0\.0\.1:\d+$/), target: `ws://127.0.0.1:${backend.port}/json` });
    expect(events[1]).toMatchObject({ acceptValid: true, response: { status: 101 } });
    expect(events[4]).toMatchObject({ opcode: 8, closeCode: 1002 });
    expect(events[5]).toMatchObject({ conn: 1, reason: 'closed by the server', bytes: { client: 7, server: 23 } });
  });

  it('reads --file as hex text when it is hex, else as raw bytes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-send-'));
    try {
      const hexFile = path.join(dir, 'close.hex');
      const rawFile = path.join(dir, 'close.bin');
      // A masked close frame with no body, as hex text and as raw bytes.
      fs.writeFileSync(hexFile, '88 80 00 00 00 00\n');
      fs.writeFileSync(rawFile, Buffer.from('888000000000', 'hex'));
      for (const file of [hexFile, rawFile]) {
        const r = await runCli(['send', '--url', `ws://127.0.0.1:${backend.port}/json`, '--file', file]);
        expect({ file, code: r.code }).toEqual({ file, code: 0 });
        expect(r.stdout).toContain('sending 6 bytes: 88 80 00 00 00 00\n');
        expect(r.stdout).toContain('the server closed the TCP connection\n');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the bytes from stdin as hex, as `wsscope encode --ui hex` prints them', async () => {
    const r = await runCli(['send', '--url', `ws://127.0.0.1:${backend.port}/json`, '-'], { input: '88 80 00 00 00 00\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sending 6 bytes: 88 80 00 00 00 00\n');
    // A close with no status code (RFC 6455 §5.5.1): gorilla answers with an empty close too.
    expect(r.stdout).toContain(
      '← server frame #0 close FIN unmasked len=0/7-bit\nthe server closed the TCP connection\nsent 6 bytes, received 2 bytes after the handshake\n',
    );
  });
});
