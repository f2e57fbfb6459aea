/**
 * Fuzzing the capture readers: random bytes behind a valid magic, and mutations of valid
 * pcap, pcapng and HAR files. Each must either give events or throw an ImportFormatError
 * (one line) — never another exception — and the output stays bounded.
 */
import type { WsEvent } from '../../src/decoder';
import { ImportFormatError, replayImport, sniffImport } from '../../src/import';
import { prng } from '../decoder/helpers';
import { clientText, Conversation, LINK, pcapFile, pcapngFile, serverText, upgradeRequest, upgradeResponse } from './build';
import { chromeStyleHar } from './har-samples';

function session(): Conversation {
  const c = new Conversation().handshake().send('client', upgradeRequest()).send('server', upgradeResponse());
  c.send('client', clientText('hello')).send('server', serverText('world')).at('client', 200, clientText('late'));
  return c.close();
}

async function run(file: Buffer): Promise<WsEvent[]> {
  const kind = sniffImport(file);
  if (!kind) return [];
  const events: WsEvent[] = [];
  await replayImport([file], kind, (e) => events.push(e), { source: 'fuzz' });
  return events;
}

describe('fuzz: the readers never throw anything but a one-line format error', () => {
  test('2,500 random and mutated files', async () => {
    const rand = prng(4242);
    const int = (n: number) => Math.floor(rand() * n);
    const pkts = session().packets;
    const seeds = [
      pcapFile(pkts),
      pcapFile(pkts, { bigEndian: true, nanos: true, linkType: LINK.SLL2 }),
      pcapngFile([{ interfaces: [{ linkType: LINK.ETHERNET }, { linkType: LINK.NULL, tsresol: 9 }], packets: pkts.map((p, i) => ({ ...p, iface: i % 2, simple: i === 3 })), extraBlocks: true }]),
      Buffer.from(JSON.stringify(chromeStyleHar())),
    ];
    let events = 0;
    for (let n = 0; n < 2500; n++) {
      const seed = seeds[int(seeds.length)];
      let bytes: Buffer;
      if (n % 5 === 0) {
        // Random bytes behind a real header.
        bytes = Buffer.concat([seed.subarray(0, 24 + int(40)), Buffer.from(Array.from({ length: int(400) }, () => int(256)))]);
      } else {
        bytes = Buffer.from(seed);
        for (let e = 1 + int(6); e > 0; e--) {
          const at = int(bytes.length);
          const what = int(4);
          if (what === 0) bytes[at] ^= 1 << int(8);
          else if (what === 1) bytes[at] = int(256);
          else if (what === 2) bytes = bytes.subarray(0, Math.max(4, at));
          else bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([int(256), int(256), int(256), int(256)]), bytes.subarray(at)]);
        }
      }
      try {
        const out = await run(bytes);
        events += out.length;
        for (const e of out) expect(typeof e.event).toBe('string');
      } catch (err) {
        if (!(err instanceof ImportFormatError)) throw new Error(`input ${n} (${bytes.toString('hex').slice(0, 120)}...) threw ${(err as Error).stack}`);
        expect((err as Error).message).not.toContain('\n');
      }
    }
    expect(events).toBeGreaterThan(600); // most mutations still hold connections to decode
  });
});
