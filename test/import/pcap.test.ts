/**
 * pcap and pcapng files in (hand-built: every link type, byte order, timestamp unit and
 * block kind; retransmissions, reordering, overlaps and gaps), events out, compared with
 * what the decoder makes of the intended byte streams, and the gap events exactly.
 */
import { ConnectionDecoder, type ErrorEvent, type WsEvent } from '../../src/decoder';
import { ImportFormatError, NoConnectionError, replayImport, sniffImport } from '../../src/import';
import { buildFrame } from '../../src/decoder/build';
import {
  clientText,
  Conversation,
  LINK,
  linkFrame,
  pcapFile,
  pcapngFile,
  serverText,
  upgradeRequest,
  upgradeResponse,
  type Pkt,
} from './build';

async function importEvents(file: Buffer, chunk = file.length || 1): Promise<WsEvent[]> {
  const kind = sniffImport(file);
  if (kind === null) throw new Error('not recognised');
  const chunks: Buffer[] = [];
  for (let i = 0; i < file.length; i += chunk) chunks.push(file.subarray(i, i + chunk));
  const events: WsEvent[] = [];
  await replayImport(chunks, kind, (e) => events.push(e), { source: 'test.pcap' });
  return events;
}

/** The frame-level events of one direction, and the handshake, without ts. */
function shape(events: WsEvent[]): { handshake: unknown; client: unknown[]; server: unknown[] } {
  const strip = (e: WsEvent) => {
    const { ts, ...rest } = e;
    void ts;
    return rest;
  };
  const hs = events.find((e) => e.event === 'handshake');
  const of = (dir: string) => events.filter((e) => (e.event === 'frame' || e.event === 'message') && e.dir === dir).map(strip);
  return { handshake: hs ? strip(hs) : undefined, client: of('client'), server: of('server') };
}

/** What the decoder makes of the streams themselves (the reference). */
function reference(client: Buffer, server: Buffer): ReturnType<typeof shape> {
  const events: WsEvent[] = [];
  const d = new ConnectionDecoder({ conn: 1, onEvent: (e) => events.push(e) });
  d.push('client', client.subarray(0, upgradeRequest().length), 1);
  d.push('server', server, 2);
  d.push('client', client.subarray(upgradeRequest().length), 3);
  d.finish(4);
  return shape(events);
}

const CLIENT_FRAMES = [clientText('hello'), buildFrame({ opcode: 2, payload: Buffer.from([1, 2, 3]), mask: Buffer.from('a1b2c3d4', 'hex') }), clientText('x'.repeat(300), '0badf00d')];
const SERVER_FRAMES = [serverText('{"name":"hello"}'), serverText('bye')];
const CLIENT_STREAM = Buffer.concat([upgradeRequest(), ...CLIENT_FRAMES]);
const SERVER_STREAM = Buffer.concat([upgradeResponse(), ...SERVER_FRAMES]);

/** A clean session: handshake, frames each way, close. */
function cleanSession(conv = new Conversation()): Conversation {
  conv.handshake().send('client', upgradeRequest()).send('server', upgradeResponse());
  CLIENT_FRAMES.forEach((f, i) => {
    conv.send('client', f);
    if (SERVER_FRAMES[i]) conv.send('server', SERVER_FRAMES[i]);
  });
  return conv.close();
}

describe('recognising files by content', () => {
  test('pcap in both byte orders and both units, pcapng in both byte orders', () => {
    const pkts = cleanSession().packets;
    expect(sniffImport(pcapFile(pkts))).toBe('pcap');
    expect(sniffImport(pcapFile(pkts, { bigEndian: true, nanos: true }))).toBe('pcap');
    expect(sniffImport(pcapngFile([{ interfaces: [{ linkType: 1 }], packets: pkts }]))).toBe('pcapng');
    expect(sniffImport(pcapngFile([{ bigEndian: true, interfaces: [{ linkType: 1 }], packets: pkts }]))).toBe('pcapng');
    expect(sniffImport(Buffer.from('{"format":"wsscope-capture","version":1}\n'))).toBeNull();
    expect(sniffImport(Buffer.from('81 05 48 65 6c 6c 6f'))).toBeNull();
  });
});

