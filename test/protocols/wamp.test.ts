import { encode as msgpack } from '@msgpack/msgpack';
import { encode as cbor } from 'cbor-x';
import { WAMP_MESSAGES, WAMP_RULES, WampSession, decodeWamp, sniffWampHello, wampSerialization } from '../../src/protocols/wamp';
import type { Packet, PacketResult } from '../../src/protocols/wire';

const packets = (r: PacketResult): Packet[] => (r === null || 'partial' in r ? [] : Array.isArray(r) ? r : [r]);
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('WAMP v2: exact fields (examples of the WAMP spec, §7-§13)', () => {
  it('HELLO, WELCOME, CALL, RESULT in JSON', () => {
    const s = new WampSession('json');
    expect(packets(s.message('client', 1, json([1, 'somerealm', { roles: { caller: {}, subscriber: {} } }])))[0]).toEqual({
      protocol: 'wamp', type: 'HELLO', code: 1, realm: 'somerealm', details: { roles: { caller: {}, subscriber: {} } },
      serialization: 'json', summary: 'HELLO somerealm' });
    expect(packets(s.message('server', 1, json([2, 9129137332, { roles: { broker: {} } }])))[0]).toMatchObject({
      type: 'WELCOME', code: 2, session: 9129137332, summary: 'WELCOME session 9129137332' });
    expect(packets(s.message('client', 1, json([48, 7814135, {}, 'com.myapp.echo', ['Hello, world!']])))[0]).toEqual({
      protocol: 'wamp', type: 'CALL', code: 48, request: 7814135, options: {}, procedure: 'com.myapp.echo', args: ['Hello, world!'],
      event: 'com.myapp.echo', id: 7814135, pair: 'request', serialization: 'json', summary: 'CALL 7814135 com.myapp.echo ["Hello, world!"]' });
    expect(packets(s.message('server', 1, json([50, 7814135, {}, [30], { userid: 123 }])))[0]).toMatchObject({
      type: 'RESULT', code: 50, id: 7814135, pair: 'response', args: [30], kwargs: { userid: 123 }, summary: 'RESULT 7814135 [30] {"userid":123}' });
    expect(packets(s.message('server', 1, json([50, 7, { progress: true }, [1]])))[0]).toMatchObject({ pair: 'stream', summary: 'RESULT 7 progress [1]' });
  });

  it('PUBLISH / EVENT / SUBSCRIBE / ERROR / REGISTER / INVOCATION / YIELD / GOODBYE', () => {
    expect(decodeWamp(json([16, 239714735, {}, 'com.myapp.mytopic1', ['Hello, world!']]), 'json', 'client')).toMatchObject({
      type: 'PUBLISH', topic: 'com.myapp.mytopic1', id: 239714735, pair: 'request', summary: 'PUBLISH 239714735 com.myapp.mytopic1 ["Hello, world!"]' });
    expect(decodeWamp(json([36, 5512315355, 4429313566, {}, ['Hello, world!']]), 'json', 'server')).toMatchObject({
      type: 'EVENT', code: 36, subscription: 5512315355, publication: 4429313566, summary: 'EVENT subscription 5512315355 publication 4429313566 ["Hello, world!"]' });
    expect(decodeWamp(json([32, 713845233, {}, 'com.myapp.mytopic1']), 'json', 'client')).toMatchObject({ type: 'SUBSCRIBE', topic: 'com.myapp.mytopic1', pair: 'request' });
    expect(decodeWamp(json([8, 48, 7814135, {}, 'wamp.error.no_such_procedure']), 'json', 'server')).toMatchObject({
      type: 'ERROR', requestType: 48, id: 7814135, pair: 'response', error: 'wamp.error.no_such_procedure', summary: 'ERROR CALL 7814135 wamp.error.no_such_procedure' });
    expect(decodeWamp(json([64, 25349185, {}, 'com.myapp.myprocedure1']), 'json', 'client')).toMatchObject({ type: 'REGISTER', event: 'com.myapp.myprocedure1' });
    expect(decodeWamp(json([68, 6131533, 9823526, {}, ['Hello, world!']]), 'json', 'server')).toMatchObject({ type: 'INVOCATION', pair: 'request', registration: 9823526 });
    expect(decodeWamp(json([70, 6131533, {}, ['Hello, world!']]), 'json', 'client')).toMatchObject({ type: 'YIELD', pair: 'response' });
    expect(decodeWamp(json([6, { message: 'The host is shutting down now.' }, 'wamp.close.system_shutdown']), 'json', 'server')).toMatchObject({
      type: 'GOODBYE', summary: 'GOODBYE wamp.close.system_shutdown' });
  });

  it('the same messages in MessagePack and CBOR (built with the libraries) decode to the same fields', () => {
    const msg = [48, 7814135, { disclose_me: true }, 'com.myapp.add2', [23, 7], { x: 1 }];
    const fromJson = decodeWamp(json(msg), 'json', 'client');
    const { serialization: _j, ...rest } = fromJson;
    expect(decodeWamp(Buffer.from(msgpack(msg)), 'msgpack', 'client')).toEqual({ ...rest, serialization: 'msgpack' });
    expect(decodeWamp(Buffer.from(cbor(msg)), 'cbor', 'client')).toEqual({ ...rest, serialization: 'cbor' });
  });

  it('subprotocols name the serialisation; batched messages carry several', () => {
    expect(wampSerialization('wamp.2.msgpack')).toEqual({ serialization: 'msgpack', batched: false });
    expect(wampSerialization('wamp.2.json.batched')).toEqual({ serialization: 'json', batched: true });
    expect(wampSerialization('wamp.1')).toBeNull();
    const s = new WampSession('json', true);
    const batch = Buffer.concat([json([17, 1, 2]), Buffer.from([0x1e]), json([33, 3, 4]), Buffer.from([0x1e])]);
    expect(packets(s.message('server', 1, batch)).map((p) => p.type)).toEqual(['PUBLISHED', 'SUBSCRIBED']);
    const a = Buffer.from(msgpack([17, 1, 2]));
    const b = Buffer.from(msgpack([35, 5]));
    const len = (x: Buffer) => Buffer.from([0, 0, 0, x.length]);
    const m = new WampSession('msgpack', true);
    expect(packets(m.message('server', 2, Buffer.concat([len(a), a, len(b), b]))).map((p) => p.summary)).toEqual(['PUBLISHED 1 publication 2', 'UNSUBSCRIBED 5']);
  });

  it('sniffs only a whole JSON HELLO with roles from the client', () => {
    expect(sniffWampHello('client', 1, json([1, 'realm1', { roles: { caller: {} } }]))).toBe(true);
    expect(sniffWampHello('client', 1, json([1, 'realm1', {}]))).toBe(false);
    expect(sniffWampHello('server', 1, json([1, 'realm1', { roles: {} }]))).toBe(false);
    expect(sniffWampHello('client', 1, Buffer.from('[1,2,3]'))).toBe(false);
    expect(sniffWampHello('client', 1, Buffer.from('2'))).toBe(false);
  });

  it('every type in the table has a name and decodes from a minimal message without violations', () => {
    const sample: Record<string, unknown> = { id: 1, uri: 'a.b', dict: {}, list: [], int: 48, string: 'x' };
    for (const [code, def] of Object.entries(WAMP_MESSAGES)) {
      const msg = [Number(code), ...def.fields.map(([, k]) => sample[k])];
      const p = decodeWamp(json(msg), 'json', def.from === 'router' ? 'server' : 'client');
      expect({ code, type: p.type, violations: p.violations }).toEqual({ code, type: def.name, violations: undefined });
    }
  });
});

