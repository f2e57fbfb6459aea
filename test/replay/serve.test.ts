/**
 * `wsscope serve FILE` and serveCapture(): a mock server from a session recorded live.
 * Real clients (ws, Python websockets) get the recorded answers, one after another and at
 * once; what they send that was not recorded is reported. Runs the built CLI.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import WebSocket from 'ws';
import { serveCapture, type MockServer } from '../../src/replay/serve';
import { BIN, runCommand } from '../teach/helpers';
import { closed, nextMessages, opened, recordSession, tmpDir } from './helpers';

const answer = (p: string) => `{"name":"${p}","age":18,"description":"${p}很厉害!!!!"}\n`;

let dir: string;
let capture: string;

beforeAll(async () => {
  dir = tmpDir();
  capture = await recordSession(path.join(dir, 'session.capture.ndjson'), ['Ann', 'Bo']);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A ws client that sends each text and collects the answer to it; then closes. */
async function converse(url: string, texts: string[]): Promise<{ answers: string[]; closeCode: number }> {
  const ws = new WebSocket(url);
  await opened(ws);
  const answers: string[] = [];
  for (const text of texts) {
    const next = nextMessages(ws, 1);
    ws.send(text);
    answers.push(...(await next));
  }
  const code = new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
  ws.close(1000);
  return { answers, closeCode: await code };
}

describe('serveCapture', () => {
  let server: MockServer;
  beforeEach(async () => {
    server = await serveCapture(capture);
  });
  afterEach(() => server.close());

  test('a ws client gets the recorded answers, each after its message, and the close handshake', async () => {
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/json$/);
    const r = await converse(server.url, ['Ann', 'Bo']);
    expect(r.answers).toEqual([answer('Ann'), answer('Bo')]);
    expect(r.closeCode).toBe(1000);
    await server.clientsDone(1);
    expect(server.reports[0]).toMatch(/^client 1 \(127\.0\.0\.1:\d+\) GET \/json: plays recorded connection 1$/);
    expect(server.reports.at(-1)).toBe('client 1: done: 3 of 3 recorded frames sent, 3 of 3 recorded client messages matched, 0 not in the recording');
  });

  test('many clients at once, each with its own script', async () => {
    const results = await Promise.all([1, 2, 3].map(() => converse(server.url, ['Ann', 'Bo'])));
    for (const r of results) expect(r.answers).toEqual([answer('Ann'), answer('Bo')]);
    await server.clientsDone(3);
    expect(server.reports.filter((l) => / 0 not in the recording$/.test(l))).toHaveLength(3);
  });

  test('an unrecorded message is reported and gets no answer; in order, any text counts as the next one', async () => {
    const ws = new WebSocket(server.url);
    await opened(ws);
    const first = nextMessages(ws, 1);
    ws.send('Zed'); // matched in order: answered with the recorded answer to Ann
    expect(await first).toEqual([answer('Ann')]);
    const second = nextMessages(ws, 1);
    ws.send(Buffer.from([1, 2]), { binary: true }); // no binary message was recorded
    ws.send('Bo');
    expect(await second).toEqual([answer('Bo')]);
    ws.close(1000);
    await closed(ws);
    await server.clientsDone(1);
    expect(server.reports).toContain('client 1: not in the recording: binary, 2 bytes');
  });
});

test('--match content: only the recorded message counts; the others are reported', async () => {
  const server = await serveCapture(capture, { match: 'content' });
  try {
    const ws = new WebSocket(server.url);
    await opened(ws);
    const answers = nextMessages(ws, 1);
    ws.send('Zed');
    ws.send('Ann');
    expect(await answers).toEqual([answer('Ann')]);
    ws.terminate();
    await server.clientsDone(1);
    expect(server.reports).toContain('client 1: not in the recording: text "Zed"');
  } finally {
    await server.close();
  }
});

describe('wsscope serve (the CLI) with Python websockets', () => {
  let child: ChildProcess;
  let url: string;
  const out: string[] = [];
  beforeAll(async () => {
    child = spawn(process.execPath, [BIN, 'serve', capture, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    url = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        out.push(d);
        const m = /^serving .* on (ws:\/\/\S+)$/m.exec(text);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`wsscope serve exited ${code}: ${text}`)));
    });
  });
  afterAll(() => {
    child.kill('SIGTERM');
  });

  test('a Python client gets the recorded answers; its extra message is reported', async () => {
    const script = [
      'import asyncio, sys, websockets',
      'async def main():',
      '    async with websockets.connect(sys.argv[1], compression=None) as ws:',
      '        for text in ["Ann", "Bo"]:',
      '            await ws.send(text)',
      '            print(await ws.recv(), end="")',
      '        await ws.send("Cy")',
      'asyncio.run(main())',
    ].join('\n');
    const r = await runCommand('/usr/bin/python3', ['-c', script, url]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(answer('Ann') + answer('Bo'));
    const until = Date.now() + 10000;
    while (!out.join('').includes('client 1: done') && Date.now() < until) await new Promise((resolve) => child.stdout!.once('data', resolve));
    expect(out.join('')).toContain('client 1: not in the recording: text "Cy"');
    expect(out.join('')).toMatch(/client 1: done: 3 of 3 recorded frames sent, 3 of 3 recorded client messages matched, 1 not in the recording/);
  });

  test('a request that is not an upgrade gets 400 naming the mock', async () => {
    const r = await fetch(url.replace(/^ws/, 'http'));
    expect(r.status).toBe(400);
    expect(await r.text()).toBe('this is a mock WebSocket server (wsscope serve): only WebSocket upgrades are answered\n');
  });
});