describe('a clean session', () => {
  const want = reference(CLIENT_STREAM, SERVER_STREAM);

  test('decodes as the streams themselves do, with open and end', async () => {
    const events = await importEvents(pcapFile(cleanSession().packets));
    expect(shape(events)).toEqual(want);
    expect(events[0]).toEqual({ event: 'open', ts: 1_700_000_000_001, conn: 1, client: '127.0.0.1:40000', target: 'ws://127.0.0.1:8080/chat' });
    expect(events[events.length - 1]).toMatchObject({ event: 'end', conn: 1, reason: 'closed', bytes: { client: CLIENT_STREAM.length, server: SERVER_STREAM.length } });
    expect(events.filter((e) => e.event === 'error')).toEqual([]);
  });

  const links: [string, number, Parameters<typeof linkFrame>[2]][] = [
    ['Ethernet', LINK.ETHERNET, {}],
    ['Ethernet with an 802.1Q VLAN tag', LINK.ETHERNET, { vlan: [100] }],
    ['Ethernet with QinQ (two tags)', LINK.ETHERNET, { vlan: [100, 200] }],
    ['Linux cooked v1', LINK.SLL, {}],
    ['Linux cooked v2', LINK.SLL2, {}],
    ['BSD loopback, little-endian family', LINK.NULL, {}],
    ['BSD loopback, big-endian family', LINK.NULL, { bigEndianNull: true }],
    ['OpenBSD loopback', LINK.LOOP, {}],
    ['raw IP', LINK.RAW, {}],
    ['raw IPv4', LINK.IPV4, {}],
  ];
  test.each(links)('link type %s', async (_name, linkType, options) => {
    const file = pcapFile(cleanSession().packets, { linkType, frame: (ip) => linkFrame(linkType, ip, options) });
    expect(shape(await importEvents(file))).toEqual(want);
  });

  test('IPv6 (raw IPv6, BSD loopback AF_INET6 24/28/30, Ethernet) with extension headers skipped', async () => {
    const v6 = () => new Conversation({ ip: '::1', port: 40000 }, { ip: '::1', port: 8080 });
    for (const [linkType, opts] of [[LINK.IPV6, {}], [LINK.NULL, { nullFamily6: 24 }], [LINK.NULL, { nullFamily6: 28 }], [LINK.NULL, { nullFamily6: 30 }], [LINK.ETHERNET, {}]] as const) {
      const events = await importEvents(pcapFile(cleanSession(v6()).packets, { linkType, frame: (ip) => linkFrame(linkType, ip, opts) }));
      expect(shape(events)).toEqual(want);
      expect(events[0]).toMatchObject({ client: '[::1]:40000', target: 'ws://[::1]:8080/chat' });
    }
    // A hop-by-hop options header (8 bytes, PadN) and a destination options header before TCP.
    const hop = Buffer.from('3c00010400000000', 'hex'); // next: destination options (60)
    const dest = Buffer.from('0600010400000000', 'hex'); // next: TCP (6)
    const conv = new Conversation({ ip: '2001:db8::1', port: 40000 }, { ip: '2001:db8::2', port: 8080 }, undefined, { ipv6Ext: Buffer.concat([hop, dest]), ipv6ExtNext: 0 });
    const events = await importEvents(pcapFile(cleanSession(conv).packets, { linkType: LINK.RAW }));
    expect(shape(events)).toEqual(want);
    expect(events[0]).toMatchObject({ client: '[2001:db8::1]:40000' });
  });

  test('pcap big-endian and nanosecond files give the same events and times', async () => {
    const pkts = cleanSession().packets;
    const base = await importEvents(pcapFile(pkts));
    expect(await importEvents(pcapFile(pkts, { bigEndian: true }))).toEqual(base);
    expect(await importEvents(pcapFile(pkts, { nanos: true }))).toEqual(base);
    expect(await importEvents(pcapFile(pkts, { bigEndian: true, nanos: true }))).toEqual(base);
  });

  test('pcapng: sections, interfaces with their own link types and resolutions, simple packet blocks, skipped blocks', async () => {
    const pkts = cleanSession().packets;
    const base = await importEvents(pcapFile(pkts));
    // One section, two interfaces (Ethernet µs, SLL2 ns), packets alternating between them.
    const two = pcapngFile([{ interfaces: [{ linkType: LINK.ETHERNET }, { linkType: LINK.SLL2, tsresol: 9 }], packets: pkts.map((p, i) => ({ ...p, iface: i % 2 })), extraBlocks: true }]);
    expect(await importEvents(two)).toEqual(base);
    // A binary resolution (2^-10) and a big-endian second section that forgets the first's interfaces.
    const half = Math.floor(pkts.length / 2);
    const sections = pcapngFile([
      { interfaces: [{ linkType: LINK.RAW, tsresol: 0x80 | 10 }], packets: pkts.slice(0, half) },
      { bigEndian: true, interfaces: [{ linkType: LINK.SLL }], packets: pkts.slice(half) },
    ]);
    const events = await importEvents(sections);
    expect(shape(events)).toEqual(shape(base));
    // 2^-10 s units are not whole milliseconds: within a millisecond.
    expect(Math.abs(events[0].ts - base[0].ts)).toBeLessThan(1);
    // Simple packet blocks carry no time: the events still decode.
    const simple = pcapngFile([{ interfaces: [{ linkType: LINK.ETHERNET }], packets: pkts.map((p) => ({ ...p, simple: true })) }]);
    expect(shape(await importEvents(simple))).toEqual(shape(base));
  });

  test('any chunking of the file gives the same events', async () => {
    const file = pcapngFile([{ interfaces: [{ linkType: LINK.ETHERNET }], packets: cleanSession().packets }]);
    const whole = await importEvents(file);
    for (const chunk of [1, 7, 64, 1000]) expect(await importEvents(file, chunk)).toEqual(whole);
  });
});

