/** Each module: exact fields against known bytes, detection, violations with prefixed rule ids. */
import type { Direction } from '../../src/decoder/events';
import { contextOf, moduleNamed, type AppPacket, type AppResult } from '../../src/protocols';
import { stompLength } from '../../src/protocols/stomp';
import { apps, run } from './helpers';

/** A session of `name` opened without a handshake, fed messages in order: their results. */
function feed(name: string, msgs: [Direction, string | Buffer][], target = ''): AppResult[] {
  const ctx = target ? contextOf({ request: { method: 'GET', target, version: 'HTTP/1.1', headers: [] }, protocol: null } as never) : contextOf(null);
  const session = moduleNamed(name)!.open(ctx);
  return msgs.map(([dir, p]) => session.message(dir, Buffer.isBuffer(p) ? 2 : 1, Buffer.isBuffer(p) ? p : Buffer.from(p)));
}
const one = (name: string, dir: Direction, p: string | Buffer, target = '') => feed(name, [[dir, p]], target)[0] as AppPacket;
const rules = (r: AppResult) => ((r as AppPacket).violations ?? []).map((v) => v.rule);

describe('Engine.IO / Socket.IO', () => {
  test('Engine.IO packets on a Socket.IO connection', () => {
    expect(one('socket.io', 'server', '0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}')).toEqual({
      protocol: 'engine.io', type: 'open', code: 0, sid: 'lv_VI97HAXpY6yYWAAAC', upgrades: ['websocket'], pingInterval: 25000, pingTimeout: 5000, maxPayload: 1000000,
      summary: 'open sid lv_VI97HAXpY6yYWAAAC ping every 25000 ms (timeout 5000 ms)',
    });
    expect(one('socket.io', 'server', '2')).toEqual({ protocol: 'engine.io', type: 'ping', code: 2, summary: 'ping' });
    expect(one('socket.io', 'client', '3')).toEqual({ protocol: 'engine.io', type: 'pong', code: 3, summary: 'pong' });
    expect(one('socket.io', 'client', '2probe')).toEqual({ protocol: 'engine.io', type: 'ping', code: 2, data: 'probe', summary: 'ping "probe"' });
    expect(one('socket.io', 'client', '2')).toMatchObject({ type: 'ping', violations: [{ rule: 'engine.io-heartbeat-direction' }] });
    // v3: the client pings.
    expect(rules(one('socket.io', 'client', '2', '/socket.io/?EIO=3&transport=websocket'))).toEqual([]);
    expect(rules(one('socket.io', 'client', '9'))).toEqual(['engine.io-bad-packet-type']);
  });

  test('Socket.IO v5 packets: namespaces, ack ids, JSON', () => {
    expect(one('socket.io', 'client', '40')).toEqual({ protocol: 'socket.io', type: 'CONNECT', code: 0, namespace: '/', summary: 'CONNECT /' });
    expect(one('socket.io', 'server', '40/admin,{"sid":"wZX3oN0bSVIhsaknAAAI"}')).toEqual({
      protocol: 'socket.io', type: 'CONNECT', code: 0, namespace: '/admin', data: { sid: 'wZX3oN0bSVIhsaknAAAI' }, summary: 'CONNECT /admin sid wZX3oN0bSVIhsaknAAAI',
    });
    expect(one('socket.io', 'client', '42["chat","hi"]')).toEqual({ protocol: 'socket.io', type: 'EVENT', code: 2, namespace: '/', event: 'chat', args: ['hi'], summary: 'EVENT "chat" ["hi"]' });
    expect(one('socket.io', 'client', '42/admin,13["chat",{"a":1},2]')).toEqual({
      protocol: 'socket.io', type: 'EVENT', code: 2, namespace: '/admin', id: 13, pair: 'request', event: 'chat', args: [{ a: 1 }, 2], summary: 'EVENT /admin "chat" [{"a":1},2] ack 13',
    });
    expect(one('socket.io', 'server', '4313["ok"]')).toEqual({ protocol: 'socket.io', type: 'ACK', code: 3, namespace: '/', id: 13, pair: 'response', args: ['ok'], summary: 'ACK 13 ["ok"]' });
    expect(one('socket.io', 'server', '44{"message":"Not authorized"}')).toMatchObject({ type: 'CONNECT_ERROR', data: { message: 'Not authorized' }, summary: 'CONNECT_ERROR "Not authorized"' });
    expect(one('socket.io', 'client', '41/admin,')).toEqual({ protocol: 'socket.io', type: 'DISCONNECT', code: 1, namespace: '/admin', summary: 'DISCONNECT /admin' });
    expect(rules(one('socket.io', 'client', '42["chat"'))).toEqual(['socket.io-bad-json', 'socket.io-bad-event']);
    expect(rules(one('socket.io', 'client', '42{"not":"an array"}'))).toEqual(['socket.io-bad-event']);
    expect(rules(one('socket.io', 'client', '43["x"]'))).toEqual(['socket.io-ack-without-id']);
  });

  test('Socket.IO v4 (EIO=3): type 4 is ERROR, binary messages start with 04', () => {
    const target = '/socket.io/?EIO=3&transport=websocket';
    expect(one('socket.io', 'server', '44"bad"', target)).toMatchObject({ type: 'ERROR', data: 'bad' });
    const [head, attachment] = feed('socket.io', [['client', '451-["up",{"_placeholder":true,"num":0}]'], ['client', Buffer.from([4, 0xca, 0xfe])]], target);
    expect(head).toEqual({ protocol: 'socket.io', partial: true });
    expect(attachment).toMatchObject({ type: 'BINARY_EVENT', event: 'up', fromMessages: 2, args: [{ attachment: 0, length: 2, hex: 'cafe' }], summary: 'BINARY_EVENT "up" [<2 bytes>]' });
  });

  test('binary attachments: joined to their event, in order, with Engine.IO packets in between', () => {
    const r = feed('socket.io', [
      ['server', '452-7["pic",{"_placeholder":true,"num":0},{"b":{"_placeholder":true,"num":1}}]'],
      ['server', Buffer.from([1])],
      ['server', '2'],
      ['server', Buffer.from([2, 3])],
    ]);
    expect(r[0]).toEqual({ protocol: 'socket.io', partial: true });
    expect(r[1]).toEqual({ protocol: 'socket.io', partial: true });
    expect(r[2]).toMatchObject({ protocol: 'engine.io', type: 'ping' });
    expect(r[3]).toMatchObject({
      type: 'BINARY_EVENT', id: 7, event: 'pic', fromMessages: 3, attachmentCount: 2,
      args: [{ attachment: 0, length: 1, hex: '01' }, { b: { attachment: 1, length: 2, hex: '0203' } }],
      attachments: [{ attachment: 0, length: 1, hex: '01' }, { attachment: 1, length: 2, hex: '0203' }],
    });
    // A new packet before the attachments came: the old one is reported missing.
    const cut = feed('socket.io', [['client', '451-["x",{"_placeholder":true,"num":0}]'], ['client', '42["y"]']]);
    expect(rules(cut[1])).toEqual(['socket.io-missing-attachments']);
  });

  test('plain Engine.IO: a Socket.IO inside is found from the client\'s first message packet, else messages are data', () => {
    const eio = feed('engine.io', [['client', '4hello'], ['client', '4{"x":1}']], '/engine.io/?EIO=4&transport=websocket');
    expect(eio).toEqual([
      { protocol: 'engine.io', type: 'message', code: 4, data: 'hello', summary: 'message "hello"' },
      { protocol: 'engine.io', type: 'message', code: 4, data: '{"x":1}', summary: 'message "{\\"x\\":1}"' },
    ]);
    const sio = feed('engine.io', [['client', '40'], ['client', '42["a"]']], '/ws/?EIO=4&transport=websocket');
    expect(sio.map((p) => (p as AppPacket).protocol)).toEqual(['socket.io', 'socket.io']);
  });

  test('detection: path, query, the open packet; not a bare "2"', () => {
    expect(run('/socket.io/?EIO=3&transport=websocket', undefined, []).find((e) => e.event === 'protocol')).toMatchObject({ reason: 'path /socket.io/ with EIO=3 (Socket.IO v4 over Engine.IO v3)' });
    expect(run('/custom/?EIO=4&transport=websocket', undefined, []).find((e) => e.event === 'protocol')).toMatchObject({ protocol: 'engine.io' });
    const sniffed = run('/x', undefined, [['server', '0{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":2}'], ['client', '40']]);
    expect(sniffed.find((e) => e.event === 'protocol')).toMatchObject({ protocol: 'engine.io' });
    expect(apps(sniffed).map((a) => (a as AppPacket).protocol)).toEqual(['engine.io', 'socket.io']);
    expect(run('/socket.io/', undefined, [['client', '2']]).some((e) => e.event === 'protocol')).toBe(false);
  });
});

