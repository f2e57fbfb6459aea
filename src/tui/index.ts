/**
 * The terminal UI's entry point: `runTui(session)` shows the session live (connections,
 * frames, every bit of each frame) until the user quits with q or Ctrl-C, then restores
 * the terminal. The UI is a view of the session's events only (src/tui/store.ts is its
 * bounded model); blessed is loaded lazily, when the UI actually starts.
 */
import type { Session } from '../session';
import type { HoldQueue } from './hold';

export interface TuiOptions {
  /** Where `s` saves a capture by default (the user may type another name). */
  defaultCapturePath?: string;
  maxPayload?: number;
  /** Intercepting (live only): the held frames and the connections' stages. */
  hold?: HoldQueue;
}

/** True once the real UI exists; callers fall back to the text log while false. */
export const TUI_AVAILABLE: boolean = true;

/**
 * Shows the session live until the user quits (q or Ctrl-C); resolves after the terminal
 * is restored. The caller then closes its sources.
 */
export async function runTui(session: Session, options: TuiOptions = {}): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runApp } = require('./app') as typeof import('./app');
  await runApp(session, { defaultCapturePath: options.defaultCapturePath, maxPayload: options.maxPayload, hold: options.hold });
}
