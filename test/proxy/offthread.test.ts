/** The worker-thread output (what `--ui json|text` use): same lines as decoding inline. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CaptureReplayer } from '../../src/capture';
import { buildFrame } from '../../src/decoder/build';
import type { FrameEvent, WsEvent } from '../../src/decoder/events';
import { Session } from '../../src/session';
import { eventLine } from '../../src/views/json';
import { OffThreadOutput } from '../../src/views/offthread';
import { formatEvent } from '../../src/views/text';
import { UPGRADE_RESPONSE, upgradeRequest } from './helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-offthread-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const MASK = Buffer.from('37fa213d', 'hex');
const REQUEST = upgradeRequest({ path: '/chat' });
const RESPONSE = UPGRADE_RESPONSE;

/** What the live proxy publishes with decode: false, in order. */
function feed(session: Session): void {
  session.publish({ event: 'listening', ts: 1, proxy: '127.0.0.1:1', target: 'ws://127.0.0.1:2/' });
  session.publish({ event: 'open', ts: 2, conn: 1, client: '127.0.0.1:3', target: 'ws://127.0.0.1:2/' });
  const client = Buffer.concat([
    Buffer.from(REQUEST),
    buildFrame({ opcode: 1, mask: MASK, payload: 'Hello' }),
    buildFrame({ opcode: 2, mask: MASK, payload: Buffer.alloc(70000, 3) }),
    buildFrame({ opcode: 1, payload: 'unmasked' }),
  ]);
  // Bytes split anywhere, as sockets deliver them.
  for (let at = 0, i = 0; at < client.length; at += 1000 + i * 7, i++) session.publishData(1, 'client', 3 + i, client.subarray(at, at + 1000 + i * 7));
  session.publishData(1, 'server', 500, Buffer.from(RESPONSE));
  session.publishData(1, 'server', 501, buildFrame({ opcode: 8, payload: Buffer.from([3, 232]) }));
  session.publish({ event: 'error', ts: 502, conn: 1, message: 'something' });
  session.publish({ event: 'end', ts: 503, conn: 1, reason: 'server closed', bytes: { client: client.length, server: 10 } });
}

/** The same, decoded in this thread. */
function inline(): WsEvent[] {
  const events: WsEvent[] = [];
  const session = new Session();
  const replayer = new CaptureReplayer((e) => events.push(e));
  session.onEvent((e) => {
    if (e.event === 'open') replayer.feed({ kind: 'open', line: 0, event: e });
    else if (e.event === 'end') replayer.feed({ kind: 'end', line: 0, event: e });
    else if (e.event === 'error' && e.conn !== undefined) replayer.feed({ kind: 'error', line: 0, event: e });
    else events.push(e);
  });
  session.onData((conn, dir, ts, bytes) => replayer.feed({ kind: 'data', line: 0, conn, dir, ts, bytes }));
  feed(session);
  return events;
}

for (const [ui, verbose] of [['json', false], ['text', false], ['text', true]] as const) {
  test(`--ui ${ui}${verbose ? ' -v' : ''} in a worker writes what inline decoding writes`, async () => {
    const file = path.join(tmp, `out.${ui}`);
    const fd = fs.openSync(file, 'w');
    const session = new Session();
    const output = new OffThreadOutput({ ui, fd, verbose }).attach(session);
    feed(session);
    await output.close();
    fs.closeSync(fd);
    const events = inline();
    expect(events.filter((e) => e.event === 'frame')).toHaveLength(4);
    const text = (e: WsEvent) => formatEvent(e, { verbose });
    const expected = ui === 'json' ? events.map(eventLine).join('') : events.flatMap(text).map((l) => l + '\n').join('');
    if (verbose) expect(expected).toContain('unmasking      clear[i] = masked[i] XOR key[i mod 4]');
    expect(fs.readFileSync(file, 'utf8')).toBe(expected);
  }, 30000);
}

test('the worker holds the proxy back while too many bytes wait (gate)', async () => {
  const file = path.join(tmp, 'gate.json');
  const fd = fs.openSync(file, 'w');
  const session = new Session();
  const output = new OffThreadOutput({ ui: 'json', fd }).attach(session);
  expect(output.full).toBe(false);
  session.publishData(9, 'client', 1, Buffer.alloc(9 * 1024 * 1024, 0x41)); // not HTTP: one http error, no frames
  expect(output.full).toBe(true);
  await new Promise<void>((resolve) => output.whenClear(resolve));
  expect(output.full).toBe(false);
  await output.close();
  fs.closeSync(fd);
});
