import type { WsEvent } from '../src/decoder/events';
import { Session } from '../src/session';

const event: WsEvent = { event: 'error', ts: 1, message: 'x' };

describe('Session', () => {
  it('a listener that unsubscribes while an event is published does not make the next one miss it', () => {
    const session = new Session();
    const seen: string[] = [];
    const offA = session.onEvent(() => {
      seen.push('a');
      offA();
    });
    session.onEvent(() => seen.push('b'));
    session.publish(event);
    session.publish(event);
    expect(seen).toEqual(['a', 'b', 'b']);
  });

  it('wantsData follows data subscriptions', () => {
    const session = new Session();
    expect(session.wantsData).toBe(false);
    const chunks: Buffer[] = [];
    const off = session.onData((_conn, _dir, _ts, chunk) => chunks.push(chunk));
    expect(session.wantsData).toBe(true);
    session.publishData(1, 'client', 1, Buffer.from('ab'));
    off();
    expect(session.wantsData).toBe(false);
    session.publishData(1, 'client', 2, Buffer.from('cd'));
    expect(chunks.map((c) => c.toString())).toEqual(['ab']);
  });
});
