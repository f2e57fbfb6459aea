/**
 * tmux for the terminal UI's end-to-end tests: one tmux server per test file on its own
 * socket, the CLI started in a window of a given size, the screen read with
 * `capture-pane`. Every wait polls the screen for a condition (no fixed sleeps).
 * The CLI runs dist/ (`npm run build` first, as `npm test` does).
 */
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';

const run = promisify(execFile);
export const ROOT = path.resolve(__dirname, '../..');
export const BIN = path.join(ROOT, 'bin/wsscope.js');

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `describe`, or `describe.skip` with a warning when tmux is missing (never on CI). */
export function tmuxDescribe(file: string): jest.Describe {
  const missing = !hasTmux();
  if (missing && !process.env.CI) {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED ${file}: tmux is not installed (install tmux to run the terminal UI end-to-end tests)`);
  }
  return missing && !process.env.CI ? describe.skip : describe;
}

export interface Tmux {
  tmux(...args: string[]): Promise<string>;
  screen(target: string, colours?: boolean): Promise<string>;
  waitScreen(target: string, test: (text: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** Starts the CLI in a new tmux session; the shell line after it shows how it exited. */
  start(name: string, cols: number, rows: number, env?: Record<string, string>, cli?: string): Promise<string>;
  /** The proxy's address as the status bar shows it. */
  proxyAddress(target: string): Promise<string>;
  /** Kills the tmux server and removes its socket file. */
  close(): Promise<void>;
}

export function tmuxServer(label: string): Tmux {
  const socket = `${label}-${process.pid}-${Date.now()}`;
  const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args], { encoding: 'utf8' }).then((r) => r.stdout);
  const screen = (target: string, colours = false) => tmux('capture-pane', '-p', ...(colours ? ['-e'] : []), '-t', target);
  async function waitScreen(target: string, test: (text: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      last = await screen(target);
      if (test(last)) return last;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen was:\n${last}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    tmux,
    screen,
    waitScreen,
    async start(name, cols, rows, env = {}, cli = 'proxy --listen 127.0.0.1:0 --backend --backend-listen 127.0.0.1:0 --ui tui') {
      const envArgs = Object.entries({ LANG: 'C.UTF-8', ...env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
      const command = `node "${BIN}" ${cli}; echo "WSSCOPE-EXITED $?"; exec cat`;
      const args = ['-x', String(cols), '-y', String(rows), ...envArgs, '-s', name, '-d', command];
      try {
        await tmux('new-session', ...args);
      } catch {
        // No server on this socket yet is fine for new-session; retry once if it raced.
        await tmux('new-session', ...args);
      }
      return `${name}:0.0`;
    },
    async proxyAddress(target) {
      const text = await waitScreen(target, (t) => /(127\.0\.0\.1:\d+) → ws:\/\/127\.0\.0\.1:\d+/.test(t), 'the status bar with the proxy address');
      return /(127\.0\.0\.1:\d+) → ws:/.exec(text)![1];
    },
    async close() {
      const socketPath = (await tmux('display-message', '-p', '#{socket_path}').catch(() => '')).trim();
      await tmux('kill-server').catch(() => undefined);
      // tmux leaves its socket file behind: remove ours.
      if (socketPath.endsWith(socket)) fs.rmSync(socketPath, { force: true });
    },
  };
}
