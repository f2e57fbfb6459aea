/**
 * Real peers from npm through the proxy (127.0.0.1, port 0): socket.io server + client,
 * graphql-ws server + client, @stomp/stompjs against a small STOMP server written here.
 * What the proxy's session publishes must describe what the libraries did.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { WebSocket, WebSocketServer } from 'ws';
import type { MessageEvent, ProtocolEvent, WsEvent } from '../../src/decoder/events';
import type { AppPacket } from '../../src/protocols';
import { harEvents } from '../../src/import/har';
import { startProxy, type ProxyHandle } from '../../src/proxy';
import { HarBuilder } from '../../src/views/har';
import { recordingSession, waitFor } from '../proxy/helpers';

/** Every packet the session saw (inner ones not flattened), with its message. */
function packets(messages: MessageEvent[]): { m: MessageEvent; p: AppPacket }[] {
  const out: { m: MessageEvent; p: AppPacket }[] = [];
  for (const m of messages) {
    if (!m.app) continue;
    for (const p of Array.isArray(m.app) ? m.app : [m.app]) if (!p.partial) out.push({ m, p: p as AppPacket });
  }
  return out;
}

/** A message's index among its connection's messages from the same side (what replyTo names). */
function indexOf(messages: MessageEvent[], m: MessageEvent): number {
  return messages.filter((x) => x.conn === m.conn && x.dir === m.dir).indexOf(m);
}

async function proxyTo(port: number, rec: ReturnType<typeof recordingSession>): Promise<ProxyHandle> {
  return startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://127.0.0.1:${port}/`, session: rec.session });
}