describe('STOMP', () => {
  const connect = 'CONNECT\naccept-version:1.2\nhost:stomp.example\nheart-beat:10000,10000\n\n\0';

  test('frames with their headers, body, topic, receipts', () => {
    expect(one('stomp', 'client', connect)).toEqual({
      protocol: 'stomp', type: 'CONNECT', headers: [['accept-version', '1.2'], ['host', 'stomp.example'], ['heart-beat', '10000,10000']], bodyLength: 0,
      heartBeat: [10000, 10000], summary: 'CONNECT accept-version 1.2 host stomp.example heart-beat 10000,10000',
    });
    expect(one('stomp', 'client', 'SEND\r\ndestination:/queue/a\r\ncontent-type:text/plain\r\nreceipt:77\r\n\r\nhello\0\n')).toEqual({
      protocol: 'stomp', type: 'SEND', headers: [['destination', '/queue/a'], ['content-type', 'text/plain'], ['receipt', '77']], bodyLength: 5, body: 'hello',
      topic: '/queue/a', id: '77', pair: 'request', summary: 'SEND /queue/a "hello" receipt 77',
    });
    expect(one('stomp', 'server', 'RECEIPT\nreceipt-id:77\n\n\0')).toMatchObject({ type: 'RECEIPT', id: '77', pair: 'response', summary: 'RECEIPT 77' });
    // content-length lets the body hold NULs.
    expect(one('stomp', 'server', 'MESSAGE\ndestination:/t\nmessage-id:1\nsubscription:0\ncontent-length:3\n\na\0b\0')).toMatchObject({ bodyLength: 3, body: 'a\0b', summary: 'MESSAGE /t (0) "a\\u0000b"' });
  });

  test('1.2 header escaping (not in CONNECT/CONNECTED), the first of repeated headers wins', () => {
    const [, , msg] = feed('stomp', [
      ['client', connect],
      ['server', 'CONNECTED\nversion:1.2\n\n\0'],
      ['server', 'MESSAGE\ndestination:/a\\cb\nmessage-id:1\nsubscription:s\\\\1\nfoo:1\nfoo:2\n\n\0'],
    ]) as AppPacket[];
    expect(msg.topic).toBe('/a:b');
    expect(msg.headers).toEqual([['destination', '/a:b'], ['message-id', '1'], ['subscription', 's\\1'], ['foo', '1'], ['foo', '2']]);
    expect(rules(feed('stomp', [['server', 'CONNECTED\nversion:1.2\n\n\0'], ['server', 'ERROR\nmessage:bad\\t\n\n\0']])[1])).toEqual(['stomp-bad-escape']);
  });

  test('frames split across messages and several in one; heart-beats', () => {
    const r = feed('stomp', [['client', 'SEND\ndestination:/q\n'], ['client', '\nhi'], ['client', '\0\nSEND\ndestination:/r\n\nyo\0'], ['client', '\n']]);
    expect(r[0]).toEqual({ protocol: 'stomp', partial: true });
    expect(r[1]).toEqual({ protocol: 'stomp', partial: true });
    expect((r[2] as AppPacket[]).map((p) => [p.summary, p.fromMessages])).toEqual([['SEND /q "hi"', 3], ['SEND /r "yo"', undefined]]);
    expect(r[3]).toEqual({ protocol: 'stomp', type: 'heart-beat', summary: 'heart-beat' });
  });

  test('violations: unknown command, missing headers, a body where none belongs', () => {
    expect(rules(one('stomp', 'client', 'SEND\n\nx\0'))).toEqual(['stomp-missing-header']);
    expect(rules(one('stomp', 'server', 'SEND\ndestination:/q\n\n\0'))).toEqual(['stomp-wrong-direction']);
    expect(rules(one('stomp', 'client', 'SUBSCRIBE\ndestination:/q\nid:0\n\nbody\0'))).toEqual(['stomp-unexpected-body']);
    expect(one('stomp', 'client', 'hello world\n\n\0')).toMatchObject({ type: 'invalid', violations: [{ rule: 'stomp-bad-packet' }] });
    // A content-length that is not a number: the frame ends at its NUL (26 bytes), with a violation.
    expect(stompLength(Buffer.from('SEND\ncontent-length:x\n\nab\0'))).toBe(26);
    expect(rules(one('stomp', 'client', 'SEND\ndestination:/q\ncontent-length:x\n\nab\0'))).toEqual(['stomp-bad-content-length']);
  });

  test('detection by the first frames, not by a lone newline', () => {
    expect(run('/ws', undefined, [['client', connect]]).find((e) => e.event === 'protocol')).toMatchObject({ protocol: 'stomp', reason: "the client's first frame is a whole STOMP CONNECT frame" });
    expect(run('/ws', undefined, [['client', '\n'], ['server', '\n']]).some((e) => e.event === 'protocol')).toBe(false);
  });
});