describe('TCP trouble', () => {
  const want = reference(CLIENT_STREAM, SERVER_STREAM);
  const req = upgradeRequest();
  const res = upgradeResponse();
  const f0 = CLIENT_FRAMES[0];

  test('retransmissions, out-of-order segments and overlaps decode as the clean streams', async () => {
    const c = new Conversation().handshake();
    c.at('client', 0, req.subarray(0, 40));
    c.at('client', 60, req.subarray(60)); // ahead of a hole
    c.at('client', 0, req.subarray(0, 40)); // retransmission
    c.at('client', 30, req.subarray(30, 70)); // overlaps both sides of the hole and fills it
    c.at('server', 0, res);
    const framesAt = req.length;
    const rest = Buffer.concat(CLIENT_FRAMES);
    c.at('client', framesAt + 10, rest.subarray(10)); // later bytes first
    c.at('client', framesAt, rest.subarray(0, 12)); // then the start, overlapping
    c.at('client', framesAt, rest.subarray(0, 12)); // and again
    c.at('server', res.length, Buffer.concat(SERVER_FRAMES));
    c.close();
    const events = await importEvents(pcapFile(c.packets));
    expect(shape(events)).toEqual(want);
    expect(events.filter((e) => e.event === 'error')).toEqual([]);
    expect(events[events.length - 1]).toMatchObject({ event: 'end', reason: 'closed', bytes: { client: CLIENT_STREAM.length, server: SERVER_STREAM.length } });
  });

  test('a gap: the frames before it, then one error event naming the hole, then nothing more of that direction', async () => {
    const c = new Conversation().handshake();
    c.send('client', req).send('server', res);
    c.send('client', f0); // frame 0 arrives
    const missingAt = req.length + f0.length;
    const f1 = CLIENT_FRAMES[1];
    // frame 1 is never captured; frame 2 is, and the server acknowledges both.
    c.at('client', missingAt + f1.length, CLIENT_FRAMES[2]);
    c.at('server', res.length, SERVER_FRAMES[0], { ack: c.seq('client', missingAt + f1.length + CLIENT_FRAMES[2].length) });
    c.close();
    const events = await importEvents(pcapFile(c.packets));
    const gaps = events.filter((e): e is ErrorEvent => e.event === 'error');
    expect(gaps).toEqual([
      {
        event: 'error',
        ts: expect.any(Number),
        conn: 1,
        dir: 'client',
        gap: { offset: missingAt, length: f1.length },
        message: `client → server: ${f1.length} bytes missing from the capture at byte ${missingAt} of the client's stream, handshake included (the peer acknowledged bytes the capture does not contain); decoding of this direction stops here`,
      },
    ]);
    const got = shape(events);
    // The client's first frame and its message, nothing after the gap; the server's side in full.
    expect(got.client).toEqual(want.client.slice(0, 2));
    expect(got.server).toEqual(reference(Buffer.concat([req, f0]), Buffer.concat([res, SERVER_FRAMES[0]])).server);
    // The gap comes after frame 0's events and before the end.
    const gapAt = events.indexOf(gaps[0]);
    expect(events.findIndex((e) => e.event === 'message' && e.dir === 'client')).toBeLessThan(gapAt);
    expect(events[events.length - 1]).toMatchObject({ event: 'end', reason: 'closed' });
  });

  test('a hole still open when the capture ends is a gap at the end', async () => {
    const c = new Conversation().handshake();
    c.send('client', req).send('server', res);
    const at = req.length;
    c.at('client', at + 2, f0.subarray(2), { ack: c.seq('server', res.length) }); // the first two bytes never come
    const events = await importEvents(pcapFile(c.packets));
    const errors = events.filter((e) => e.event === 'error');
    expect(errors).toEqual([expect.objectContaining({ dir: 'client', gap: { offset: at, length: 2 }, message: expect.stringContaining('the capture ended before they were seen') })]);
    expect(events.filter((e) => e.event === 'frame')).toEqual([]);
    expect(events[events.length - 1]).toMatchObject({ event: 'end', reason: 'the capture ended with the connection open' });
  });

  test('a reset ends the connection', async () => {
    const c = new Conversation().handshake();
    c.send('client', req).send('server', res).send('client', f0).rst('server');
    const events = await importEvents(pcapFile(c.packets));
    expect(events[events.length - 1]).toMatchObject({ event: 'end', reason: 'reset by the server', bytes: { client: req.length + f0.length, server: res.length } });
  });
});

