/**
 * `wsscope proxy`: the man-in-the-middle proxy with its outputs (terminal UI, text log,
 * NDJSON, capture file, pcap file), and optionally the built-in backend. `wsscope` with no
 * command (start.ts) runs the same thing with the defaults of DESIGN.md.
 */
import * as fs from 'fs';
import { parseArgs } from 'util';
import { parseHostPattern } from '../proxy/policy';
import { reachableAddress } from '../address';
import { CaptureWriter } from '../capture';
import { describeError, parseTarget, startProxy, type ProxyHandle } from '../proxy';
import { Session } from '../session';
import { OutputGate } from '../proxy/gate';
import { OffThreadOutput } from '../views/offthread';
import { HarWriter } from '../views/har';
import { PcapWriter } from '../views/pcap';
import { CliError, parseChoice, parseHostPort, parseMaxPayload, parseMilliseconds, parseProtocol, parseWholeNumber } from './errors';
import { HooksError, loadHooks } from '../intercept/script';
import type { Decider } from '../intercept/engine';
import { HoldQueue } from '../tui/hold';

/** The options part of the usage text: `wsscope proxy` and `wsscope` (start.ts) differ only in the backend's default address. */
export function proxyOptionsText(backendListen: string): string {
  return `Options:
  --listen H:P           where the proxy listens (default 127.0.0.1:9000; port 0: a free port)
  --target URL           the upstream server, ws://HOST:PORT[/path] or wss://...
  --backend              also start the built-in backend and target its /json
  --backend-listen H:P   where the built-in backend listens (default ${backendListen})
  --deflate              the built-in backend accepts permessage-deflate (RFC 7692; off by default)
  --ui tui|text|json     terminal UI (default on a terminal), text log, or NDJSON on stdout
  --save FILE            write a capture file (wsscope replay FILE reads it back)
  --pcap FILE            write the traffic as a pcap file for Wireshark/tshark
  --har FILE             write the WebSocket connections as a HAR 1.2 file (Chrome
                         DevTools' form: messages only), when the proxy stops
  --max-payload N        payload bytes shown per frame/message (default 65536)
  --protocol NAME        decode messages as this application protocol (socket.io, stomp,
                         json-rpc, ...) on every connection instead of detecting it
  --insecure             accept a wss:// upstream whose certificate does not verify
  --upstream-ca FILE     also trust this CA (PEM) for TLS upstreams, besides the system's

The same port also takes TLS (wss://, terminated with a certificate from the local CA:
see \`wsscope ca\`), CONNECT tunnels and absolute-form requests (HTTP_PROXY, HTTPS_PROXY,
--proxy-server), which go to the host they name:
  --allow-host HOST[:PORT]  forward requests and tunnels may go only there (repeatable, *
                         wildcards); anything else gets 403 without being dialled
  --allow-forward        forward to any host even on a non-loopback --listen address
  --passthrough HOST     tunnel HOST[:PORT] blind: no TLS interception (repeatable)
  --cert FILE --key FILE serve this certificate (PEM) to TLS clients instead of the CA's
  --upstream-timeout MS  502 when the target has not answered within MS (default 10000)
  --script FILE          load onFrame/onMessage hooks from FILE (.js, .mjs, .cjs, .ts) that
                         forward, drop, replace or inject frames (docs/design.md, "Intercepting")
  --max-message-size N   the largest frame or message held for hooks (default 16777216);
                         larger ones pass unchanged, unseen by the hooks
  -v, --verbose          text log: the field breakdown of every frame
`;
}

export const PROXY_USAGE = `usage: wsscope proxy --target ws[s]://HOST:PORT[/path] [options]
       wsscope proxy --backend [options]

Forwards every byte between WebSocket clients and the target, unchanged, and shows the
HTTP upgrade and every frame, decoded field by field.

${proxyOptionsText('127.0.0.1:0')}`;

interface LiveOptions {
  listen: { host: string; port: number };
  target?: string;
  backend: boolean;
  backendListen: { host: string; port: number };
  /** The built-in backend accepts permessage-deflate (`wsscope backend --deflate`). */
  deflate: boolean;
  ui: 'tui' | 'text' | 'json';
  save?: string;
  pcap?: string;
  har?: string;
  maxPayload?: number;
  /** --protocol NAME (src/protocols). */
  protocol?: string;
  insecure: boolean;
  upstreamTimeout?: number;
  upstreamCa?: Buffer;
  cert?: string;
  key?: string;
  allowHosts: string[];
  allowForward: boolean;
  passthrough: string[];
  verbose: boolean;
  /** --script FILE: the hooks module. */
  script?: string;
  maxMessageSize?: number;
  /** Print the demo page URL (start.ts). */
  announceDemo?: boolean;
}

