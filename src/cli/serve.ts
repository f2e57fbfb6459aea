/**
 * `wsscope serve FILE [--listen H:P] [--match order|content] [--ignore PATH]...`: a mock
 * WebSocket server from a capture (src/replay/serve.ts), until SIGINT/SIGTERM.
 */
import * as fs from 'fs';
import { parseArgs } from 'util';
import { CaptureFormatError } from '../capture';
import { describeError } from '../proxy';
import { serveCapture } from '../replay/serve';
import { untilStopped } from './signals';
import { CliError, parseChoice } from './errors';

const HELP = `usage: wsscope serve FILE [--listen HOST:PORT] [--match order|content] [--ignore PATH]...

A mock WebSocket server made from a capture (wsscope proxy --save, or any file wsscope
decode reads): each client that connects gets the recorded server side of a recorded
connection (the next one recorded for its path), each recorded answer sent once the
client's messages recorded before it have arrived. What a client sends that was not
recorded is reported on stdout. Many clients, one after another or at once.

  --listen HOST:PORT  where to listen (default 127.0.0.1:0: a free port, announced)
  --match order       a client's messages count in order, whatever they hold (default)
  --match content     only a message equal to the recorded one counts (JSON as values)
  --ignore PATH       with --match content: leave a JSON path out (repeatable)
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string', default: '127.0.0.1:0' },
      match: { type: 'string', default: 'order' },
      ignore: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new CliError('give one capture file: wsscope serve FILE');
  const file = positionals[0];
  const match = parseChoice('--match', values.match as string, ['order', 'content'] as const);
  if (values.ignore && match !== 'content') throw new CliError('--ignore goes with --match content');
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    throw new CliError(`cannot read capture "${file}": ${describeError(err)}`, 1);
  }
  let server;
  try {
    server = await serveCapture(file, { listen: values.listen, match, ignore: values.ignore, onReport: (line) => process.stdout.write(`${line}\n`) });
  } catch (err) {
    throw new CliError(err instanceof CaptureFormatError ? err.message : (err as Error).message, 1);
  }
  // One line, always the same shape: scripts read the address from it.
  process.stdout.write(`serving ${file} on ${server.url}\n`);
  await untilStopped();
  await server.close();
  return 0;
}
