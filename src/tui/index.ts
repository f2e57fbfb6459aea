/**
 * The terminal UI's entry point. STUB until the TUI issue (#5) lands: the signature is the
 * contract the proxy and replay commands call.
 */
import type { Session } from '../session';

export interface TuiOptions {
  /** Where `s` saves a capture by default (the user may type another name). */
  defaultCapturePath?: string;
  maxPayload?: number;
}

/** True once the real UI exists; callers fall back to the text log while false. */
export const TUI_AVAILABLE: boolean = false;

/**
 * Shows the session live until the user quits (q or Ctrl-C); resolves after the terminal
 * is restored. The caller then closes its sources.
 */
export async function runTui(session: Session, options: TuiOptions = {}): Promise<void> {
  void session;
  void options;
  throw new Error('the terminal UI is not built yet');
}
