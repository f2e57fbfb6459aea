/**
 * `wsscope replay FILE [--ui tui|text|json]`: opens a capture file (`wsscope proxy --save`)
 * as if live. The raw bytes are re-decoded by the same ConnectionDecoder with the captured
 * timestamps, so the events are the ones the live session produced. `--pcap FILE` also writes
 * the capture's raw bytes as a pcap file, as `wsscope proxy --pcap` would have.
 */
import * as fs from 'fs';
import { parseArgs } from 'util';
import { CaptureFormatError } from '../capture';
import { replayAnyFile } from '../import';
import { describeError } from '../proxy';
import { Session } from '../session';
import { attachJsonView } from '../views/json';
import { HarWriter } from '../views/har';
import { PcapWriter } from '../views/pcap';
import { attachTextView } from '../views/text';
import { replayCapture } from '../replay/client';
import { CliError, parseChoice, parseMaxPayload, parseMilliseconds, parseProtocol } from './errors';
import { loadUi } from './proxy';

export const REPLAY_USAGE = `usage: wsscope replay FILE [--ui tui|text|json] [--max-payload N] [--protocol NAME] [--pcap OUT] [--har OUT] [-v]
       wsscope replay FILE --to ws[s]://HOST:PORT[/path] [--ignore PATH]... [--pace] [--timeout MS] [--har OUT]

Re-decodes a capture file written by \`wsscope proxy --save FILE\` and shows it as the live
session did: terminal UI (default on a terminal), text log, or NDJSON on stdout.
FILE may also be a pcap or pcapng file (tcpdump, dumpcap, Wireshark: WebSocket connections
found by their upgrade, on any port) or a HAR file saved by browser DevTools (messages
only: a HAR has no frame detail).
--pcap OUT also writes the capture as a pcap file (for Wireshark or tshark), as
\`wsscope proxy --pcap\` writes the live traffic; --har OUT writes its WebSocket connections
as a HAR 1.2 file (Chrome DevTools' form, messages only), as \`wsscope proxy --har\` does.
--protocol NAME decodes messages as this application protocol (socket.io, stomp,
json-rpc, ...) instead of detecting it.

With --to, plays the client side of each captured connection against a live server
instead (a fresh handshake with the captured headers, the client's frames in order,
masked anew, each once the answers recorded before it have come) and compares the
server's answers with the captured ones, message by message: text as text, JSON as
values (key order and spacing do not count), binary as bytes. Prints what differs;
exit 0 when nothing does, 1 when something does, 2 when it cannot run.
  --to URL           the live server; its path, or the captured one when URL has none
  --ignore PATH      leave a JSON path out of the comparison (repeatable): age,
                     user.name, items[0].ts, items[*].ts; a leading $. is allowed
  --pace             keep the recorded time between the client's frames
  --timeout MS       wait this long for each expected answer (default 5000)
  --har OUT          also write the replayed traffic as a HAR 1.2 file
  --insecure         wss: accept any certificate
`;

