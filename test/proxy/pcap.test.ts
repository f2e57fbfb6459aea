/** The pcap writer's bytes: pcap header, Ethernet/IPv4/TCP fields, sequence numbers, checksums. */
import { MAX_SEGMENT, PcapBuilder, pcapHeader } from '../../src/views/pcap';

interface Packet {
  ts: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: string;
  payload: Buffer;
  ipOk: boolean;
  tcpOk: boolean;
}

/** RFC 1071: the ones' complement sum over data including its checksum field is 0xffff. */
function sumOk(...parts: Buffer[]): boolean {
  const data = Buffer.concat(parts);
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) sum += (data[i] << 8) | (i + 1 < data.length ? data[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

function parse(record: Buffer): Packet {
  const ts = record.readUInt32LE(0) * 1000 + record.readUInt32LE(4) / 1000;
  expect(record.readUInt32LE(8)).toBe(record.length - 16);
  expect(record.readUInt32LE(12)).toBe(record.length - 16);
  const eth = record.subarray(16);
  expect(eth.readUInt16BE(12)).toBe(0x0800);
  const ip = eth.subarray(14, 34);
  expect(ip[0]).toBe(0x45);
  expect(ip[9]).toBe(6);
  expect(ip.readUInt16BE(2)).toBe(eth.length - 14);
  const tcp = eth.subarray(34, 54);
  const payload = eth.subarray(54);
  const pseudo = Buffer.concat([ip.subarray(12, 20), Buffer.from([0, 6]), Buffer.from([(20 + payload.length) >> 8, (20 + payload.length) & 0xff])]);
  const f = tcp[13];
  const flags = [f & 2 ? 'SYN' : '', f & 1 ? 'FIN' : '', f & 4 ? 'RST' : '', f & 8 ? 'PSH' : '', f & 16 ? 'ACK' : ''].filter(Boolean).join('|');
  return {
    ts,
    src: [...ip.subarray(12, 16)].join('.'),
    dst: [...ip.subarray(16, 20)].join('.'),
    sport: tcp.readUInt16BE(0),
    dport: tcp.readUInt16BE(2),
    seq: tcp.readUInt32BE(4),
    ack: tcp.readUInt32BE(8),
    flags,
    payload,
    ipOk: sumOk(ip),
    tcpOk: sumOk(pseudo, tcp, payload),
  };
}

test('the pcap header: classic pcap, microseconds, LINKTYPE_ETHERNET', () => {
  expect(pcapHeader().toString('hex')).toBe('d4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '01000000');
});

test('a connection: handshake, data split at 65495 bytes with running seq/ack, FINs; checksums valid', () => {
  const b = new PcapBuilder();
  const big = Buffer.alloc(MAX_SEGMENT + 10, 0x61);
  const packets = [
    ...b.open(258, 1000.5, 51000),
    ...b.data(258, 'client', 1001, Buffer.from('GET / HTTP/1.1\r\n\r\n')),
    ...b.data(258, 'server', 1002.25, big),
    ...b.end(258, 1003),
  ].map(parse);
  const C = '10.0.1.2';
  const S = '10.255.255.254';
  expect(packets.map((p) => [p.src, p.sport, p.dst, p.dport, p.flags, p.seq, p.ack, p.payload.length])).toEqual([
    [C, 51000, S, 80, 'SYN', 1000, 0, 0],
    [S, 80, C, 51000, 'SYN|ACK', 5000, 1001, 0],
    [C, 51000, S, 80, 'ACK', 1001, 5001, 0],
    [C, 51000, S, 80, 'PSH|ACK', 1001, 5001, 18],
    [S, 80, C, 51000, 'PSH|ACK', 5001, 1019, MAX_SEGMENT],
    [S, 80, C, 51000, 'PSH|ACK', 5001 + MAX_SEGMENT, 1019, 10],
    [C, 51000, S, 80, 'FIN|ACK', 1019, 5001 + MAX_SEGMENT + 10, 0],
    [S, 80, C, 51000, 'FIN|ACK', 5001 + MAX_SEGMENT + 10, 1020, 0],
    [C, 51000, S, 80, 'ACK', 1020, 5001 + MAX_SEGMENT + 11, 0],
  ]);
  expect(packets.every((p) => p.ipOk && p.tcpOk)).toBe(true);
  expect(packets[4].ts).toBeCloseTo(1002.25, 3);
  expect(Buffer.concat([packets[4].payload, packets[5].payload]).equals(big)).toBe(true);
});

test('a reset connection ends with an RST; a client on port 80 gets another port', () => {
  const b = new PcapBuilder();
  const packets = [...b.open(1, 0, 80), ...b.end(1, 1, true)].map(parse);
  expect(packets[0].sport).not.toBe(80);
  expect(packets.map((p) => p.flags)).toEqual(['SYN', 'SYN|ACK', 'ACK', 'RST|ACK']);
  expect(b.end(1, 2)).toEqual([]); // ends once
});
