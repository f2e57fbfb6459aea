/**
 * The NDJSON output (`--ui json`): exactly the events of DESIGN.md, one JSON object a line,
 * nothing else (human messages go to stderr).
 */
import type { Writable } from 'stream';
import type { WsEvent } from '../decoder/events';
import type { Session } from '../session';

export function eventLine(event: WsEvent): string {
  return JSON.stringify(event) + '\n';
}

/** Writes every event of a session to `out`; returns the unsubscribe function. */
export function attachJsonView(session: Session, out: Writable): () => void {
  return session.onEvent((event) => {
    out.write(eventLine(event));
  });
}
