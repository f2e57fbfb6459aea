/**
 * `wsscope encode`: exact bytes and outputs in-process (encodeMain with a captured writer),
 * and the real CLI spawned for errors and the pipe into `decode --hex`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodeMain } from '../src/cli/decode';
import { encodeMain } from '../src/cli/encode';

const BIN = path.join(__dirname, '..', 'bin', 'wsscope.js');

async function encode(args: string[], random?: () => Buffer): Promise<string> {
  let out = '';
  const code = await encodeMain(args, (text) => (out += text), random);
  expect(code).toBe(0);
  return out;
}
const hexOf = async (args: string[]) => (await encode([...args, '--hex-only'])).trimEnd();
const lastLine = (text: string) => text.trimEnd().split('\n').at(-1);

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('wsscope encode: the bytes', () => {
  it('builds RFC 6455 §5.7\'s first example: --opcode text "Hello" is 81 05 48 65 6c 6c 6f', async () => {
    expect(await hexOf(['--opcode', 'text', 'Hello'])).toBe('81 05 48 65 6c 6c 6f');
    expect(await encode(['--opcode', 'text', 'Hello', '--ui', 'hex'])).toBe('81 05 48 65 6c 6c 6f\n');
  });

  it('masks with a key (the §5.7 masked example) or a random one', async () => {
    expect(await hexOf(['--opcode', 'text', 'Hello', '--mask', '37fa213d'])).toBe('81 85 37 fa 21 3d 7f 9f 4d 51 58');
    expect(await hexOf(['Hello', '--mask', '37 fa 21 3d'])).toBe('81 85 37 fa 21 3d 7f 9f 4d 51 58');
    expect(await hexOf(['Hello', '--mask', 'random'])).toMatch(/^81 85( [0-9a-f]{2}){9}$/);
    const out = await encode(['Hello', '--mask', 'random'], () => Buffer.from('37fa213d', 'hex'));
    expect(out.split('\n')[0]).toBe('81 85 37 fa 21 3d 7f 9f 4d 51 58');
  });

  it('builds the other §5.7 examples: fragments, ping, pong, 256 bytes, 64 KiB', async () => {
    expect(await hexOf(['--no-fin', 'Hel'])).toBe('01 03 48 65 6c');
    expect(await hexOf(['--opcode', 'continuation', 'lo'])).toBe('80 02 6c 6f');
    expect(await hexOf(['--opcode', 'ping', 'Hello'])).toBe('89 05 48 65 6c 6c 6f');
    expect(await hexOf(['--opcode', 'pong', 'Hello', '--mask', '37fa213d'])).toBe('8a 85 37 fa 21 3d 7f 9f 4d 51 58');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-encode-'));
    try {
      fs.writeFileSync(path.join(dir, '256'), Buffer.alloc(256));
      fs.writeFileSync(path.join(dir, '64k'), Buffer.alloc(65536));
      expect((await hexOf(['--opcode', 'binary', '--file', path.join(dir, '256')])).slice(0, 11)).toBe('82 7e 01 00');
      expect((await hexOf(['--opcode', 'binary', '--file', path.join(dir, '64k')])).slice(0, 29)).toBe('82 7f 00 00 00 00 00 01 00 00');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('payload from --hex, opcodes by number, RSV bits, close code + reason', async () => {
    expect(await hexOf(['--opcode', 'binary', '--hex', '00 ff'])).toBe('82 02 00 ff');
    expect(await hexOf(['--opcode', '0x3', '--hex', ''])).toBe('83 00');
    expect(await hexOf(['--opcode', '15'])).toBe('8f 00');
    expect(await hexOf(['--rsv1', '--rsv2', '--rsv3', 'x'])).toBe('f1 01 78');
    expect(await hexOf(['--close-code', '1000', 'bye'])).toBe('88 05 03 e8 62 79 65');
    expect(await hexOf(['--close-code', '1001'])).toBe('88 02 03 e9');
  });

  it('--compress builds RFC 7692 §7.2.3.1\'s compressed "Hello" and decodes it inflated', async () => {
    expect(await hexOf(['--compress', 'Hello'])).toBe('c1 07 f2 48 cd c9 c9 07 00');
    const out = await encode(['--compress', 'Hello']);
    expect(out).toContain('message  server -> client  conn 1  text, 1 frame, 5 bytes after inflating (permessage-deflate)\n    "Hello"\n');
    expect(lastLine(out)).toBe('breaks no rule (decoded as sent by the server)');
    expect(lastLine(await encode(['--compress', '--opcode', 'ping', 'x']))).toBe('breaks 1 rule (decoded as sent by the server): rsv1-on-control-frame');
  });

  it('forces the length form and can lie about the length', async () => {
    expect(await hexOf(['--length-form', '16', 'Hi'])).toBe('81 7e 00 02 48 69');
    expect(await hexOf(['--length-form', '64', 'Hi'])).toBe('81 7f 00 00 00 00 00 00 00 02 48 69');
    expect(await hexOf(['--declared-length', '10', 'Hi'])).toBe('81 0a 48 69');
  });
});

describe('wsscope encode: the explanation', () => {
  it('prints the hex, the decode explanation, then the verdict', async () => {
    let decoded = '';
    await decodeMain(['--hex', '81 05 48 65 6c 6c 6f'], (t) => (decoded += t));
    expect(await encode(['--opcode', 'text', 'Hello'])).toBe(`81 05 48 65 6c 6c 6f\n\n${decoded}\nbreaks no rule (decoded as sent by the server)\n`);
  });

  it.each([
    [['--opcode', '3', 'x'], 'breaks 1 rule (decoded as sent by the server): reserved-opcode'],
    [['--rsv1', 'x'], 'breaks 1 rule (decoded as sent by the server): rsv-without-extension'],
    [['--length-form', '16', 'Hi', '--mask', '01020304'], 'breaks 1 rule (decoded as sent by the client): non-minimal-length'],
    [['Hello', '--from', 'client'], 'breaks 1 rule (decoded as sent by the client): unmasked-client-frame'],
    [['Hello', '--mask', '01020304', '--from', 'server'], 'breaks 1 rule (decoded as sent by the server): masked-server-frame'],
    [['--opcode', 'ping', '--no-fin'], 'breaks 1 rule (decoded as sent by the server): fragmented-control-frame'],
    [['--opcode', 'ping', 'p'.repeat(126)], 'breaks 1 rule (decoded as sent by the server): control-frame-too-long'],
    [['--close-code', '1005'], 'breaks 1 rule (decoded as sent by the server): invalid-close-code'],
    [['--opcode', 'close', '--hex', '03'], 'breaks 1 rule (decoded as sent by the server): close-payload-length-1'],
    [['--opcode', 'continuation', 'lo'], 'breaks 1 rule (decoded as sent by the server): unexpected-continuation'],
    [['--hex', 'c3 28'], 'breaks 1 rule (decoded as sent by the server): invalid-utf8'],
    [['--no-fin', 'Hel'], 'breaks no rule (decoded as sent by the server), but is incomplete on its own (see the error above)'],
    [['--rsv1', '--hex', 'f2 48 cd c9 c9 07 00', '--extensions', 'permessage-deflate'], 'breaks no rule (decoded as sent by the server)'],
  ])('%j says which rules it breaks', async (args, verdict) => {
    expect(lastLine(await encode(args as string[]))).toBe(verdict);
  });

  it('--ui json prints the decoder events', async () => {
    const lines = (await encode(['--close-code', '1000', 'bye', '--ui', 'json'])).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        event: 'frame', ts: 0, conn: 1, dir: 'server', index: 0, offset: 0, header: '8805', fin: true, rsv1: false, rsv2: false, rsv3: false,
        opcode: 8, opcodeName: 'close', masked: false, maskKey: null, payloadLength: 5, lengthForm: 7, payload: '03e8627965',
        payloadTruncated: false, closeCode: 1000, closeCodeName: 'Normal Closure', closeReason: 'bye', violations: [],
      },
    ]);
  });
});

describe('wsscope encode (the CLI)', () => {
  it('pipes into decode --hex', () => {
    const built = cli(['encode', '--hex-only', '--mask', '37fa213d', 'Hello']);
    expect(built).toEqual({ status: 0, stdout: '81 85 37 fa 21 3d 7f 9f 4d 51 58\n', stderr: '' });
    const decoded = cli(['decode', '--hex', built.stdout, '--ui', 'json']);
    expect(decoded.status).toBe(0);
    expect(JSON.parse(decoded.stdout.split('\n')[1])).toMatchObject({ event: 'message', text: 'Hello', violations: [] });
  });

  it.each([
    [['--opcode', 'texts'], 'wsscope: bad --opcode "texts": expected continuation, text, binary, close, ping, pong or a number 0-15'],
    [['--opcode', '16'], 'wsscope: bad --opcode "16": expected continuation, text, binary, close, ping, pong or a number 0-15'],
    [['--mask', '3713'], 'wsscope: bad --mask "3713": expected 4 bytes as 8 hex digits (e.g. 37fa213d) or "random"'],
    [['--hex', '4'], 'wsscope: bad --hex: expected pairs of hex digits like "48 65 6c", got "4"'],
    [['--length-form', '7', 'x'.repeat(126)], 'wsscope: --length-form 7 holds at most 125, the length is 126'],
    [['--length-form', '32', 'x'], 'wsscope: bad --length-form "32": expected 7, 16 or 64'],
    [['--close-code', '70000'], 'wsscope: bad --close-code "70000": expected a whole number from 0 to 65535'],
    [['Hello', '--hex', '00'], 'wsscope: give the payload once: TEXT and --hex both given'],
    [['--file', '/nonexistent/payload'], 'wsscope: cannot read /nonexistent/payload: no such file'],
    [['--fin', '--no-fin'], 'wsscope: give --fin or --no-fin, not both'],
    [['--ui', 'tui'], 'wsscope: bad --ui "tui": expected text, json or hex'],
    [['--bogus'], null],
  ])('%j: one line on stderr, exit code 2', (args, message) => {
    const r = cli(['encode', ...(args as string[])]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    if (message) expect(r.stderr).toBe(message + '\n');
    else expect(r.stderr).toMatch(/^wsscope: .*--bogus/);
  });
});