describe('GraphQL over WebSocket', () => {
  test('graphql-transport-ws messages', () => {
    expect(one('graphql-transport-ws', 'client', '{"type":"connection_init","payload":{"token":"t"}}')).toEqual({ protocol: 'graphql-transport-ws', type: 'connection_init', payload: { token: 't' }, summary: 'connection_init {"token":"t"}' });
    expect(one('graphql-transport-ws', 'client', '{"id":"op1","type":"subscribe","payload":{"query":"subscription OnChat($room: ID!) { chat(room: $room) { text } }","variables":{"room":"7"}}}')).toEqual({
      protocol: 'graphql-transport-ws', type: 'subscribe', id: 'op1', pair: 'request', operation: 'subscription', event: 'chat',
      payload: { query: 'subscription OnChat($room: ID!) { chat(room: $room) { text } }', variables: { room: '7' } }, summary: 'subscribe op1 subscription chat {"room":"7"}',
    });
    expect(one('graphql-transport-ws', 'server', '{"id":"op1","type":"error","payload":[{"message":"boom"}]}')).toMatchObject({ type: 'error', pair: 'end', summary: 'error op1 [{"message":"boom"}]' });
    expect(rules(one('graphql-transport-ws', 'server', '{"type":"subscribe","id":"1","payload":{"query":"{a}"}}'))).toEqual(['graphql-transport-ws-wrong-direction']);
    expect(rules(one('graphql-transport-ws', 'server', '{"type":"next"}'))).toEqual(['graphql-transport-ws-missing-id']);
    expect(rules(one('graphql-transport-ws', 'client', '{"type":"start","id":"1"}'))).toEqual(['graphql-transport-ws-unknown-type']);
    expect(rules(one('graphql-transport-ws', 'client', 'nope'))).toEqual(['graphql-transport-ws-not-an-object']);
  });

  test('legacy subscriptions-transport-ws (graphql-ws)', () => {
    expect(one('graphql-ws', 'client', '{"id":"1","type":"start","payload":{"query":"{ hello }","operationName":"Hi"}}')).toMatchObject({ type: 'start', pair: 'request', operation: 'query', event: 'Hi', summary: 'start 1 query Hi' });
    expect(one('graphql-ws', 'server', '{"type":"ka"}')).toEqual({ protocol: 'graphql-ws', type: 'ka', summary: 'ka' });
    expect(one('graphql-ws', 'server', '{"id":"1","type":"data","payload":{"data":{"hello":"w"}}}')).toMatchObject({ type: 'data', pair: 'stream' });
    expect(one('graphql-ws', 'client', '{"id":"1","type":"stop"}')).toMatchObject({ type: 'stop', pair: 'end' });
  });

  test('detection: the subprotocol; sniffed only from an operation start, never from connection_init', () => {
    expect(run('/g', undefined, [['client', '{"type":"connection_init"}']]).some((e) => e.event === 'protocol')).toBe(false);
    expect(run('/g', undefined, [['client', '{"id":"1","type":"start","payload":{"query":"{ a }"}}']]).find((e) => e.event === 'protocol')).toMatchObject({ protocol: 'graphql-ws' });
    expect(run('/g', undefined, [['client', '{"id":"1","type":"subscribe","payload":{"query":"{ a }"}}']]).find((e) => e.event === 'protocol')).toMatchObject({ protocol: 'graphql-transport-ws' });
  });
});

