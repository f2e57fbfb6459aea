/**
 * `wsscope backend` as a user runs it (needs `npm run build`: the CLI runs dist/).
 */
import { ChildProcess, spawn } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';
import WebSocket from 'ws';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'wsscope.js');
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function start(args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<number | null> } {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'backend.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

function waitFor(predicate: () => boolean, what: string, ms = 20000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (predicate()) resolve();
      else if (Date.now() - started > ms) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

test('announces the real address, answers, and exits 0 on SIGTERM', async () => {
  const run = start(['backend', '--listen', '127.0.0.1:0']);
  await waitFor(() => run.stdout().includes('\n'), 'the announcement');
  const m = /^backend listening on (127\.0\.0\.1:(\d+)) \(ws:\/\/\1\/json, demo page http:\/\/\1\/\)\n$/.exec(run.stdout());
  expect(m).not.toBeNull();
  const client = new WebSocket(`ws://${m![1]}/json`);
  const reply = await new Promise<string>((resolve, reject) => {
    client.on('open', () => client.send('Tom'));
    client.on('message', (data) => resolve(String(data)));
    client.on('error', reject);
  });
  expect(reply).toBe('{"name":"Tom","age":18,"description":"Tom很厉害!!!!"}\n');
  client.terminate();
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
});

test('a port in use: one line on stderr, non-zero exit', async () => {
  const first = start(['backend', '--listen', '127.0.0.1:0']);
  await waitFor(() => first.stdout().includes('\n'), 'the announcement');
  const address = /on (\S+) /.exec(first.stdout())![1];
  const second = start(['backend', '--listen', address]);
  const code = await second.exited;
  expect(code).not.toBe(0);
  expect(second.stderr()).toBe(`wsscope: ${address} is already in use\n`);
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);
});

test.each([
  [['--bogus'], "wsscope: Unknown option '--bogus' (try wsscope backend --help)\n"],
  [['--max-message-size', '-5'], 'wsscope: --max-message-size needs a value; a value starting with "-" is written --max-message-size=-N\n'],
  [['--listen', 'nope'], 'wsscope: bad address "nope"'],
  [['--max-message-size', '0'], 'wsscope: bad --max-message-size "0"'],
])('bad arguments %j: one clear line, exit 2', async (args, message) => {
  const run = start(['backend', ...args]);
  expect(await run.exited).toBe(2);
  expect(run.stderr().startsWith(message)).toBe(true);
  expect(run.stderr().trim().split('\n')).toHaveLength(1);
});
