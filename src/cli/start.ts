/**
 * `wsscope` with no command (= `npm start`): the built-in backend on 127.0.0.1:8080, the
 * proxy on 127.0.0.1:9000 forwarding to ws://127.0.0.1:8080/json, and the terminal UI (the
 * text log when stdout is not a terminal). `--listen`, `--backend-listen`, `--deflate`, `--ui` and the
 * other options of `wsscope proxy` (but --target) override the defaults.
 */
import { proxyOptionsText, runLiveCommand } from './proxy';

export const START_USAGE = `usage: wsscope [--listen H:P] [--backend-listen H:P] [--deflate] [--ui tui|text|json] [options]

Starts the built-in backend (default 127.0.0.1:8080, WebSocket at /json, demo page at /)
and the proxy (default 127.0.0.1:9000) forwarding to it. Open http://127.0.0.1:9000/ to
load the demo page through the proxy. The options are those of \`wsscope proxy\`:

${proxyOptionsText('127.0.0.1:8080')}`;

export function run(argv: string[]): Promise<number> {
  return runLiveCommand(argv, { start: true }, START_USAGE);
}
