/**
 * `wsscope decode`: exact outputs in-process (decodeMain with a captured writer), and the
 * real CLI spawned for exit codes and error lines (needs `npm run build`, as `npm test` does).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodeMain } from '../src/cli/decode';

const BIN = path.join(__dirname, '..', 'bin', 'wsscope.js');
const SAMPLES = path.join(__dirname, '..', 'samples');

async function decode(args: string[], stdin?: Buffer): Promise<string> {
  let out = '';
  // stdin in small chunks, as a pipe delivers it.
  const chunks = async function* () {
    const bytes = stdin ?? Buffer.alloc(0);
    for (let i = 0; i < bytes.length; i += 7) yield bytes.subarray(i, i + 7);
  };
  const code = await decodeMain(args, (text) => (out += text), chunks);
  expect(code).toBe(0);
  return out;
}

function cli(args: string[], input?: string | Buffer) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-decode-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});
const file = (name: string, content: string | Buffer) => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, content);
  return p;
};

/** RFC 6455 §5.7: "A single-frame unmasked text message". */
const UNMASKED_HELLO_TEXT = `frame #0  server -> client  conn 1  offset 0  2-byte header + 5-byte payload
  header bytes   81 05
                 byte 0    byte 1
                 10000001  00000101
  FIN            1.......  ........  1    final frame of its message
  RSV1           .0......  ........  0    no extension meaning
  RSV2           ..0.....  ........  0    no extension meaning
  RSV3           ...0....  ........  0    no extension meaning
  opcode         ....0001  ........  1    text frame: the message is UTF-8 text
  MASK           ........  0.......  0    payload not masked
  Payload len    ........  .0000101  5    the payload length itself
  length         5 bytes, 7-bit form: lengths 0-125 are written in Payload len itself (RFC 6455 §5.2)
  Masking-key    none: the payload travels as is (servers never mask; clients always must, RFC 6455 §5.1)
  payload        text, 5 bytes
    "Hello"

message  server -> client  conn 1  text, 1 frame, 5 bytes
    (the payload of the frame above)
`;

