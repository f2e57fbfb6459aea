/**
 * Builds the hand-made packet captures of samples/import/ byte by byte (fixed addresses,
 * sequence numbers, masking keys and times), from test/import/build.ts. Run:
 *   npx ts-node --transpile-only samples/import/generate.ts
 * then `UPDATE_GOLDEN=1 npx jest test/import/samples.test.ts` for the goldens.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildFrame } from '../../src/decoder/build';
import { clientText, Conversation, LINK, linkFrame, pcapFile, pcapngFile, serverText, upgradeRequest, upgradeResponse } from '../../test/import/build';

const binary = buildFrame({ opcode: 2, payload: Buffer.from([0xca, 0xfe]), mask: Buffer.from('a1b2c3d4', 'hex') });
const close = buildFrame({ opcode: 8, payload: Buffer.from([0x03, 0xe8]), mask: Buffer.from('0f0f0f0f', 'hex') });
const closeEcho = buildFrame({ opcode: 8, payload: Buffer.from([0x03, 0xe8]) });

function plain(conv: Conversation): Conversation {
  conv.handshake().send('client', upgradeRequest()).send('server', upgradeResponse());
  conv.send('client', clientText('Ann')).send('server', serverText('{"name":"Ann","age":18}\n'));
  return conv.send('client', binary).send('client', close).send('server', closeEcho).close();
}

export const IMPORT_SAMPLES: { name: string; description: string; build: () => Buffer }[] = [
  {
    name: 'sll-ipv4.pcap',
    description: 'Linux cooked v1 (tcpdump -i any), IPv4, pcap little-endian µs: a text, its answer, a binary message, close',
    build: () => pcapFile(plain(new Conversation()).packets, { linkType: LINK.SLL }),
  },
  {
    name: 'sll2-ipv6.pcap',
    description: 'Linux cooked v2, IPv6 (::1), pcap big-endian with nanosecond timestamps: the same session',
    build: () => pcapFile(plain(new Conversation({ ip: '::1', port: 40000 }, { ip: '::1', port: 8080 })).packets, { linkType: LINK.SLL2, bigEndian: true, nanos: true }),
  },
  {
    name: 'bsd-loopback.pcap',
    description: 'BSD loopback (macOS lo0: the address family in the writer\'s byte order, AF_INET6 = 30), IPv6, on port 31337 (found by its upgrade, not its port)',
    build: () => pcapFile(plain(new Conversation({ ip: '::1', port: 50123 }, { ip: '::1', port: 31337 })).packets, { linkType: LINK.NULL, frame: (ip) => linkFrame(LINK.NULL, ip, { nullFamily6: 30 }) }),
  },
  {
    name: 'sections-vlan.pcapng',
    description: 'pcapng: a raw-IP interface with nanosecond resolution, then a second (big-endian) section whose interface is Ethernet with an 802.1Q VLAN tag; name resolution and statistics blocks skipped',
    build: () => {
      const pkts = plain(new Conversation({ ip: '192.168.7.2', port: 41000 }, { ip: '192.168.7.1', port: 80 })).packets;
      const half = 6;
      return Buffer.concat([
        pcapngFile([{ interfaces: [{ linkType: LINK.RAW, tsresol: 9 }], packets: pkts.slice(0, half), extraBlocks: true }]),
        pcapngFile([{ bigEndian: true, interfaces: [{ linkType: LINK.ETHERNET, vlan: [42] }], packets: pkts.slice(half) }]),
      ]);
    },
  },
  {
    name: 'retransmit-reorder.pcap',
    description: 'Ethernet: the upgrade request in segments out of order, retransmitted and overlapping; the client\'s frames later bytes first; decodes as the clean session',
    build: () => {
      const c = new Conversation().handshake();
      const req = upgradeRequest();
      const res = upgradeResponse();
      c.at('client', 0, req.subarray(0, 40)).at('client', 60, req.subarray(60)).at('client', 0, req.subarray(0, 40)).at('client', 30, req.subarray(30, 70));
      c.at('server', 0, res);
      const frames = Buffer.concat([clientText('Ann'), binary]);
      c.at('client', req.length + 5, frames.subarray(5)).at('client', req.length, frames.subarray(0, 7)).at('client', req.length, frames.subarray(0, 7));
      c.send('server', serverText('{"name":"Ann","age":18}\n'));
      return pcapFile(c.close().packets);
    },
  },
  {
    name: 'gap.pcap',
    description: 'Ethernet: the client\'s second frame was never captured but the server acknowledged it: its first frame, then an error event naming the 8 missing bytes, and nothing more of the client; the server\'s side in full',
    build: () => {
      const c = new Conversation().handshake();
      const req = upgradeRequest();
      c.send('client', req).send('server', upgradeResponse()).send('client', clientText('Ann'));
      const lost = binary; // 8 bytes: 2 header + 4 key + 2 payload
      const after = req.length + clientText('Ann').length + lost.length;
      c.at('client', after, clientText('Bob'));
      c.send('server', serverText('{"name":"Ann","age":18}\n'), { ack: c.seq('client', after + clientText('Bob').length) });
      return pcapFile(c.close().packets);
    },
  },
];

if (require.main === module) {
  for (const s of IMPORT_SAMPLES) fs.writeFileSync(path.join(__dirname, s.name), s.build());
  process.stdout.write(`wrote ${IMPORT_SAMPLES.length} samples to ${__dirname}\n`);
}
