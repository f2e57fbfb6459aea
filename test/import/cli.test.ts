/**
 * `wsscope decode` and `wsscope replay` on pcap, pcapng and HAR files, as a user runs them:
 * recognised by content whatever the file's name, one-line errors for broken files.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { requireBuilt, runCli } from '../proxy/helpers';
import { clientText, Conversation, pcapFile, pcapngFile, serverText, upgradeRequest, upgradeResponse } from './build';
import { chromeStyleHar } from './har-samples';

let dir: string;
beforeAll(() => {
  requireBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-import-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function session(): Conversation {
  const c = new Conversation().handshake().send('client', upgradeRequest()).send('server', upgradeResponse());
  return c.send('client', clientText('hello')).send('server', serverText('world')).close();
}

function write(name: string, content: Buffer | string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

const lines = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l));

describe('decode and replay read captures by content, not by name', () => {
  test('a pcap named .txt, a pcapng named .bin: the same events from decode --ui json and replay --ui json', async () => {
    const pcap = write('capture.txt', pcapFile(session().packets));
    const ng = write('capture.bin', pcapngFile([{ interfaces: [{ linkType: 1 }], packets: session().packets }]));
    const a = await runCli(['decode', pcap, '--ui', 'json']);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const events = lines(a.stdout);
    expect(events.map((e) => e.event)).toEqual(['open', 'handshake', 'frame', 'message', 'frame', 'message', 'end']);
    expect(events[3]).toMatchObject({ dir: 'client', text: 'hello' });
    expect(events[5]).toMatchObject({ dir: 'server', text: 'world' });
    const b = await runCli(['decode', ng, '--ui', 'json']);
    expect(lines(b.stdout)).toEqual(events);
    const r = await runCli(['replay', ng, '--ui', 'json']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(events);
  });

  test('the text explanation of a HAR says that a HAR has no frame detail', async () => {
    const har = write('session.json', JSON.stringify(chromeStyleHar(), null, 2));
    const t = await runCli(['decode', har]);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('messages only; frame detail');
    expect(t.stdout).toMatch(/message {2}client -> server {2}conn 1 {2}text, frames not recorded \(HAR\), 5 bytes/);
    const r = await runCli(['replay', har, '--ui', 'text']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('messages only; frame detail');
    expect(r.stdout).toMatch(/#1 C→S message text {2}frames not recorded \(HAR\) {2}5 bytes/);
  });

  test('replay of a HAR with --ui tui off a terminal: the text log, as for any capture (the UI itself: test/tui/tui.e2e.test.ts)', async () => {
    const har = write('ui.har', JSON.stringify(chromeStyleHar()));
    const r = await runCli(['replay', har, '--ui', 'tui']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/#1 C→S message text {2}frames not recorded \(HAR\) {2}5 bytes/);
  });

  test('a valid capture with no WebSocket connection in it: one line "no WebSocket connection found in FILE", decode 2, replay 1, replay --to 2, serve 1', async () => {
    const httpOnly = new Conversation().handshake().send('client', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).send('server', Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')).close();
    const cases: [string, Buffer | string, RegExp][] = [
      ['empty.pcap', pcapFile([]), /\(no TCP connections at all: a connection is found by its upgrade request, so the capture must include its start\)$/],
      ['http.pcapng', pcapngFile([{ interfaces: [{ linkType: 1 }], packets: httpOnly.packets }]), /\(1 TCP connection, none starting with an HTTP upgrade request: /],
      ['cut.pcap', pcapFile(httpOnly.packets).subarray(0, 24 + 20), /; and the file is cut short: the file ends inside packet 1 \(20 bytes of it\)\)$/],
      ['plain.har', JSON.stringify({ log: { version: '1.2', entries: [{ request: { url: 'http://x/' }, response: { status: 200 } }] } }), /\(1 HAR entry, none a WebSocket: /],
    ];
    for (const [name, content, why] of cases) {
      const file = write(name, content);
      // Every command on one pcap and one HAR (the CLI spawns are the cost); decode on the rest.
      const all = name === 'empty.pcap' || name === 'plain.har';
      const runs = [[['decode', file, '--ui', 'json'], 2], [['replay', file, '--ui', 'text'], 1], [['replay', file, '--to', 'ws://127.0.0.1:9/'], 2], [['serve', file], 1]] as const;
      for (const [args, code] of all ? runs : runs.slice(0, 1)) {
        const r = await runCli([...args]);
        expect([name, args.slice(1).join(' '), r.code]).toEqual([name, args.slice(1).join(' '), code]);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(new RegExp(`^wsscope: no WebSocket connection found in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
        expect(r.stderr.trim()).toMatch(why);
      }
    }
  });

  test('a capture cut short that holds a connection: decoded as far as it goes, the cut said in an error event, exit 0', async () => {
    const good = pcapFile(session().packets);
    const file = write('cut-after.pcap', good.subarray(0, good.length - 5));
    for (const cmd of ['decode', 'replay']) {
      const r = await runCli([cmd, file, '--ui', 'json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const events = lines(r.stdout);
      expect(events.filter((e) => e.event === 'message').length).toBeGreaterThan(0);
      expect(events.filter((e) => e.event === 'error').map((e) => e.message)).toEqual([expect.stringMatching(/: the file ends inside packet \d+ \(\d+ bytes of it\): the file is cut short; decoded what came before it$/)]);
    }
  });

  test('a corrupt file: one line on stderr, a non-zero exit (as for a malformed capture: decode 2, replay 1), no stack trace', async () => {
    const good = pcapFile(session().packets);
    const bad = Buffer.from(good);
    bad.writeUInt32LE(0x7fffffff, 24 + 8);
    const file = write('bad.pcap', bad);
    for (const [cmd, code] of [['decode', 2], ['replay', 1]] as const) {
      const r = await runCli([cmd, file, '--ui', 'json']);
      expect(r.code).toBe(code);
      expect(r.stderr).toBe(`wsscope: ${file}: packet 1 at byte 24 claims 2147483647 bytes: a corrupt file\n`);
    }
    const har = write('bad.har', '{"log": {"entries": [');
    const h = await runCli(['decode', har]);
    expect(h.code).toBe(2);
    expect(h.stderr.trim().split('\n')).toHaveLength(1);
    expect(h.stderr).toMatch(/^wsscope: .*bad\.har: not a readable HAR \(invalid JSON/);
  });
});
