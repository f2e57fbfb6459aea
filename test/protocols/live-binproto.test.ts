/**
 * Real peers through the proxy, on 127.0.0.1 port 0: mqtt.js (v4 and v5) against an aedes
 * broker over WebSocket (QoS 0, 1, 2, a retained message), WAMP messages built with
 * @msgpack/msgpack and cbor-x, SignalR records built from its spec, each through a `ws`
 * client and server. The assertions are on the `message.app` events the proxy published.
 */
import { decode as unpack, encode as msgpack } from '@msgpack/msgpack';
import { decode as uncbor, encode as cbor } from 'cbor-x';
import * as mqtt from 'mqtt';
import * as mqttPacket from 'mqtt-packet';
import { WebSocket, WebSocketServer } from 'ws';
import type { MessageEvent } from '../../src/decoder/events';
import type { AppPacket } from '../../src/protocols';
import { startProxy, type ProxyHandle } from '../../src/proxy';
import { recordingSession, waitFor } from '../proxy/helpers';
import { spawnAedes } from './helpers';

/** Every packet of every message of `conn` (arrays flattened, partial markers left out). */
function packetsOf(events: ReturnType<typeof recordingSession>['events'], conn?: number): (AppPacket & { dir: string; conn: number })[] {
  const out: (AppPacket & { dir: string; conn: number })[] = [];
  for (const e of events) {
    if (e.event !== 'message' || (conn !== undefined && e.conn !== conn)) continue;
    const app = (e as MessageEvent).app;
    if (!app || 'partial' in app) continue;
    for (const p of (Array.isArray(app) ? app : [app]) as AppPacket[]) out.push({ ...p, dir: e.dir, conn: e.conn });
  }
  return out;
}

/** The scenario for one MQTT version against the broker behind `proxy`; returns this run's packets. */
async function mqttScenario(rec: ReturnType<typeof recordingSession>, proxy: ProxyHandle, version: 4 | 5) {
  const url = `ws://127.0.0.1:${proxy.port}/mqtt`;
  const opts = { protocolVersion: version, reconnectPeriod: 0, connectTimeout: 10000 } as const;
  const t = `v${version}`;
  const endsBefore = rec.of('end').length;
  const sub = await mqtt.connectAsync(url, { ...opts, clientId: `sub${version}` });
  const got: string[] = [];
  sub.on('message', (topic, payload) => got.push(`${topic}=${payload.toString()}`));
  await sub.subscribeAsync(`${t}/#`, { qos: 2 });
  const pub = await mqtt.connectAsync(url, { ...opts, clientId: `pub${version}` });
  await pub.publishAsync(`${t}/a`, 'zero', { qos: 0 });
  await pub.publishAsync(`${t}/b`, 'one', { qos: 1 });
  await pub.publishAsync(`${t}/c`, 'two', { qos: 2 });
  await pub.publishAsync(`${t}/r`, 'kept', { qos: 1, retain: true });
  await waitFor(() => got.length === 4, 'the subscriber to receive four messages');
  // A late subscriber gets the retained message from the broker.
  const late = await mqtt.connectAsync(url, { ...opts, clientId: `late${version}` });
  const retained: boolean[] = [];
  late.on('message', (_t, _p, packet) => retained.push(packet.retain));
  await late.subscribeAsync(`${t}/r`, { qos: 1 });
  await waitFor(() => retained.length === 1, 'the retained message');
  await Promise.all([sub.endAsync(), pub.endAsync(), late.endAsync()]);
  await waitFor(() => rec.of('end').length === endsBefore + 3, 'the three connections to end');

  const all = packetsOf(rec.events).filter((p) => p.protocol === 'mqtt');
  const connects = all.filter((p) => p.type === 'CONNECT' && p.protocolLevel === version);
  expect(connects.map((p) => p.clientId).sort()).toEqual([`late${version}`, `pub${version}`, `sub${version}`]);
  // mqtt.js writes one packet as several WebSocket messages.
  expect(connects.some((p) => (p.fromMessages ?? 1) > 1)).toBe(true);
  const conns = new Set(connects.map((p) => p.conn));
  const mine = all.filter((p) => conns.has(p.conn));
  expect(mine.filter((p) => p.violations)).toEqual([]);
  const sent = mine.filter((p) => p.type === 'PUBLISH' && p.dir === 'client').map((p) => p.summary);
  expect(sent).toEqual([`PUBLISH ${t}/a qos 0 "zero"`, expect.stringMatching(new RegExp(`^PUBLISH ${t}/b qos 1 id \\d+ "one"$`)),
    expect.stringMatching(new RegExp(`^PUBLISH ${t}/c qos 2 id \\d+ "two"$`)), expect.stringMatching(new RegExp(`^PUBLISH ${t}/r qos 1 id \\d+ retain "kept"$`))]);
  const types = new Set(mine.map((p) => p.type));
  for (const type of ['CONNACK', 'SUBSCRIBE', 'SUBACK', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'DISCONNECT']) expect([type, types.has(type)]).toEqual([type, true]);
  const delivered = mine.filter((p) => p.type === 'PUBLISH' && p.dir === 'server');
  expect(delivered.some((p) => p.topic === `${t}/r` && p.retain === true)).toBe(true);
  // The QoS 2 flow is linked: PUBLISH → PUBREC.
  const q2 = mine.find((p) => p.type === 'PUBLISH' && p.dir === 'client' && p.qos === 2)!;
  expect(q2.answeredBy).toBeDefined();
  const detected = rec.of('protocol').filter((e) => conns.has(e.conn));
  expect(detected.map((e) => e.reason)).toEqual(Array(3).fill('Sec-WebSocket-Protocol: mqtt'));
  return mine;
}

