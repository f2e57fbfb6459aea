/** `--protocol NAME` on the command line: decode forces it; an unknown name is one clear error. */
import { execFileSync, spawnSync } from 'child_process';
import { buildFrame } from '../../src/decoder/build';
import { decodeMain } from '../../src/cli/decode';
import { BIN } from '../proxy/helpers';

test('decode --protocol forces the protocol on raw frames (no handshake to detect it from)', async () => {
  const hex = buildFrame({ opcode: 1, payload: '42["chat","hi"]' }).toString('hex');
  let out = '';
  expect(await decodeMain(['--hex', hex, '--from', 'server', '--protocol', 'socket.io', '--ui', 'json'], (t) => (out += t))).toBe(0);
  const events = out.trim().split('\n').map((l) => JSON.parse(l));
  expect(events[0]).toEqual({ event: 'protocol', ts: 0, conn: 1, protocol: 'socket.io', reason: 'forced by --protocol socket.io' });
  expect(events.find((e) => e.event === 'message').app).toMatchObject({ protocol: 'socket.io', type: 'EVENT', event: 'chat', args: ['hi'] });
  // Without it, a lone Socket.IO packet on raw frames is nobody's.
  out = '';
  expect(await decodeMain(['--hex', hex, '--from', 'server', '--ui', 'json'], (t) => (out += t))).toBe(0);
  const plain = out.trim().split('\n').map((l) => JSON.parse(l));
  // The same message is decoded (so "no app" is not just "no output"), with nothing it carries.
  expect(plain.filter((e) => e.event === 'message').map((e) => [e.text, e.app])).toEqual([['42["chat","hi"]', undefined]]);
  expect(plain.filter((e) => e.event === 'protocol')).toEqual([]);
});

test('an unknown --protocol: one line on stderr, exit 2, for proxy, replay and decode', () => {
  for (const args of [['decode', '--hex', '81 00', '--protocol', 'nope'], ['replay', 'x', '--protocol', 'nope'], ['proxy', '--backend', '--protocol', 'nope']]) {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^wsscope: bad --protocol: unknown protocol "nope" \(known: .*socket\.io.*\)$/)]);
  }
  expect(execFileSync(process.execPath, [BIN, 'decode', '--help'], { encoding: 'utf8' })).toContain('--protocol NAME');
});