describe('finding the WebSocket connections', () => {
  test('on any port, by the upgrade; plain HTTP and non-HTTP connections are left out; ports reused', async () => {
    const http = new Conversation({ ip: '10.0.0.1', port: 50000 }, { ip: '10.0.0.2', port: 80 }).handshake();
    http.send('client', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).send('server', Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')).close();
    const ssh = new Conversation({ ip: '10.0.0.1', port: 50001 }, { ip: '10.0.0.2', port: 22 }).handshake();
    ssh.send('server', Buffer.from('SSH-2.0-OpenSSH_9.2\r\n')).send('client', Buffer.from('SSH-2.0-x\r\n')).close();
    const ws1 = cleanSession(new Conversation({ ip: '10.0.0.1', port: 50002 }, { ip: '10.0.0.2', port: 31337 }));
    const ws2 = cleanSession(new Conversation({ ip: '10.0.0.1', port: 50002 }, { ip: '10.0.0.2', port: 31337 }, { client: 77, server: 99 }));
    const pkts: Pkt[] = [...http.packets, ...ssh.packets, ...ws1.packets, ...ws2.packets].map((p, i) => ({ ...p, ts: 1_700_000_000_000 + i }));
    const events = await importEvents(pcapFile(pkts));
    expect(events.filter((e) => e.event === 'open')).toEqual([
      expect.objectContaining({ conn: 1, client: '10.0.0.1:50002', target: 'ws://10.0.0.2:31337/chat' }),
      expect.objectContaining({ conn: 2, client: '10.0.0.1:50002', target: 'ws://10.0.0.2:31337/chat' }),
    ]);
    expect(events.filter((e) => e.event === 'http' || e.event === 'error')).toEqual([]);
    expect(events.filter((e) => e.event === 'end')).toHaveLength(2);
  });

  test('a capture that began after the SYN: recognised when it holds the upgrade request', async () => {
    const c = cleanSession();
    const events = await importEvents(pcapFile(c.packets.slice(3)));
    expect(shape(events)).toEqual(reference(CLIENT_STREAM, SERVER_STREAM));
    // One that began after the upgrade cannot be: it is said.
    // With no WebSocket connection at all, the file is an error (NoConnectionError), not an empty success.
    await expect(importEvents(pcapFile(c.packets.slice(6)))).rejects.toThrow(
      new NoConnectionError('test.pcap', '1 TCP connection, none starting with an HTTP upgrade request: a connection is found by its upgrade request, so the capture must include its start'),
    );
    await expect(importEvents(pcapFile(c.packets.slice(6)))).rejects.toThrow(/^no WebSocket connection found in test\.pcap \(1 TCP connection, none starting/);
  });

  test('connections whose start is missing are counted and said, next to the ones found', async () => {
    const late = cleanSession(new Conversation({ ip: '10.0.0.1', port: 50003 }, { ip: '10.0.0.2', port: 8080 })).packets.slice(6);
    const events = await importEvents(pcapFile([...cleanSession().packets, ...late]));
    expect(events.filter((e) => e.event === 'open')).toHaveLength(1);
    expect(events.filter((e) => e.event === 'error')).toEqual([
      expect.objectContaining({ message: '1 TCP connection in the capture could not be checked for a WebSocket upgrade: its first bytes are not in the capture (begun before it, or packets lost)' }),
    ]);
  });

  test('an unsupported link type is said once', async () => {
    const events: WsEvent[] = [];
    const file = pcapFile(cleanSession().packets, { linkType: 147, frame: (ip) => ip });
    await expect(replayImport([file], 'pcap', (e) => events.push(e), { source: 'test.pcap' })).rejects.toThrow('no WebSocket connection found in test.pcap (no TCP connections at all');
    expect(events).toEqual([expect.objectContaining({ event: 'error', message: expect.stringContaining('packets of link type 147 are not read') })]);
  });
});

describe('broken files', () => {
  const good = pcapFile(cleanSession().packets);

  test('a file cut inside a packet: what came before, and the cut said', async () => {
    const events = await importEvents(good.subarray(0, good.length - 5));
    const errors = events.filter((e) => e.event === 'error');
    expect(errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/^test\.pcap: the file ends inside packet \d+ \(\d+ bytes of it\): the file is cut short; decoded what came before it$/) })]);
    expect(events.some((e) => e.event === 'message')).toBe(true);
  });

  test('corrupt lengths are one-line errors', async () => {
    const bad = Buffer.from(good);
    bad.writeUInt32LE(0x7fffffff, 24 + 8); // first record's captured length
    await expect(importEvents(bad)).rejects.toThrow(new ImportFormatError('test.pcap', 'packet 1 at byte 24 claims 2147483647 bytes: a corrupt file'));
    const ng = pcapngFile([{ interfaces: [{ linkType: 1 }], packets: cleanSession().packets }]);
    const badNg = Buffer.from(ng);
    badNg.writeUInt32LE(13, 28 + 4); // the IDB's length: not a multiple of 4
    await expect(importEvents(badNg)).rejects.toThrow('test.pcap: a block at byte 28 with a bad length 13: a corrupt file');
  });
});
