/**
 * The `wsscope` command line: one module per command in this folder, each exporting
 * `run(argv)`. Commands are loaded lazily so that `wsscope decode` does not pay for
 * loading blessed.
 */
import { CliError, oneLine } from './errors';

export type CommandRun = (argv: string[]) => Promise<number | void> | number | void;

const COMMANDS: Record<string, { summary: string; load: () => CommandRun }> = {
  proxy: { summary: 'the man-in-the-middle proxy', load: () => require('./proxy').run },
  backend: { summary: 'the built-in User-JSON echo backend', load: () => require('./backend').run },
  decode: { summary: 'decode raw frame bytes or a capture file', load: () => require('./decode').run },
  replay: { summary: 'open a saved capture as if live, or replay it against a live server (--to)', load: () => require('./replay').run },
  serve: { summary: 'a mock WebSocket server that plays a capture\'s server side', load: () => require('./serve').run },
  demo: { summary: 'a scripted client that sends one of each kind of frame', load: () => require('./demo').run },
  encode: { summary: 'build a frame, valid or not, and explain it', load: () => require('./encode').run },
  send: { summary: 'send raw frame bytes to a server and decode its answer', load: () => require('./send').run },
  ca: { summary: 'the local CA for TLS interception: where it is, how to trust it', load: () => require('./ca').run },
};

export const USAGE = `usage: wsscope [COMMAND] [OPTIONS]

With no command: the built-in backend on 127.0.0.1:8080, the proxy on 127.0.0.1:9000
forwarding to it, and the terminal UI (a text log when stdout is not a terminal).

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}

Run \`wsscope COMMAND --help\` for a command's options.
`;

export async function main(argv: string[]): Promise<void> {
  try {
    const [first, ...rest] = argv;
    let code: number | void;
    if (first === '--help' || first === '-h' || first === 'help') {
      process.stdout.write(USAGE);
      code = 0;
    } else if (first === undefined || first.startsWith('-')) {
      code = await (require('./start').run as CommandRun)(argv);
    } else {
      const command = COMMANDS[first];
      if (!command) throw new CliError(`unknown command "${first}" (try wsscope --help)`);
      code = await command.load()(rest);
    }
    if (typeof code === 'number') process.exitCode = code;
  } catch (err) {
    const isUserError = err instanceof CliError || (err as { code?: string })?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
      || String((err as { code?: string })?.code ?? '').startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`wsscope: ${isUserError ? userMessage(err, argv) : oneLine(err)}\n`);
    if (!isUserError && process.env.WSSCOPE_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : isUserError ? 2 : 1;
  }
}

/**
 * Node's parseArgs advice fits a script that meant a dash-led positional argument; a
 * person at the prompt usually made a typo or forgot a value: say that, and where help is.
 */
function userMessage(err: unknown, argv: string[]): string {
  const code = (err as { code?: string })?.code;
  const text = oneLine(err);
  const command = argv[0] && COMMANDS[argv[0]] ? `wsscope ${argv[0]}` : 'wsscope';
  const unknown = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /^Unknown option '([^']+)'/.exec(text) : null;
  if (unknown) return `Unknown option '${unknown[1]}' (try ${command} --help)`;
  const ambiguous = code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? /^Option '([^' ]+)' argument is ambiguous/.exec(text) : null;
  if (ambiguous) return `${ambiguous[1]} needs a value; a value starting with "-" is written ${ambiguous[1]}=-N`;
  return text;
}