const BREAKING: Record<keyof typeof WAMP_RULES, { ser: 'json' | 'msgpack' | 'cbor'; dir: 'client' | 'server'; opcode: 1 | 2; bytes: Buffer }> = {
  'wamp-bad-encoding': { ser: 'json', dir: 'client', opcode: 1, bytes: Buffer.from('[1, "realm1", {') },
  'wamp-wrong-opcode': { ser: 'json', dir: 'client', opcode: 2, bytes: json([1, 'realm1', {}]) },
  'wamp-not-array': { ser: 'json', dir: 'client', opcode: 1, bytes: json({ hello: 1 }) },
  'wamp-unknown-type': { ser: 'json', dir: 'client', opcode: 1, bytes: json([99, 1]) },
  'wamp-bad-length': { ser: 'json', dir: 'client', opcode: 1, bytes: json([1, 'realm1']) },
  'wamp-bad-field': { ser: 'msgpack', dir: 'client', opcode: 2, bytes: Buffer.from(msgpack([48, 'one', {}, 'com.x'])) },
  'wamp-bad-uri': { ser: 'cbor', dir: 'client', opcode: 2, bytes: Buffer.from(cbor([32, 1, {}, 'com..x y'])) },
  'wamp-wrong-direction': { ser: 'json', dir: 'server', opcode: 1, bytes: json([48, 1, {}, 'com.x']) },
};

describe('WAMP rules: each broken by its own input', () => {
  for (const [rule, ex] of Object.entries(BREAKING)) {
    it(rule, () => {
      const got = packets(new WampSession(ex.ser).message(ex.dir, ex.opcode, ex.bytes));
      expect(got.flatMap((p) => (p.violations ?? []).map((v) => v.rule))).toContain(rule);
    });
  }
});