describe('wsscope decode (in-process)', () => {
  it('--hex explains RFC 6455 §5.7 unmasked "Hello" exactly, guessing the server from MASK = 0', async () => {
    expect(await decode(['--hex', '81 05 48 65 6c 6c 6f'])).toBe(UNMASKED_HELLO_TEXT);
  });

  it('guesses the client from MASK = 1 (masked "Hello" is valid), --from server flags it', async () => {
    const hex = '81 85 37 fa 21 3d 7f 9f 4d 51 58';
    const asClient = await decode(['--hex', hex, '--ui', 'json']);
    expect(asClient.split('\n')[0]).toBe(
      '{"event":"frame","ts":0,"conn":1,"dir":"client","index":0,"offset":0,"header":"818537fa213d","fin":true,"rsv1":false,"rsv2":false,"rsv3":false,"opcode":1,"opcodeName":"text","masked":true,"maskKey":"37fa213d","payloadLength":5,"lengthForm":7,"payload":"48656c6c6f","payloadTruncated":false,"violations":[]}',
    );
    const asServer = await decode(['--hex', hex, '--from', 'server']);
    expect(asServer).toContain('frame #0  server -> client');
    expect(asServer).toContain('    ! masked-server-frame (RFC 6455 §5.1): ');
  });

  it('--ui json prints the NDJSON events of the §5.7 fragmented "Hel" + "lo"', async () => {
    const lines = (await decode(['--hex', '01 03 48 65 6c 80 02 6c 6f', '--ui', 'json'])).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((e) => [e.event, e.index, e.opcodeName, e.fin, e.payload])).toEqual([
      ['frame', 0, 'text', false, '48656c'],
      ['frame', 1, 'continuation', true, '6c6f'],
      ['message', undefined, 'text', undefined, undefined],
    ]);
    expect(lines[2]).toMatchObject({ frames: 2, length: 5, text: 'Hello', violations: [] });
  });

  it('reads a binary file, a hex text file with # comments, and stdin alike', async () => {
    const bin = file('hello.bin', Buffer.from('810548656c6c6f', 'hex'));
    const hex = file('hello.hex', '# RFC 6455 §5.7\n81 05   # FIN, text, 5 bytes\n48 65 6c 6c 6f\n');
    expect(await decode([bin])).toBe(UNMASKED_HELLO_TEXT);
    expect(await decode([hex])).toBe(UNMASKED_HELLO_TEXT);
    expect(await decode(['-'], Buffer.from('810548656c6c6f', 'hex'))).toBe(UNMASKED_HELLO_TEXT);
  });

  it('streams long inputs: raw frames split anywhere, hex text longer than the sniffed head', async () => {
    const frames = Buffer.concat(Array.from({ length: 100 }, () => Buffer.from('810548656c6c6f', 'hex')));
    const count = (out: string) => out.split('\n').filter((l) => l.startsWith('{"event":"frame"')).length;
    expect(count(await decode(['-', '--ui', 'json'], frames))).toBe(100);
    // 7 chars a line: the 256th byte of the text falls inside a hex pair.
    const hexText = file('many.hex', '# one hundred frames\n' + '81 05 48 65 6c 6c 6f\n'.repeat(100));
    expect(count(await decode([hexText, '--ui', 'json']))).toBe(100);
  });

  it('decodes a transcript of both handshake heads, then the frames', async () => {
    const transcript = Buffer.concat([
      Buffer.from(
        'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' +
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
      ),
      Buffer.from('818537fa213d7f9f4d5158', 'hex'),
    ]);
    const events = (await decode([file('transcript.bin', transcript), '--ui', 'json'])).trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(['handshake', 'frame', 'message']);
    expect(events[0]).toMatchObject({ acceptValid: true, expectedAccept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', violations: [] });
    expect(events[1]).toMatchObject({ dir: 'client', payload: '48656c6c6f', violations: [] });
  });

  it('decodes a request alone, then the client frames after it', async () => {
    const request = 'GET /json HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const out = await decode([file('request.bin', Buffer.concat([Buffer.from(request), Buffer.from('818537fa213d7f9f4d5158', 'hex')]))]);
    expect(out.startsWith('http  conn 1\n  request        GET /json HTTP/1.1\n')).toBe(true);
    expect(out).toContain('  response       (none)\n  violations     1\n    ! bad-key (RFC 6455 §4.1): upgrade request has no Sec-WebSocket-Key\n');
    expect(out).toContain('frame #0  client -> server  conn 1  offset 0  6-byte header + 5-byte payload\n');
  });

  it('decodes a response alone with its extensions: RSV1 frames are inflated', async () => {
    const response = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n';
    // RFC 7692 §7.2.3.1: "Hello" compressed: c1 07 f2 48 cd c9 c9 07 00.
    const out = await decode([file('response.bin', Buffer.concat([Buffer.from(response), Buffer.from('c107f248cdc9c90700', 'hex')])), '--ui', 'json']);
    const events = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ event: 'error', message: expect.stringContaining("only the server's side") });
    expect(events[2]).toMatchObject({ event: 'message', compressed: true, text: 'Hello', violations: [] });
  });

  it('--extensions permessage-deflate inflates raw frames', async () => {
    const out = await decode(['--hex', 'c1 07 f2 48 cd c9 c9 07 00', '--extensions', 'permessage-deflate']);
    expect(out).toContain('  payload        7 bytes compressed with permessage-deflate (RFC 7692); the message shows it inflated\n');
    expect(out).toContain('message  server -> client  conn 1  text, 1 frame, 5 bytes after inflating (permessage-deflate)\n    "Hello"\n');
    const without = await decode(['--hex', 'c1 07 f2 48 cd c9 c9 07 00']);
    expect(without).toContain('! rsv-without-extension');
  });

  it('--max-payload caps the payload kept', async () => {
    const [frame] = (await decode(['--hex', '81 05 48 65 6c 6c 6f', '--max-payload', '2', '--ui', 'json'])).split('\n').map((l) => l && JSON.parse(l));
    expect(frame).toMatchObject({ payload: '4865', payloadLength: 5, payloadTruncated: true });
  });

  it('--max-payload 0 keeps no payload and says so', async () => {
    const out = await decode(['--hex', '81 85 37 fa 21 3d 7f 9f 4d 51 58', '--max-payload', '0']);
    expect(out).toContain('    (no payload bytes kept to unmask)\n  payload        5 bytes, none of them kept\n');
    expect(out).toContain('message  client -> server  conn 1  text, 1 frame, 5 bytes, first 0 kept\n    (none of it kept)\n');
  });

  it('replays a capture file (a sample) and a capture on stdin alike', async () => {
    const capture = path.join(SAMPLES, 'close-client-first.capture.ndjson');
    const fromFile = await decode([capture, '--ui', 'json']);
    expect(await decode(['-', '--ui', 'json'], fs.readFileSync(capture))).toBe(fromFile);
    const events = fromFile.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(['open', 'handshake', 'frame', 'message', 'frame', 'frame', 'end']);
    expect(events[4]).toMatchObject({ dir: 'client', closeCode: 1000, closeReason: 'done' });
  });

  it('shows escape sequences in payloads visibly instead of sending them to the terminal', async () => {
    const out = await decode(['--hex', '81 09 1b 5b 32 4a 1b 5d 30 3b 07']);
    expect(out).toContain('    "\\x1b[2J\\x1b]0;\\x07"\n');
    expect(out).not.toContain('\x1b');
  });
});