/** The capture must be a readable file: a one-line error (exit 2 for --to, 1 otherwise) when not. */
function checkReadable(file: string, exitCode: number): void {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    if (fs.statSync(file).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (err) {
    throw new CliError(`cannot read capture "${file}": ${describeError(err)}`, exitCode);
  }
}

/** `replay FILE --to URL`: exit 0 equal, 1 different, 2 cannot run. */
async function replayTo(file: string, values: { to?: string; ignore?: string[]; pace?: boolean; timeout?: string; har?: string; insecure?: boolean; ui?: string; pcap?: string }): Promise<number> {
  if (values.ui !== undefined || values.pcap !== undefined) throw new CliError('--ui and --pcap are for replaying a capture offline; --to compares with a live server');
  const timeoutMs = values.timeout === undefined ? undefined : parseMilliseconds('--timeout', values.timeout);
  checkReadable(file, 2);
  let report;
  try {
    report = await replayCapture(file, { to: values.to!, ignore: values.ignore, pace: values.pace, timeoutMs, har: values.har, insecure: values.insecure });
  } catch (err) {
    throw new CliError(err instanceof CaptureFormatError ? err.message : (err as Error).message, 2);
  }
  process.stdout.write(report.text);
  return report.failed ? 2 : report.equal ? 0 : 1;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ui: { type: 'string' },
      'max-payload': { type: 'string' },
      protocol: { type: 'string' },
      pcap: { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
      to: { type: 'string' },
      ignore: { type: 'string', multiple: true },
      pace: { type: 'boolean' },
      timeout: { type: 'string' },
      har: { type: 'string' },
      insecure: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(REPLAY_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new CliError('give one capture file: wsscope replay FILE');
  const file = positionals[0];
  if (values.to !== undefined) return replayTo(file, values);
  for (const flag of ['ignore', 'pace', 'timeout', 'insecure'] as const) {
    if (values[flag] !== undefined) throw new CliError(`--${flag} goes with --to URL (replaying against a live server)`);
  }
  const uiValue = parseChoice('--ui', values.ui ?? (process.stdout.isTTY ? 'tui' : 'text'), ['tui', 'text', 'json'] as const);
  const maxPayload = values['max-payload'] === undefined ? undefined : parseMaxPayload(values['max-payload']);
  const protocol = parseProtocol(values.protocol);
  checkReadable(file, 1);

  const session = new Session();
  session.info.replay = file;
  let pcap: PcapWriter | undefined;
  if (values.pcap !== undefined) {
    try {
      pcap = new PcapWriter(values.pcap).attach(session);
    } catch (err) {
      throw new CliError(`cannot write pcap file "${values.pcap}": ${describeError(err)}`, 1);
    }
  }
  // replayAnyFile publishes the decoded events, so the HAR is built from them (decoded).
  let har: HarWriter | undefined;
  if (values.har !== undefined) {
    try {
      har = new HarWriter(values.har).attach(session, true);
    } catch (err) {
      throw new CliError(`cannot write HAR file "${values.har}": ${describeError(err)}`, 1);
    }
  }
  // A HAR (messages only) is shown with a row per message (src/tui/store.ts, messageOnly).
  const { ui, tui } = loadUi(uiValue);
  let detachView: (() => void) | undefined;
  if (ui === 'json') detachView = attachJsonView(session, process.stdout);
  if (ui === 'text') {
    detachView = attachTextView(session, process.stdout, { verbose: values.verbose });
  }
  process.stdout.on('error', () => undefined); // `| head`: stop writing, never crash

  // The TUI subscribes first, then the capture streams in, as if live.
  const tuiDone = tui ? tui.runTui(session, { maxPayload }) : undefined;
  try {
    // Raw chunks are published only for the pcap writer: the TUI, subscribed to them too,
    // saves a replay by copying the capture file when it received none (src/tui/app.ts).
    const onData = pcap ? session.publishData.bind(session) : undefined;
    // A wsscope capture, pcap, pcapng or HAR: told apart by content (src/import).
    await replayAnyFile(file, (event) => session.publish(event), { maxPayload, protocol, onData });
    detachView?.();
  } catch (err) {
    const message = err instanceof CaptureFormatError ? err.message : `cannot read capture "${file}": ${describeError(err)}`;
    if (tuiDone) {
      // Written to stderr now it would land on the UI's screen and be lost: say it in the
      // UI (its message line), and on stderr once the user quits and the terminal is back.
      session.publish({ event: 'error', ts: Date.now(), message: `${message} (the replay stopped there)` });
      await tuiDone;
    }
    throw new CliError(message, 1);
  } finally {
    if (har) {
      const path = har.path;
      await har.close().catch((err) => {
        throw new CliError(`cannot write HAR file "${path}": ${describeError(err)}`, 1);
      });
    }
    // Closed after a malformed line too: what was replayed up to it is a readable pcap.
    if (pcap) {
      const path = pcap.path;
      await pcap.close().catch((err) => {
        throw new CliError(`cannot write pcap file "${path}": ${describeError(err)}`, 1);
      });
    }
  }
  if (tuiDone) await tuiDone;
  return 0;
}