describe('MQTT 3.1.1: mqtt.js and aedes over WebSocket through the proxy', () => {
  let broker: Awaited<ReturnType<typeof spawnAedes>>;
  let proxy: ProxyHandle;
  const rec = recordingSession();

  beforeAll(async () => {
    broker = await spawnAedes();
    proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${broker.port}/mqtt`, session: rec.session });
  });

  afterAll(async () => {
    await proxy?.close();
    await broker?.stop();
  });

  test('QoS 0/1/2 and a retained message, every packet decoded without violations', async () => {
    const mine = await mqttScenario(rec, proxy, 4);
    // aedes too writes a packet as several messages (fixed header, then the rest).
    expect(mine.some((p) => p.dir === 'server' && (p.fromMessages ?? 1) > 1)).toBe(true);
  });
});

/**
 * aedes speaks 3.1 and 3.1.1 only, so MQTT 5.0 is tested against a small broker made with
 * mqtt-packet (mqtt.js's own parser and encoder): sessions, QoS 1 and 2 flows, retained
 * messages, v5 CONNACK properties. The client is mqtt.js 5 as for 3.1.1.
 */
function v5Broker(): Promise<{ wss: WebSocketServer; port: number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'mqtt' });
  const subs = new Map<WebSocket, string[]>();
  const retained = new Map<string, Buffer>();
  const opts = { protocolVersion: 5 };
  const send = (ws: WebSocket, p: Record<string, unknown>) => ws.send(mqttPacket.generate(p as unknown as mqttPacket.Packet, opts));
  const matches = (filter: string, topic: string) => filter === topic || (filter.endsWith('/#') && topic.startsWith(filter.slice(0, -1)));
  let nextId = 1;
  const deliver = (topic: string, payload: Buffer, retain: boolean, only?: WebSocket) => {
    for (const [ws, filters] of subs) {
      if ((only && ws !== only) || !filters.some((f) => matches(f, topic))) continue;
      send(ws, { cmd: 'publish', topic, payload, qos: 1, messageId: nextId++, retain, dup: false });
    }
  };
  wss.on('connection', (ws) => {
    const parser = mqttPacket.parser(opts);
    ws.on('message', (data: Buffer) => parser.parse(data));
    ws.on('close', () => subs.delete(ws));
    parser.on('packet', (packet: mqttPacket.Packet) => {
      const p = packet as unknown as Record<string, unknown>;
      switch (p.cmd) {
        case 'connect': return send(ws, { cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 100, topicAliasMaximum: 0 } });
        case 'subscribe': {
          const list = (p.subscriptions as { topic: string; qos: number }[]);
          subs.set(ws, [...(subs.get(ws) ?? []), ...list.map((s) => s.topic)]);
          send(ws, { cmd: 'suback', messageId: p.messageId, granted: list.map((s) => s.qos) });
          for (const [topic, payload] of retained) if (list.some((s) => matches(s.topic, topic))) deliver(topic, payload, true, ws);
          return;
        }
        case 'publish':
          if (p.retain) retained.set(p.topic as string, p.payload as Buffer);
          if (p.qos === 1) send(ws, { cmd: 'puback', messageId: p.messageId, reasonCode: 0 });
          if (p.qos === 2) send(ws, { cmd: 'pubrec', messageId: p.messageId, reasonCode: 0 });
          return deliver(p.topic as string, p.payload as Buffer, false);
        case 'pubrel': return send(ws, { cmd: 'pubcomp', messageId: p.messageId, reasonCode: 0 });
        case 'pingreq': return send(ws, { cmd: 'pingresp' });
        case 'disconnect': return ws.close();
      }
    });
  });
  return new Promise((r) => wss.once('listening', () => r({ wss, port: (wss.address() as { port: number }).port })));
}

describe('MQTT 5.0: mqtt.js through the proxy to a broker made with mqtt-packet', () => {
  test('QoS 0/1/2 and a retained message, v5 properties, every packet decoded without violations', async () => {
    const { wss, port } = await v5Broker();
    const rec = recordingSession();
    const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${port}/mqtt`, session: rec.session });
    try {
      const mine = await mqttScenario(rec, proxy, 5);
      expect(mine.find((p) => p.type === 'CONNACK')).toMatchObject({ reason: 'Success', properties: { receiveMaximum: 100, topicAliasMaximum: 0 } });
      expect(mine.filter((p) => p.type === 'PUBACK').every((p) => p.reasonCode === undefined || p.reasonCode === 0)).toBe(true);
    } finally {
      await proxy.close();
      await new Promise((r) => wss.close(r));
    }
  });
});

