/**
 * `wsscope demo [--url ws://H:P/json] [--step] [--deflate]`: the scripted client of
 * src/teach/demo.ts. With no --url it starts the built-in backend (permessage-deflate on)
 * and the proxy in this process, on free ports, runs through the proxy, and stops them.
 */
import * as readline from 'readline';
import { parseArgs } from 'util';
import { Session } from '../session';
import { ClientError, parseWsUrl } from '../teach/client';
import { runDemo } from '../teach/demo';
import { stdoutWriter } from './decode';
import { CliError, parseMilliseconds } from './errors';
import { parseMaskKey } from './encode';

const HELP = `usage: wsscope demo [--url ws://HOST:PORT/PATH] [--step] [--deflate] [OPTIONS]

A scripted client that sends one of each kind of frame, announcing each step, and shows
decoded what the server answers: a text message, a binary message, a ping, a text in
three fragments with pings between them, the three length forms (125, 126 and 65,536
bytes), a compressed message (permessage-deflate), and a close.

With no --url it starts the built-in backend and the proxy on free ports of 127.0.0.1
and runs through the proxy. To watch the frames in the terminal UI, start
\`wsscope proxy --backend --listen 127.0.0.1:9000\` in another terminal and run
\`wsscope demo --url ws://127.0.0.1:9000/json --step\`.

  --url URL        the server (default: the built-in backend behind the proxy)
  --step           wait for Enter before each step
  --deflate        offer permessage-deflate on the first connection too (steps 1-7 compressed)
  --mask HEX       use this masking key for every frame (e.g. 37fa213d, RFC 6455 §5.7);
                   default: a random key per frame
  --timeout MS     how long to wait for an expected answer; default 5000
  --insecure       wss: accept any certificate
  -v, --verbose    all handshake headers, and every frame header bit by bit
`;

/** src/backend and src/proxy are loaded lazily, by name; their types are only imported. */
type StartBackend = typeof import('../backend').startBackend;
type StartProxy = typeof import('../proxy').startProxy;

/** Resolves on each Enter; after stdin ends, at once (so `demo --step < /dev/null` finishes). */
function enterWaiter(): { wait: (prompt: string) => Promise<void>; close: () => void } {
  const rl = readline.createInterface({ input: process.stdin });
  const lines: string[] = [];
  const waiting: (() => void)[] = [];
  let ended = false;
  rl.on('line', (line) => {
    const next = waiting.shift();
    if (next) next();
    else lines.push(line);
  });
  rl.on('close', () => {
    ended = true;
    for (const next of waiting.splice(0)) next();
  });
  return {
    wait: (prompt) => {
      if (lines.length) {
        lines.shift();
        return Promise.resolve();
      }
      if (ended) return Promise.resolve();
      process.stdout.write(prompt);
      return new Promise((resolve) => waiting.push(resolve));
    },
    close: () => rl.close(),
  };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      step: { type: 'boolean', default: false },
      deflate: { type: 'boolean', default: false },
      mask: { type: 'string' },
      timeout: { type: 'string', default: '5000' },
      insecure: { type: 'boolean', default: false },
      verbose: { type: 'boolean', short: 'v', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length) throw new CliError(`unexpected argument "${positionals[0]}" (see wsscope demo --help)`);
  const timeoutMs = parseMilliseconds('--timeout', values.timeout);
  // "random" (or no --mask): a new random key per frame, as a client should (§5.3).
  const mask = values.mask !== undefined && values.mask !== 'random' ? parseMaskKey(values.mask) : undefined;

  const stops: (() => Promise<void>)[] = [];
  let enter: ReturnType<typeof enterWaiter> | undefined;
  // `wsscope demo | head` closes stdout: stop quietly instead of crashing on EPIPE.
  const write = stdoutWriter();
  const out = (line: string) => write(line + '\n');
  try {
    let urlText = values.url;
    if (urlText === undefined) {
      const startBackend = require('../backend').startBackend as StartBackend;
      const startProxy = require('../proxy').startProxy as StartProxy;
      const backend = await startBackend({ host: '127.0.0.1', port: 0, deflate: true });
      stops.push(() => backend.close());
      const target = `ws://127.0.0.1:${backend.port}/json`;
      const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target, session: new Session() });
      stops.push(() => proxy.close());
      urlText = `ws://127.0.0.1:${proxy.port}/json`;
      out(`built-in backend listening on 127.0.0.1:${backend.port} (permessage-deflate on)`);
      out(`proxy listening on 127.0.0.1:${proxy.port}, forwarding to ${target}`);
      out(`the demo connects through the proxy: ${urlText}`);
    }
    let url;
    try {
      url = parseWsUrl(urlText);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    if (values.step) enter = enterWaiter();
    const waiter = enter;
    await runDemo(
      {
        url,
        deflate: values.deflate,
        mask,
        timeoutMs,
        insecure: values.insecure,
        verbose: values.verbose,
        beforeStep: waiter && ((i, total) => waiter.wait(`\n[press Enter for step ${i}/${total}] `)),
      },
      out,
    );
    out('');
    out('demo finished');
  } catch (err) {
    if (err instanceof ClientError) throw new CliError(err.message, 1);
    throw err;
  } finally {
    enter?.close();
    for (const stop of stops.reverse()) await stop();
  }
  return 0;
}