describe('Action Cable', () => {
  test('JSON-in-JSON identifier and data', () => {
    expect(one('actioncable', 'client', JSON.stringify({ command: 'subscribe', identifier: JSON.stringify({ channel: 'ChatChannel', room: 'lobby' }) }))).toEqual({
      protocol: 'actioncable', type: 'subscribe', identifier: { channel: 'ChatChannel', room: 'lobby' }, topic: 'ChatChannel', summary: 'subscribe ChatChannel',
    });
    expect(one('actioncable', 'client', JSON.stringify({ command: 'message', identifier: '{"channel":"ChatChannel"}', data: JSON.stringify({ action: 'speak', text: 'hi' }) }))).toEqual({
      protocol: 'actioncable', type: 'message', identifier: { channel: 'ChatChannel' }, topic: 'ChatChannel', data: { action: 'speak', text: 'hi' }, event: 'speak',
      summary: 'message ChatChannel speak {"text":"hi"}',
    });
    expect(one('actioncable', 'server', '{"type":"ping","message":1700000000}')).toEqual({ protocol: 'actioncable', type: 'ping', message: 1700000000, summary: 'ping 1700000000' });
    expect(one('actioncable', 'server', '{"identifier":"{\\"channel\\":\\"ChatChannel\\"}","message":{"text":"hi"}}')).toMatchObject({ type: 'broadcast', topic: 'ChatChannel', summary: 'broadcast ChatChannel {"text":"hi"}' });
    expect(one('actioncable', 'server', '{"type":"confirm_subscription","identifier":"{\\"channel\\":\\"ChatChannel\\"}"}')).toMatchObject({ summary: 'confirm_subscription ChatChannel' });
    expect(rules(one('actioncable', 'client', '{"command":"message","identifier":"{bad","data":"{}"}'))).toEqual(['actioncable-bad-identifier']);
    expect(run('/cable', undefined, [['server', '{"type":"welcome"}']]).find((e) => e.event === 'protocol')).toMatchObject({ protocol: 'actioncable' });
    expect(run('/cable', 'actioncable-v1-json', []).find((e) => e.event === 'protocol')).toMatchObject({ reason: 'Sec-WebSocket-Protocol: actioncable-v1-json' });
  });
});

