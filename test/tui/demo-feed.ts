/**
 * A demo for looking at the UI without the proxy: publishes a scripted conversation
 * (handshake, text both ways, a fragmented message with a ping in between, a hostile
 * payload, a binary frame, a 16-bit and a 64-bit length, a close) into a Session, then
 * optionally a steady stream. Run: npx ts-node --transpile-only test/tui/demo-feed.ts [RATE]
 */
import { Session } from '../../src/session';
import { runTui } from '../../src/tui';
import { frame, handshake, message, open } from './fixtures';

export function publishDemo(session: Session, conn = 1, t = Date.now()): void {
  const s = session;
  let ci = 0;
  let si = 0;
  const c = (spec: Parameters<typeof frame>[0], extra = {}) => s.publish(frame(spec, { conn, dir: 'client', index: ci++, ts: (t += 3), ...extra }));
  const sv = (spec: Parameters<typeof frame>[0], extra = {}) => s.publish(frame(spec, { conn, dir: 'server', index: si++, ts: (t += 3), ...extra }));
  s.publish(open(conn, t));
  s.publish(handshake(conn, (t += 2)));
  c({ opcode: 1, payload: 'Hello' });
  s.publish(message(conn, 'client', 'Hello', 1, t));
  const json = '{"name":"Hello","age":18,"description":"Hello很厉害!!!!"}\n';
  sv({ opcode: 1, payload: json });
  s.publish(message(conn, 'server', json, 1, t));
  c({ opcode: 1, fin: false, payload: 'frag-one ' });
  c({ opcode: 9, payload: 'are you there?' });
  c({ opcode: 0, fin: false, payload: 'frag-two ' });
  c({ opcode: 0, payload: 'frag-three' });
  s.publish(message(conn, 'client', 'frag-one frag-two frag-three', 3, t));
  sv({ opcode: 10, payload: 'are you there?' });
  c({ opcode: 1, payload: '\x1b[31mRED{red-fg}X' });
  s.publish(message(conn, 'client', '\x1b[31mRED{red-fg}X', 1, t));
  c({ opcode: 2, payload: Buffer.from([0, 1, 2, 3, 0xfe, 0xff]) });
  sv({ opcode: 2, payload: Buffer.alloc(300, 0x61) });
  sv({ opcode: 1, payload: 'x'.repeat(70000) });
  sv({ opcode: 1, payload: 'tiny', lengthForm: 16 }, { violations: [{ rule: 'non-minimal-length', message: 'length 4 sent in the 16-bit form', section: 'RFC 6455 §5.2' }] });
  c({ opcode: 8, payload: Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye')]) });
  sv({ opcode: 8, payload: Buffer.from([0x03, 0xe8]) });
}

if (require.main === module) {
  const session = new Session();
  session.info = { proxy: '127.0.0.1:9000', target: 'ws://127.0.0.1:8080/json' };
  const rate = Number(process.argv[2] ?? 0);
  const ui = runTui(session);
  publishDemo(session, 1);
  let timer: NodeJS.Timeout | undefined;
  if (rate > 0) {
    session.publish(open(2));
    session.publish(handshake(2));
    let i = 0;
    timer = setInterval(() => {
      for (let k = 0; k < rate / 10; k++) {
        session.publish(frame({ opcode: 1, payload: `message ${i}` }, { conn: 2, dir: i % 2 ? 'server' : 'client', index: i, ts: Date.now() }));
        session.publishData(2, 'client', Date.now(), Buffer.alloc(20));
        i++;
      }
    }, 100);
  }
  ui.then(
    () => {
      if (timer) clearInterval(timer);
      process.stdout.write('tui closed\n');
    },
    (err) => {
      process.stderr.write(`tui failed: ${err}\n`);
      process.exit(1);
    },
  );
}