/** The options shared by `wsscope proxy` and `wsscope` (start). */
const LIVE_ARG_OPTIONS = {
  listen: { type: 'string' },
  target: { type: 'string' },
  backend: { type: 'boolean' },
  'backend-listen': { type: 'string' },
  deflate: { type: 'boolean' },
  ui: { type: 'string' },
  save: { type: 'string' },
  pcap: { type: 'string' },
  har: { type: 'string' },
  'max-payload': { type: 'string' },
  protocol: { type: 'string' },
  insecure: { type: 'boolean' },
  'upstream-timeout': { type: 'string' },
  'upstream-ca': { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'allow-host': { type: 'string', multiple: true },
  'allow-forward': { type: 'boolean' },
  passthrough: { type: 'string', multiple: true },
  verbose: { type: 'boolean', short: 'v' },
  script: { type: 'string' },
  'max-message-size': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface LiveDefaults {
  /** `wsscope` (start): always the built-in backend, on 127.0.0.1:8080, no --target. */
  start: boolean;
}

function parseLiveArgs(argv: string[], defaults: LiveDefaults): LiveOptions | 'help' {
  const { values, positionals } = parseArgs({ args: argv, options: LIVE_ARG_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return 'help';
  if (positionals.length) throw new CliError(`unexpected argument "${positionals[0]}" (try --help)`);
  if (defaults.start && values.target !== undefined) throw new CliError('wsscope with no command runs the built-in backend; use `wsscope proxy --target URL` for another server');
  const backend = defaults.start || (values.backend ?? false);
  if (values.target === undefined && !backend) throw new CliError('--target ws://HOST:PORT[/path] is required (or --backend for the built-in one)');
  if (values.target !== undefined && values.backend) throw new CliError('give either --target or --backend, not both');
  if (values.deflate && !backend) throw new CliError('--deflate is for the built-in backend: add --backend (the --target server decides its own extensions)');
  if (values.target !== undefined) {
    try {
      parseTarget(values.target);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  const ui = parseChoice('--ui', values.ui ?? (process.stdout.isTTY ? 'tui' : 'text'), ['tui', 'text', 'json'] as const);
  return {
    listen: parseHostPort(values.listen ?? '127.0.0.1:9000'),
    target: values.target,
    backend,
    backendListen: parseHostPort(values['backend-listen'] ?? (defaults.start ? '127.0.0.1:8080' : '127.0.0.1:0')),
    deflate: values.deflate ?? false,
    ui,
    save: values.save,
    pcap: values.pcap,
    har: values.har,
    maxPayload: values['max-payload'] === undefined ? undefined : parseMaxPayload(values['max-payload']),
    protocol: parseProtocol(values.protocol),
    insecure: values.insecure ?? false,
    upstreamCa: values['upstream-ca'] === undefined ? undefined : readPemFile('--upstream-ca', values['upstream-ca']),
    ...certAndKey(values.cert, values.key),
    allowHosts: hostPatterns('--allow-host', values['allow-host']),
    allowForward: values['allow-forward'] ?? false,
    passthrough: hostPatterns('--passthrough', values.passthrough),
    upstreamTimeout: values['upstream-timeout'] === undefined ? undefined : parseMilliseconds('--upstream-timeout', values['upstream-timeout']),
    verbose: values.verbose ?? false,
    script: values.script,
    maxMessageSize: values['max-message-size'] === undefined ? undefined : parseWholeNumber('--max-message-size', values['max-message-size'], { min: 1, what: 'a number of bytes' }),
    announceDemo: backend,
  };
}

/** A PEM file's bytes; a one-line CliError when it cannot be read or holds no PEM block. */
function readPemFile(flag: string, file: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new CliError(`cannot read ${flag} "${file}": ${describeError(err)}`);
  }
  if (!bytes.includes('-----BEGIN ')) throw new CliError(`${flag} "${file}" is not a PEM file (-----BEGIN CERTIFICATE----- ...)`);
  return bytes;
}

function certAndKey(cert: string | undefined, key: string | undefined): { cert?: string; key?: string } {
  if ((cert === undefined) !== (key === undefined)) throw new CliError('--cert FILE and --key FILE go together');
  if (cert !== undefined) readPemFile('--cert', cert);
  if (key !== undefined) readPemFile('--key', key);
  return cert === undefined ? {} : { cert, key };
}

function hostPatterns(flag: string, values: string[] | undefined): string[] {
  for (const v of values ?? []) {
    try {
      parseHostPattern(v, flag);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  return values ?? [];
}

interface BackendHandle {
  address: string;
  port: number;
  close(): Promise<void>;
}

function loadBackend(): (o: { host?: string; port?: number; deflate?: boolean }) => Promise<BackendHandle> {
  try {
    return require('../backend').startBackend;
  } catch (err) {
    throw new CliError(`the built-in backend is not available: ${describeError(err)}`, 1);
  }
}

function openOutput<T>(what: string, path: string, open: (p: string) => T): T {
  try {
    return open(path);
  } catch (err) {
    throw new CliError(`cannot write ${what} "${path}": ${describeError(err)}`, 1);
  }
}

/** A port already taken (another wsscope, a dev server on 8080): say which option moves us. */
function inUseHint(message: string, option: string): string {
  return /already in use/.test(message) ? `${message}; ${option} H:P picks another (port 0: any free one)` : message;
}

interface TuiModule {
  TUI_AVAILABLE: boolean;
  runTui: (s: Session, o: { defaultCapturePath?: string; maxPayload?: number; hold?: HoldQueue }) => Promise<void>;
}

/**
 * The output `--ui` asked for, with the terminal UI's module when that is the terminal UI;
 * the text log instead when the TUI cannot run (blessed missing, stdout not a terminal).
 */
export function loadUi(ui: 'tui' | 'text' | 'json'): { ui: 'tui' | 'text' | 'json'; tui?: TuiModule } {
  if (ui !== 'tui') return { ui };
  const tui: TuiModule = require('../tui');
  return tui.TUI_AVAILABLE && process.stdout.isTTY ? { ui, tui } : { ui: 'text' };
}

/** Resolves on SIGINT/SIGTERM (or when `also` resolves). */
function untilStopped(also?: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
    also?.then(done, done);
  });
}

/** Runs backend (optional) + proxy + outputs until SIGINT/SIGTERM or the TUI quits. */
async function runLive(options: LiveOptions): Promise<number> {
  const session = new Session();
  const gate = new OutputGate();
  const stops: (() => Promise<void>)[] = [];
  const say = (line: string) => process.stderr.write(`wsscope: ${line}\n`);
  let stdoutBroken: () => void = () => undefined;
  const stdoutGone = new Promise<void>((resolve) => (stdoutBroken = resolve));
  let outputFailed = false;
  // `wsscope proxy | head` closes stdout: stop quietly instead of crashing on EPIPE.
  process.stdout.on('error', () => stdoutBroken());

  try {
    // The hooks first: a missing file or a syntax error ends here, before anything listens.
    let hooks: Decider | undefined;
    if (options.script !== undefined) {
      try {
        hooks = await loadHooks(options.script);
      } catch (err) {
        throw new CliError(err instanceof HooksError ? err.message : `hooks file ${options.script}: ${describeError(err)}`, 2);
      }
    }
    const capture = options.save ? openOutput('capture file', options.save, (p) => new CaptureWriter(p)) : undefined;
    const pcap = options.pcap ? openOutput('pcap file', options.pcap, (p) => new PcapWriter(p)) : undefined;
    if (capture) {
      capture.attach(session);
      gate.add(capture.stream);
      stops.push(() => capture.close());
    }
    if (pcap) {
      pcap.attach(session);
      gate.add(pcap.stream);
      stops.push(() => pcap.close());
    }

    const { ui, tui } = loadUi(options.ui);
    // The text log and the NDJSON are decoded and written by a worker thread, so that
    // producing them never slows the relay down (see views/offthread.ts); the TUI needs
    // the events in this thread.
    let decodeHere = true;
    if (ui === 'json' || ui === 'text') {
      const output = new OffThreadOutput({ ui, fd: 1, verbose: options.verbose, maxPayload: options.maxPayload, protocol: options.protocol }).attach(session);
      output.onFailure = (message) => {
        // EPIPE: stdout was closed (`| head`): stop quietly; anything else is worth a line.
        if (!/EPIPE/.test(message)) {
          say(`cannot write the ${ui === 'json' ? 'NDJSON' : 'text log'}: ${message}`);
          outputFailed = true;
        }
        stdoutBroken();
      };
      gate.addGate(output);
      decodeHere = false;
      // Runs after the proxy closed (its end events are in).
      stops.push(() => output.close());
    }
    if (options.har) {
      // Decoded here too when the other outputs are decoded by the worker (decodeHere false).
      const har = openOutput('HAR file', options.har, (p) => new HarWriter(p)).attach(session, decodeHere);
      stops.push(() => har.close());
    }

    let target = options.target;
    if (options.backend) {
      const startBackend = loadBackend();
      let backend: BackendHandle;
      try {
        backend = await startBackend({ host: options.backendListen.host, port: options.backendListen.port, deflate: options.deflate });
      } catch (err) {
        throw new CliError(`cannot start the built-in backend: ${inUseHint(describeError(err), '--backend-listen')}`, 1);
      }
      stops.splice(0, 0, () => backend.close());
      session.info.backend = backend.address;
      target = `ws://${reachableAddress(backend.address)}/json`;
    }

    // The terminal UI can hold, edit, drop and inject frames: its HoldQueue is a decider too.
    const hold = tui ? new HoldQueue() : undefined;
    const deciders: Decider[] = [...(hooks ? [hooks] : []), ...(hold ? [hold.decider] : [])];
    let proxy: ProxyHandle;
    try {
      proxy = await startProxy({
        listen: options.listen,
        target: target!,
        session,
        maxPayload: options.maxPayload,
        protocol: options.protocol,
        insecure: options.insecure,
        upstreamTimeout: options.upstreamTimeout,
        ca: options.upstreamCa,
        cert: options.cert,
        key: options.key,
        allowHosts: options.allowHosts,
        allowForward: options.allowForward,
        passthrough: options.passthrough,
        gate,
        decode: decodeHere,
        intercept: deciders.length
          ? {
              deciders,
              // The terminal UI alone: no stage until its intercept filter is first set.
              onDemand: !hooks,
              maxMessageSize: options.maxMessageSize,
              onConnection: hold ? (conn, stage) => hold.register(conn, stage) : undefined,
              onConnectionEnd: hold ? (conn) => hold.unregister(conn) : undefined,
            }
          : undefined,
      });
    } catch (err) {
      throw new CliError(inUseHint(describeError(err), '--listen'), 1);
    }
    stops.unshift(() => proxy.close());
    if (hold) hold.onIntercept = () => proxy.intercept();
    const proxyAddress = session.info.proxy!;
    if (ui !== 'text') say(`proxy listening on ${proxyAddress}, forwarding to ${session.info.target}`);
    // Where to point a browser: on 0.0.0.0 or ::, the loopback address (reachableAddress).
    if (options.announceDemo) say(`open the demo page through the proxy: http://${reachableAddress(proxyAddress)}/`);

    let tuiDone: Promise<void> | undefined;
    let tuiError: unknown;
    if (tui) tuiDone = tui.runTui(session, { defaultCapturePath: options.save, maxPayload: options.maxPayload, hold }).catch((err) => void (tuiError = err));
    await untilStopped(tuiDone ? Promise.race([tuiDone, stdoutGone]) : stdoutGone);
    if (tuiError !== undefined) throw new CliError(`the terminal UI failed: ${describeError(tuiError)}`, 1);
    return outputFailed ? 1 : 0;
  } finally {
    // Listeners first (each connection gets its end event), then backend, then files.
    for (const stop of stops) {
      try {
        await stop();
      } catch (err) {
        say(`while stopping: ${describeError(err)}`);
      }
    }
  }
}

/** `wsscope proxy` and `wsscope` (start.ts): --help prints `usage`, otherwise runs live. */
export async function runLiveCommand(argv: string[], defaults: LiveDefaults, usage: string): Promise<number> {
  const options = parseLiveArgs(argv, defaults);
  if (options === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  return runLive(options);
}

export function run(argv: string[]): Promise<number> {
  return runLiveCommand(argv, { start: false }, PROXY_USAGE);
}