const listen = (server: http.Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

test('socket.io: events, acks both ways linked, binary attachments joined, a second namespace, heartbeats', async () => {
  const { Server } = await import('socket.io');
  const { io } = await import('socket.io-client');
  const httpServer = http.createServer();
  const server = new Server(httpServer, { pingInterval: 150, pingTimeout: 5000 });
  server.on('connection', (socket) => {
    socket.on('chat', (text: string, ack: (r: string) => void) => ack(`got ${text}`));
    socket.on('upload', (name: string, data: Buffer, ack: (n: number) => void) => ack(data.length));
  });
  server.of('/admin').on('connection', (socket) => socket.emit('hello', { admin: true }));
  const port = await listen(httpServer);
  const rec = recordingSession();
  // What --har writes of the session, read back below: the same packets as the proxy's own events.
  const har = new HarBuilder();
  rec.session.onEvent((e) => har.add(e));
  const proxy = await proxyTo(port, rec);
  const url = `http://127.0.0.1:${proxy.port}`;
  const client = io(url, { transports: ['websocket'], forceNew: true });
  const admin = io(`${url}/admin`, { transports: ['websocket'], forceNew: true });
  const hello = new Promise<unknown>((resolve) => admin.on('hello', resolve));
  try {
    const reply = await new Promise<string>((resolve) => client.emit('chat', 'hi', resolve));
    expect(reply).toBe('got hi');
    const size = await new Promise<number>((resolve) => client.emit('upload', 'f.bin', Buffer.from([1, 2, 3, 4, 5]), resolve));
    expect(size).toBe(5);
    expect(await hello).toEqual({ admin: true });
    // A heartbeat: Engine.IO v4's server pings, the client pongs.
    await waitFor(() => packets(rec.of('message')).some(({ p }) => p.protocol === 'engine.io' && p.type === 'pong'), 'an Engine.IO pong');

    const protocols = rec.of('protocol') as ProtocolEvent[];
    expect(protocols.length).toBe(2);
    for (const e of protocols) expect(e).toMatchObject({ protocol: 'socket.io', reason: 'path /socket.io/ with EIO=4 (Socket.IO v5 over Engine.IO v4)' });
    const all = packets(rec.of('message'));
    const find = (f: (p: AppPacket, m: MessageEvent) => boolean) => all.find(({ p, m }) => f(p, m));
    expect(find((p) => p.type === 'open')?.p).toMatchObject({ protocol: 'engine.io', code: 0, pingInterval: 150, pingTimeout: 5000, upgrades: [] });
    const chat = find((p) => p.event === 'chat')!;
    expect(chat.m.dir).toBe('client');
    expect(chat.p).toMatchObject({ protocol: 'socket.io', type: 'EVENT', code: 2, namespace: '/', args: ['hi'], pair: 'request' });
    expect(chat.p.summary).toBe(`EVENT "chat" ["hi"] ack ${chat.p.id}`);
    const ack = find((p, m) => p.type === 'ACK' && m.dir === 'server' && p.id === chat.p.id)!;
    expect(ack.p).toMatchObject({ args: ['got hi'], replyTo: { dir: 'client', message: indexOf(rec.of('message'), chat.m) } });
    expect(chat.p.answeredBy).toEqual({ dir: 'server', message: indexOf(rec.of('message'), ack.m) });
    const upload = find((p) => p.event === 'upload')!;
    expect(upload.p).toMatchObject({ type: 'BINARY_EVENT', code: 5, fromMessages: 2, attachmentCount: 1, args: ['f.bin', { attachment: 0, length: 5, hex: '0102030405' }] });
    expect(upload.m.opcode).toBe(2); // reported on the attachment's (binary) message
    const adminConnect = find((p, m) => p.type === 'CONNECT' && m.dir === 'server' && p.namespace === '/admin')!;
    expect(typeof (adminConnect.p.data as { sid: string }).sid).toBe('string');
    expect(find((p) => p.event === 'hello')?.p).toMatchObject({ namespace: '/admin', args: [{ admin: true }], summary: 'EVENT /admin "hello" [{"admin":true}]' });
    expect(find((p, m) => p.type === 'ping' && m.dir === 'server')?.p).toMatchObject({ protocol: 'engine.io', code: 2 });
    expect(all.filter(({ p }) => p.violations).map(({ p }) => p.violations)).toEqual([]);
  } finally {
    client.close();
    admin.close();
    await proxy.close();
    await server.close();
    httpServer.close();
  }
  const apps = (events: WsEvent[]) => {
    const byConn = new Map<number, unknown[]>();
    for (const e of events) if (e.event === 'protocol' || e.event === 'message') byConn.set(e.conn, [...(byConn.get(e.conn) ?? []), e.event === 'protocol' ? e.reason : [e.dir, e.app]]);
    return [...byConn.values()];
  };
  const fromHar = harEvents(JSON.stringify(har.har()));
  expect(apps(fromHar)).toEqual(apps(rec.events));
  expect(apps(fromHar).length).toBe(2);
});

test('graphql-ws: a subscription through the proxy, its items linked to the subscribe', async () => {
  const { GraphQLObjectType, GraphQLSchema, GraphQLString } = await import('graphql');
  const { createClient } = require('graphql-ws') as typeof import('graphql-ws');
  const { useServer } = require('graphql-ws/use/ws');
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { hello: { type: GraphQLString, resolve: () => 'world' } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        greetings: {
          type: GraphQLString,
          subscribe: async function* () {
            for (const hi of ['Hi', 'Bonjour']) yield { greetings: hi };
          },
        },
      },
    }),
  });
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/graphql' });
  await new Promise((r) => wss.once('listening', r));
  const cleanup = useServer({ schema }, wss);
  const rec = recordingSession();
  const proxy = await proxyTo((wss.address() as AddressInfo).port, rec);
  const client = createClient({ url: `ws://127.0.0.1:${proxy.port}/graphql`, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
  try {
    const got: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      client.subscribe({ query: 'subscription { greetings }' }, { next: (v) => got.push(v), error: reject, complete: resolve });
    });
    expect(got).toEqual([{ data: { greetings: 'Hi' } }, { data: { greetings: 'Bonjour' } }]);
    await waitFor(() => packets(rec.of('message')).some(({ p }) => p.type === 'complete'), 'the complete message');
    expect(rec.of('protocol')).toEqual([expect.objectContaining({ protocol: 'graphql-transport-ws', reason: 'Sec-WebSocket-Protocol: graphql-transport-ws' })]);
    const all = packets(rec.of('message')).map(({ p, m }) => ({ dir: m.dir, type: p.type, id: p.id, summary: p.summary, replyTo: p.replyTo }));
    const sub = all.find((p) => p.type === 'subscribe')!;
    expect(all.map((p) => [p.dir, p.type])).toEqual([
      ['client', 'connection_init'],
      ['server', 'connection_ack'],
      ['client', 'subscribe'],
      ['server', 'next'],
      ['server', 'next'],
      ['server', 'complete'],
    ]);
    expect(sub.summary).toBe(`subscribe ${sub.id} subscription greetings`);
    expect(all.filter((p) => p.type === 'next').map((p) => p.summary)).toEqual([`next ${sub.id} {"data":{"greetings":"Hi"}}`, `next ${sub.id} {"data":{"greetings":"Bonjour"}}`]);
    for (const p of all.slice(3)) expect(p.replyTo).toEqual({ dir: 'client', message: 1 });
  } finally {
    await client.dispose();
    await proxy.close();
    await cleanup.dispose();
    await new Promise((r) => wss.close(r));
  }
});