describe('JSON-RPC 2.0', () => {
  test('the specification\'s examples (§7)', () => {
    expect(one('json-rpc', 'client', '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}')).toEqual({ protocol: 'json-rpc', type: 'request', id: 1, pair: 'request', event: 'subtract', params: [42, 23], summary: 'request #1 subtract [42,23]' });
    expect(one('json-rpc', 'server', '{"jsonrpc": "2.0", "result": 19, "id": 1}')).toEqual({ protocol: 'json-rpc', type: 'result', id: 1, pair: 'response', result: 19, summary: 'result #1 19' });
    expect(one('json-rpc', 'client', '{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}')).toEqual({ protocol: 'json-rpc', type: 'notification', event: 'update', params: [1, 2, 3, 4, 5], summary: 'notification update [1,2,3,4,5]' });
    expect(one('json-rpc', 'server', '{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}')).toEqual({
      protocol: 'json-rpc', type: 'error', id: '1', pair: 'response', error: { code: -32601, message: 'Method not found' }, code: -32601, codeName: 'Method not found', summary: 'error #"1" -32601 "Method not found"',
    });
    expect(one('json-rpc', 'server', '{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}')).toMatchObject({ type: 'error', code: -32700 });
    const batch = feed('json-rpc', [['client', '[{"jsonrpc":"2.0","method":"sum","params":[1,2,4],"id":"1"},{"jsonrpc":"2.0","method":"notify_hello","params":[7]},{"foo":"boo"}]']])[0] as AppPacket[];
    expect(batch.map((p) => [p.type, p.batch])).toEqual([['request', 3], ['notification', 3], ['invalid', 3]]);
    expect(rules(batch[2])).toEqual(['json-rpc-bad-version', 'json-rpc-not-a-message']);
    expect(rules(one('json-rpc', 'client', '[]'))).toEqual(['json-rpc-empty-batch']);
    expect(rules(one('json-rpc', 'client', '{"jsonrpc":"2.0","method":1,"params":"x","id":{}}'))).toEqual(['json-rpc-bad-id', 'json-rpc-bad-method', 'json-rpc-bad-params']);
    expect(rules(one('json-rpc', 'server', '{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"m"},"id":1}'))).toEqual(['json-rpc-result-and-error']);
  });
});

