/**
 * `wsscope backend --listen H:P [--deflate] [--max-message-size BYTES]`: the built-in
 * User-JSON echo backend alone, until SIGINT/SIGTERM.
 */
import { parseArgs } from 'util';
import { DEFAULT_BACKEND_HOST, DEFAULT_BACKEND_PORT, DEFAULT_MAX_MESSAGE_SIZE, startBackend } from '../backend';
import { reachableAddress } from '../address';
import { untilStopped } from './signals';
import { CliError, parseHostPort, parseWholeNumber } from './errors';

const DEFAULT_LISTEN = `${DEFAULT_BACKEND_HOST}:${DEFAULT_BACKEND_PORT}`;

const HELP = `usage: wsscope backend [--listen HOST:PORT] [--deflate] [--max-message-size BYTES]

The built-in echo backend, a port of the Go server (gin + gorilla/websocket) in
seed/websocket-in-go.txt: ws://HOST:PORT/json answers every text message with the
User JSON the Go server sends, byte for byte; http://HOST:PORT/ is a demo page.

  --listen HOST:PORT        where to listen (default ${DEFAULT_LISTEN}; port 0 picks a free one)
  --deflate                 accept permessage-deflate (off by default, as in the original)
  --max-message-size BYTES  largest message read (default ${DEFAULT_MAX_MESSAGE_SIZE}); bigger: close 1009
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string', default: DEFAULT_LISTEN },
      deflate: { type: 'boolean', default: false },
      'max-message-size': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const { host, port } = parseHostPort(values.listen ?? DEFAULT_LISTEN);
  const maxMessageSize =
    values['max-message-size'] === undefined ? DEFAULT_MAX_MESSAGE_SIZE : parseWholeNumber('--max-message-size', values['max-message-size'], { min: 1, what: 'a number of bytes' });

  let backend;
  try {
    backend = await startBackend({
      host,
      port,
      deflate: values.deflate,
      maxMessageSize,
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (err) {
    throw new CliError((err as Error).message, 1);
  }
  const a = backend.address;
  const url = reachableAddress(a); // 0.0.0.0 / :: listen everywhere; a client dials loopback
  // One line, always the same shape: scripts read the address from it.
  process.stdout.write(`backend listening on ${a} (ws://${url}/json, demo page http://${url}/)\n`);
  if (values.deflate) process.stderr.write('permessage-deflate: accepted when the client offers it\n');

  await untilStopped();
  await backend.close();
  return 0;
}