describe('wsscope decode (the CLI)', () => {
  it('prints the explanation and exits 0', () => {
    const r = cli(['decode', '--hex', '81 05 48 65 6c 6c 6f']);
    expect(r).toEqual({ status: 0, stdout: UNMASKED_HELLO_TEXT, stderr: '' });
  });

  it.each([
    [['decode', '--hex', '81 0'], 'wsscope: bad --hex: expected pairs of hex digits like "81 05 48 65", got "81 0"'],
    [['decode', '--hex', 'zz'], 'wsscope: bad --hex: expected pairs of hex digits like "81 05 48 65", got "zz"'],
    [['decode', '/nonexistent/capture.ndjson'], 'wsscope: cannot read /nonexistent/capture.ndjson: no such file'],
    [['decode', '--frobnicate', 'x'], null],
    [['decode'], 'wsscope: decode needs a FILE, - (stdin) or --hex "81 05 48 65 6c 6c 6f" (see wsscope decode --help)'],
    [['decode', '--ui', 'tui', '--hex', '8100'], 'wsscope: bad --ui "tui": expected text or json'],
    [['decode', '--from', 'both', '--hex', '8100'], 'wsscope: bad --from "both": expected client or server'],
    [['decode', '--max-payload=-1', '--hex', '8100'], 'wsscope: bad --max-payload "-1": expected a number of bytes (0 or more)'],
    [['decode', 'a', 'b'], 'wsscope: decode takes one FILE, got 2 (a b)'],
  ])('%j: one line on stderr, exit code 2, nothing on stdout', (args, message) => {
    const r = cli(args as string[]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    if (message) expect(r.stderr).toBe(message + '\n');
    else expect(r.stderr).toMatch(/^wsscope: .*--frobnicate/);
    expect(r.stderr).not.toMatch(/\bat .*:\d+:\d+/);
  });

  it('rejects an empty file, a directory and a broken capture with one line', () => {
    const empty = file('empty.bin', '');
    const broken = file('broken.ndjson', '{"format":"wsscope-capture","version":1}\n{"event":"data","conn":1,"dir":"client","ts":0,"bytes":"zz"}\n');
    for (const [args, message] of [
      [[empty], `wsscope: nothing to decode: ${empty} is empty`],
      [[tmp], `wsscope: cannot read ${tmp}: it is a directory`],
      [[broken], `wsscope: ${broken}:2: data line whose "bytes" is not hex`],
      // A golden file is not decoded as raw frames ('{' = 0x7b would be a frame header).
      [[path.join(SAMPLES, 'fragmentation.golden.ndjson')], 'wsscope: this is NDJSON of decoded events (a golden file or --ui json output), not bytes: decode the capture it came from (NAME.capture.ndjson, written by --save)'],
    ] as const) {
      const r = cli(['decode', ...args]);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 2, stderr: message + '\n' });
    }
  });

  it('never crashes on random bytes', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const bytes = Buffer.from(Array.from({ length: 4096 }, () => next() & 0xff));
    const r = cli(['decode', file('random.bin', bytes)]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain('\x1b');
  });
});