/** A small STOMP 1.2 broker: CONNECTED, SUBSCRIBE/SEND → MESSAGE, receipts, heart-beats answered. */
function stompBroker(wss: WebSocketServer): void {
  wss.on('connection', (ws) => {
    const subs = new Map<string, string>();
    let n = 0;
    ws.on('message', (data) => {
      const text = data.toString();
      for (const frame of text.split('\0')) {
        const f = frame.replace(/^\n+/, '');
        if (!f) continue;
        const [head, ...rest] = f.split('\n\n');
        const [command, ...lines] = head.split('\n');
        const h = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)] as [string, string]));
        const body = rest.join('\n\n');
        if (command === 'CONNECT' || command === 'STOMP') ws.send('CONNECTED\nversion:1.2\nheart-beat:0,0\nserver:test-broker/1\n\n\0');
        if (command === 'SUBSCRIBE') subs.set(h.get('destination')!, h.get('id')!);
        if (command === 'SEND') {
          const sub = subs.get(h.get('destination')!);
          // One message with a header needing escapes (1.2 "Value Encoding").
          if (sub) ws.send(`MESSAGE\ndestination:${h.get('destination')}\nsubscription:${sub}\nmessage-id:m-${n++}\nnote:a\\cb\\nc\ncontent-length:${Buffer.byteLength(body)}\n\n${body}\0`);
        }
        if (h.has('receipt')) ws.send(`RECEIPT\nreceipt-id:${h.get('receipt')}\n\n\0`);
      }
    });
  });
}

test('@stomp/stompjs against a STOMP broker: frames, headers unescaped, receipts linked', async () => {
  const { Client } = await import('@stomp/stompjs');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('v12.stomp') ? 'v12.stomp' : false) });
  await new Promise((r) => wss.once('listening', r));
  stompBroker(wss);
  const rec = recordingSession();
  const proxy = await proxyTo((wss.address() as AddressInfo).port, rec);
  const url = `ws://127.0.0.1:${proxy.port}/stomp`;
  const client = new Client({ webSocketFactory: () => new WebSocket(url, ['v12.stomp', 'v11.stomp', 'v10.stomp']), reconnectDelay: 0, heartbeatIncoming: 0, heartbeatOutgoing: 0 });
  try {
    const received = new Promise<{ body: string; note: string }>((resolve) => {
      client.onConnect = () => {
        client.subscribe('/topic/t1', (m) => resolve({ body: m.body, note: m.headers.note }));
        client.publish({ destination: '/topic/t1', body: 'hello stomp', headers: { receipt: 'r-1' } });
      };
    });
    client.activate();
    expect(await received).toEqual({ body: 'hello stomp', note: 'a:b\nc' });
    await waitFor(() => packets(rec.of('message')).some(({ p }) => p.type === 'RECEIPT'), 'the receipt');
    expect(rec.of('protocol')).toEqual([expect.objectContaining({ protocol: 'stomp', reason: 'Sec-WebSocket-Protocol: v12.stomp' })]);
    const all = packets(rec.of('message'));
    const get = (type: string) => all.find(({ p }) => p.type === type)!;
    expect(get('CONNECT').p).toMatchObject({ headers: expect.arrayContaining([['accept-version', '1.2,1.1,1.0']]) });
    expect(get('CONNECTED').p).toMatchObject({ version: '1.2', summary: 'CONNECTED version 1.2 server test-broker/1 heart-beat 0,0', heartBeat: [0, 0] });
    expect(get('SUBSCRIBE').p).toMatchObject({ topic: '/topic/t1' });
    const send = get('SEND');
    expect(send.p).toMatchObject({ topic: '/topic/t1', body: 'hello stomp', id: 'r-1', pair: 'request', summary: 'SEND /topic/t1 "hello stomp" receipt r-1' });
    const message = get('MESSAGE');
    expect(message.p).toMatchObject({ topic: '/topic/t1', body: 'hello stomp', bodyLength: 11 });
    expect((message.p.headers as [string, string][]).find(([k]) => k === 'note')).toEqual(['note', 'a:b\nc']);
    expect(get('RECEIPT').p).toMatchObject({ id: 'r-1', pair: 'response', replyTo: { dir: 'client', message: indexOf(rec.of('message'), send.m) } });
    expect(send.p.answeredBy).toEqual({ dir: 'server', message: indexOf(rec.of('message'), get('RECEIPT').m) });
    expect(all.filter(({ p }) => p.violations).map(({ p }) => [p.type, p.violations])).toEqual([]);
  } finally {
    await client.deactivate();
    await proxy.close();
    await new Promise((r) => wss.close(r));
  }
});

