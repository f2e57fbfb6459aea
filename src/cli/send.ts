/**
 * `wsscope send --url ws://H:P/path --hex "..."`: handshake, the given raw bytes as they
 * are, then the server's answer decoded. See src/teach/send.ts.
 */
import * as fs from 'fs';
import { parseArgs } from 'util';
import { DEFAULT_MAX_PAYLOAD } from '../decoder';
import { parseHex } from '../decoder/build';
import { ClientError, parseWsUrl } from '../teach/client';
import { runSend } from '../teach/send';
import { stdoutWriter } from './decode';
import { CliError, parseChoice, parseMaxPayload, parseMilliseconds } from './errors';

const HELP = `usage: wsscope send --url ws[s]://HOST:PORT/PATH [--hex "81 85 ..."]... [--file F] [-] [OPTIONS]

Performs the WebSocket handshake (random key, checks the accept), then writes the given
bytes exactly as given: no masking or framing is added, so give final frame bytes (e.g.
from \`wsscope encode --mask random --ui hex\`). Then prints, decoded, what the server
answers until it closes the connection or stays silent for --timeout ms. It never
answers on its own (no pong to a ping, no close to a close): what you give is all it sends.

  --url URL          the server, e.g. ws://127.0.0.1:8080/json
  --hex HEX          bytes as hex ("81 05 48 65 6c 6c 6f", separators allowed); repeatable,
                     each one is written separately
  --file F           bytes from a file: hex text if it is hex, else the raw bytes
  -                  bytes from stdin, like --file
  --timeout MS       give up after MS ms without data (and for the handshake); default 2000
  --ui text|json     a readable log (default) or NDJSON events
  --max-payload N    payload bytes shown per frame/message (default 65536)
  --key BASE64       Sec-WebSocket-Key to send instead of a random one
                     (RFC 6455's example: dGhlIHNhbXBsZSBub25jZQ==)
  --deflate          offer permessage-deflate (RFC 7692)
  --extensions X     offer this Sec-WebSocket-Extensions value
  --insecure         wss: accept any certificate
  -v, --verbose      all handshake headers, and every frame header bit by bit
`;

/** Reads hex text if the content is hex, else takes the bytes as they are. */
function bytesFromContent(content: Buffer): Buffer {
  const asText = content.toString('latin1');
  if (/^[\s0-9a-fA-Fx,:\-]*$/.test(asText) && asText.trim() !== '') {
    const hex = parseHex(asText);
    if (hex) return hex;
  }
  return content;
}

async function readStdin(): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of process.stdin) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      hex: { type: 'string', multiple: true },
      file: { type: 'string' },
      timeout: { type: 'string', default: '2000' },
      ui: { type: 'string', default: 'text' },
      key: { type: 'string' },
      deflate: { type: 'boolean', default: false },
      extensions: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      'max-payload': { type: 'string', default: String(DEFAULT_MAX_PAYLOAD) },
      verbose: { type: 'boolean', short: 'v', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.url) throw new CliError('send needs --url ws://HOST:PORT/PATH (see wsscope send --help)');
  const extra = positionals.filter((p) => p !== '-');
  if (extra.length) throw new CliError(`unexpected argument "${extra[0]}" (bytes go in --hex, --file or - for stdin)`);
  const ui = parseChoice('--ui', values.ui, ['text', 'json'] as const);
  const timeoutMs = parseMilliseconds('--timeout', values.timeout);
  const maxPayload = parseMaxPayload(values['max-payload']);
  if (values.key !== undefined && !/^[A-Za-z0-9+/]{22}==$/.test(values.key)) {
    // §4.1: the key is the base64 of 16 bytes, so 22 characters and "==".
    throw new CliError(`bad --key "${values.key}": expected the base64 of 16 bytes, e.g. dGhlIHNhbXBsZSBub25jZQ==`);
  }

  const chunks: Buffer[] = [];
  for (const hex of values.hex ?? []) {
    const bytes = parseHex(hex);
    if (!bytes) throw new CliError(`bad hex "${hex}": expected pairs of hex digits, e.g. "81 05 48 65 6c 6c 6f"`);
    if (bytes.length) chunks.push(bytes);
  }
  if (values.file !== undefined) {
    let content: Buffer;
    try {
      content = fs.readFileSync(values.file);
    } catch (err) {
      throw new CliError(`cannot read ${values.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    chunks.push(bytesFromContent(content));
  }
  if (positionals.includes('-')) chunks.push(bytesFromContent(await readStdin()));

  let url;
  try {
    url = parseWsUrl(values.url);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  // `wsscope send ... | head` closes stdout: stop quietly instead of crashing on EPIPE.
  const write = stdoutWriter();
  const extensions = values.extensions ?? (values.deflate ? 'permessage-deflate; client_max_window_bits' : undefined);
  try {
    await runSend(
      {
        url,
        chunks,
        timeoutMs,
        ui,
        verbose: values.verbose,
        key: values.key,
        extensions,
        insecure: values.insecure,
        maxPayload,
      },
      (line) => write(line + '\n'),
    );
  } catch (err) {
    if (err instanceof ClientError) throw new CliError(err.message, 1);
    throw err;
  }
  return 0;
}