/** A ws server choosing `protocol`, answering each client message with `answer(msg)`. */
async function server(protocol: string | null, answer: (data: Buffer, isBinary: boolean) => (Buffer | string)[]): Promise<{ wss: WebSocketServer; port: number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: protocol ? () => protocol : undefined });
  wss.on('connection', (ws) => ws.on('message', (data: Buffer, isBinary) => { for (const a of answer(data, isBinary)) ws.send(a); }));
  await new Promise((r) => wss.once('listening', r));
  return { wss, port: (wss.address() as { port: number }).port };
}

async function exchange(target: number, pathname: string, protocol: string | undefined, send: (Buffer | string)[], answers: number) {
  const rec = recordingSession();
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${target}${pathname}`, session: rec.session });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}${pathname}`, protocol ? [protocol] : []);
    let got = 0;
    ws.on('message', () => got++);
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    for (const m of send) ws.send(m);
    await waitFor(() => got >= answers, 'the answers');
    ws.close();
    await waitFor(() => rec.of('end').length === 1, 'the connection to end');
  } finally {
    await proxy.close();
  }
  return rec;
}

describe('WAMP over MessagePack and CBOR through the proxy', () => {
  for (const [ser, enc] of [['msgpack', (v: unknown) => Buffer.from(msgpack(v))], ['cbor', (v: unknown) => Buffer.from(cbor(v))]] as const) {
    test(`wamp.2.${ser}: HELLO/WELCOME, CALL/RESULT linked, SUBSCRIBE/EVENT`, async () => {
      const { wss, port } = await server(`wamp.2.${ser}`, (data) => {
        const m = (ser === 'msgpack' ? unpack(data) : uncbor(data)) as unknown[];
        if (m[0] === 1) return [enc([2, 9129137332, { roles: { dealer: {}, broker: {} } }])];
        if (m[0] === 48) return [enc([50, m[1], {}, [5]])];
        if (m[0] === 32) return [enc([33, m[1], 77]), enc([36, 77, 88, {}, ['news']])];
        return [];
      });
      try {
        const rec = await exchange(port, '/ws', `wamp.2.${ser}`, [enc([1, 'realm1', { roles: { caller: {}, subscriber: {} } }]), enc([48, 1, {}, 'com.add', [2, 3]]), enc([32, 2, {}, 'com.news'])], 4);
        const ps = packetsOf(rec.events);
        expect(ps.map((p) => `${p.dir} ${p.summary}`).sort()).toEqual([
          'client HELLO realm1', 'server WELCOME session 9129137332', 'client CALL 1 com.add [2,3]', 'client SUBSCRIBE 2 com.news',
          'server RESULT 1 [5]', 'server SUBSCRIBED 2 subscription 77', 'server EVENT subscription 77 publication 88 ["news"]',
        ].sort());
        expect(ps.every((p) => p.serialization === ser && !p.violations)).toBe(true);
        expect(ps.find((p) => p.type === 'CALL')!.answeredBy).toBeDefined();
      } finally {
        await new Promise((r) => wss.close(r));
      }
    });
  }
});