describe('SockJS', () => {
  test('framing, and STOMP inside recognised in turn (app.inner)', () => {
    const target = '/stomp/123/abcdefgh/websocket';
    const r = feed('sockjs', [
      ['server', 'o'],
      ['client', JSON.stringify(['CONNECT\naccept-version:1.2\nhost:/\n\n\0'])],
      ['server', 'a' + JSON.stringify(['CONNECTED\nversion:1.2\n\n\0'])],
      ['server', 'h'],
      ['server', 'a' + JSON.stringify(['MESSAGE\ndestination:/t\nmessage-id:1\nsubscription:0\n\nx\0', 'MESSAGE\ndestination:/t\nmessage-id:2\nsubscription:0\n\ny\0'])],
      ['server', 'c[3000,"Go away!"]'],
    ], target) as AppPacket[];
    expect(r[0]).toEqual({ protocol: 'sockjs', type: 'open', code: 0x6f, summary: 'open' });
    expect(r[1]).toMatchObject({ protocol: 'sockjs', type: 'send', inner: { protocol: 'stomp', type: 'CONNECT' }, summary: 'send CONNECT accept-version 1.2 host /' });
    expect(r[2]).toMatchObject({ type: 'array', inner: { type: 'CONNECTED', version: '1.2' } });
    expect(r[3]).toEqual({ protocol: 'sockjs', type: 'heartbeat', code: 0x68, summary: 'heartbeat' });
    expect((r[4].inner as AppPacket[]).map((p) => p.body)).toEqual(['x', 'y']);
    expect(r[5]).toEqual({ protocol: 'sockjs', type: 'close', code: 0x63, closeCode: 3000, closeReason: 'Go away!', summary: 'close 3000 "Go away!"' });
    expect(rules(one('sockjs', 'server', 'x'))).toEqual(['sockjs-bad-frame-type']);
    expect(rules(one('sockjs', 'server', 'a[1]'))).toEqual(['sockjs-bad-array']);
  });

  test('detection: the path /<prefix>/<server>/<session>/websocket, or "o" on a /websocket path', () => {
    expect(run('/echo/000/x1y2z3/websocket', undefined, []).find((e) => e.event === 'protocol')).toMatchObject({ protocol: 'sockjs' });
    expect(run('/api/v1/websocket', undefined, []).some((e) => e.event === 'protocol')).toBe(false);
    expect(run('/chat', undefined, [['server', 'o']]).some((e) => e.event === 'protocol')).toBe(false);
    expect(run('/x/websocket', undefined, [['server', 'o']]).find((e) => e.event === 'protocol')).toMatchObject({ protocol: 'sockjs' });
  });
});