test('@stomp/stompjs over sockjs-client against a sockjs server: SockJS framing with STOMP inside (app.inner)', async () => {
  const { Client } = await import('@stomp/stompjs');
  const sockjs = require('sockjs');
  const SockJS = require('sockjs-client');
  const echo = sockjs.createServer({ log: () => undefined });
  echo.on('connection', (conn: { on: (e: string, f: (d: string) => void) => void; write: (d: string) => void }) => {
    conn.on('data', (text) => {
      if (text.startsWith('CONNECT')) conn.write('CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0');
      if (text.startsWith('SEND')) conn.write('MESSAGE\ndestination:/topic/t1\nsubscription:sub-0\nmessage-id:1\n\nfrom sockjs\0');
    });
  });
  const httpServer = http.createServer();
  echo.installHandlers(httpServer, { prefix: '/stomp' });
  const port = await listen(httpServer);
  const rec = recordingSession();
  const proxy = await proxyTo(port, rec);
  // The websocket transport only, through the proxy (its info request goes through too).
  const client = new Client({ webSocketFactory: () => new SockJS(`http://127.0.0.1:${proxy.port}/stomp`, null, { transports: ['websocket'] }), reconnectDelay: 0, heartbeatIncoming: 0, heartbeatOutgoing: 0 });
  try {
    const got = new Promise<string>((resolve) => {
      client.onConnect = () => {
        client.subscribe('/topic/t1', (m) => resolve(m.body));
        client.publish({ destination: '/topic/t1', body: 'hi' });
      };
    });
    client.activate();
    expect(await got).toBe('from sockjs');
    const protocol = rec.of('protocol')[0];
    expect(protocol).toMatchObject({ protocol: 'sockjs', reason: expect.stringMatching(/^path \/stomp\/\d{3}\/[^/]+\/websocket is SockJS's/) });
    const all = packets(rec.of('message'));
    expect(all[0].p).toMatchObject({ protocol: 'sockjs', type: 'open' });
    const inner = all.flatMap(({ p, m }) => (p.inner ? [{ dir: m.dir, ...(p.inner as AppPacket) }] : []));
    expect(inner.map((p) => [p.dir, p.protocol, p.type])).toEqual([
      ['client', 'stomp', 'CONNECT'],
      ['server', 'stomp', 'CONNECTED'],
      ['client', 'stomp', 'SUBSCRIBE'],
      ['client', 'stomp', 'SEND'],
      ['server', 'stomp', 'MESSAGE'],
    ]);
    expect(inner[4]).toMatchObject({ topic: '/topic/t1', body: 'from sockjs' });
  } finally {
    // sockjs-client's close handshake is not awaited: the proxy closing ends it.
    void client.deactivate({ force: true });
    await proxy.close();
    httpServer.close();
  }
});