describe('SignalR through the proxy (records built from HubProtocol.md)', () => {
  test('JSON: handshake, invocation, completion linked; several records in one message', async () => {
    const { wss, port } = await server(null, (data) => {
      const text = data.toString();
      if (text.includes('"protocol"')) return ['{}\x1e'];
      return ['{"type":2,"invocationId":"1","item":"a"}\x1e{"type":3,"invocationId":"1","result":42}\x1e'];
    });
    try {
      const rec = await exchange(port, '/hub', undefined, ['{"protocol":"json","version":1}\x1e', '{"type":1,"invocationId":"1","target":"Sum","arguments":[40,2]}\x1e'], 2);
      const ps = packetsOf(rec.events);
      expect(rec.of('protocol')[0]).toMatchObject({ protocol: 'signalr' });
      expect(ps.map((p) => p.summary).sort()).toEqual(['Completion id 1 result 42', 'Handshake json v1', 'HandshakeResponse ok', 'Invocation "Sum" [40,2] id 1', 'StreamItem id 1 "a"']);
      expect(ps.find((p) => p.type === 'Invocation')!.answeredBy).toBeDefined();
    } finally {
      await new Promise((r) => wss.close(r));
    }
  });

  test('MessagePack: handshake in JSON, then binary messages with varint lengths', async () => {
    const framed = (v: unknown) => { const b = Buffer.from(msgpack(v)); return Buffer.concat([Buffer.from([b.length]), b]); };
    const { wss, port } = await server(null, (data, isBinary) => (isBinary ? [framed([3, {}, '7', 3, 'done'])] : ['{}\x1e']));
    try {
      const rec = await exchange(port, '/hub', undefined, ['{"protocol":"messagepack","version":1}\x1e', framed([1, {}, '7', 'Work', [1], []])], 2);
      const ps = packetsOf(rec.events);
      expect(ps.map((p) => p.summary).sort()).toEqual(['Completion id 7 result "done"', 'Handshake messagepack v1', 'HandshakeResponse ok', 'Invocation "Work" [1] id 7']);
      expect(ps.filter((p) => p.violations)).toEqual([]);
    } finally {
      await new Promise((r) => wss.close(r));
    }
  });
});
