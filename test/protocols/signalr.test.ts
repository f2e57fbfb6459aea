import { encode as msgpack } from '@msgpack/msgpack';
import { SIGNALR_MAX_RECORD, SIGNALR_RULES, SignalrSession, sniffSignalrHandshake } from '../../src/protocols/signalr';
import type { Packet, PacketResult } from '../../src/protocols/wire';

const packets = (r: PacketResult): Packet[] => (r === null || 'partial' in r ? [] : Array.isArray(r) ? r : [r]);
const rec = (...vs: unknown[]) => Buffer.from(vs.map((v) => JSON.stringify(v) + '\x1e').join(''));
/** A MessagePack hub message with its varint length (HubProtocol.md "MessagePack Encoding"). */
function mp(v: unknown): Buffer {
  const body = Buffer.from(msgpack(v));
  const len: number[] = [];
  for (let n = body.length; ; n >>= 7) {
    len.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    if (n < 0x80) break;
  }
  return Buffer.concat([Buffer.from(len), body]);
}

describe('SignalR JSON hub protocol (HubProtocol.md examples)', () => {
  it('handshake, Invocation, Completion, StreamItem, Ping, Close', () => {
    const s = new SignalrSession();
    expect(packets(s.message('client', 1, rec({ protocol: 'json', version: 1 })))[0]).toEqual({
      protocol: 'signalr', type: 'Handshake', hubProtocol: 'json', version: 1, summary: 'Handshake json v1' });
    expect(packets(s.message('server', 1, rec({})))[0]).toEqual({ protocol: 'signalr', type: 'HandshakeResponse', summary: 'HandshakeResponse ok' });
    expect(packets(s.message('client', 1, rec({ type: 1, invocationId: '123', target: 'Send', arguments: [42, 'Test Message'] })))[0]).toEqual({
      protocol: 'signalr', type: 'Invocation', code: 1, encoding: 'json', invocationId: '123', target: 'Send', arguments: [42, 'Test Message'],
      id: '123', pair: 'request', event: 'Send', summary: 'Invocation "Send" [42,"Test Message"] id 123' });
    // The server often writes several records in one message.
    const many = packets(s.message('server', 1, rec({ type: 2, invocationId: '123', item: 42 }, { type: 3, invocationId: '123', result: 42 }, { type: 6 })));
    expect(many.map((p) => p.summary)).toEqual(['StreamItem id 123 42', 'Completion id 123 result 42', 'Ping']);
    expect(many.map((p) => p.pair)).toEqual(['stream', 'response', undefined]);
    expect(packets(s.message('server', 1, rec({ type: 3, invocationId: '124', error: 'It didn\'t work!' })))[0].summary).toBe('Completion id 124 error "It didn\'t work!"');
    expect(packets(s.message('server', 1, rec({ type: 7, error: 'Connection closed because of an error!', allowReconnect: true })))[0]).toMatchObject({
      type: 'Close', code: 7, summary: 'Close error "Connection closed because of an error!" allowReconnect' });
  });

  it('a handshake refused by the server', () => {
    const s = new SignalrSession();
    s.message('client', 1, rec({ protocol: 'foo', version: 1 }));
    expect(packets(s.message('server', 1, rec({ error: 'Requested protocol \'foo\' is not available.' })))[0].summary).toBe('HandshakeResponse error "Requested protocol \'foo\' is not available."');
  });

  it('a record split across messages is reported once with fromMessages', () => {
    const s = new SignalrSession(true);
    const b = rec({ type: 1, target: 'Send', arguments: [1] });
    for (let i = 1; i < b.length; i++) {
      const t = new SignalrSession(true);
      expect(t.message('client', 1, b.subarray(0, i))).toEqual({ protocol: 'signalr', partial: true });
      expect(packets(t.message('client', 1, b.subarray(i)))[0]).toMatchObject({ type: 'Invocation', fromMessages: 2, event: 'Send' });
    }
    expect(packets(s.message('client', 1, b))[0].fromMessages).toBeUndefined();
  });
});

describe('SignalR MessagePack hub protocol', () => {
  it('handshake in JSON, then length-prefixed arrays of every type', () => {
    const s = new SignalrSession();
    s.message('client', 1, rec({ protocol: 'messagepack', version: 1 }));
    expect(s.hubProtocol).toBe('messagepack');
    s.message('server', 1, rec({}));
    // HubProtocol.md: Invocation [1, Headers, InvocationId, Target, [Arguments], [StreamIds]].
    const inv = packets(s.message('client', 2, mp([1, {}, 'xyz', 'method', [42], []])))[0];
    expect(inv).toEqual({ protocol: 'signalr', type: 'Invocation', code: 1, encoding: 'messagepack', invocationId: 'xyz', target: 'method',
      arguments: [42], streamIds: [], id: 'xyz', pair: 'request', event: 'method', summary: 'Invocation "method" [42] id xyz' });
    const all = packets(s.message('server', 2, Buffer.concat([mp([2, {}, 'xyz', 42]), mp([3, {}, 'xyz', 3, 42]), mp([3, {}, 'abc', 1, 'Error!']),
      mp([3, { k: 'v' }, 'v', 2]), mp([6]), mp([7, null, false]), mp([8, 1394]), mp([9, 1395])])));
    expect(all.map((p) => p.summary)).toEqual(['StreamItem id xyz 42', 'Completion id xyz result 42', 'Completion id abc error "Error!"',
      'Completion id v', 'Ping', 'Close', 'Ack 1394', 'Sequence 1395']);
    expect(all[3]).toMatchObject({ resultKind: 'Void', headers: { k: 'v' } });
    expect(all.every((p) => !p.violations)).toBe(true);
  });

  it('a long message (two-byte varint length) split at every byte', () => {
    const b = mp([1, {}, null, 'Big', ['x'.repeat(300)], []]);
    expect(b[0] & 0x80).toBe(0x80);
    for (let i = 1; i < b.length; i += 7) {
      const s = new SignalrSession(true);
      s.hubProtocol = 'messagepack';
      expect(s.message('client', 2, b.subarray(0, i))).toEqual({ protocol: 'signalr', partial: true });
      expect(packets(s.message('client', 2, b.subarray(i)))[0]).toMatchObject({ type: 'Invocation', fromMessages: 2, event: 'Big' });
    }
  });

  it(`a message longer than ${SIGNALR_MAX_RECORD} bytes is not buffered`, () => {
    const s = new SignalrSession(true);
    s.hubProtocol = 'messagepack';
    const got = packets(s.message('client', 2, Buffer.from([0x80, 0x80, 0x80, 0x01])));
    expect(got[0].violations![0].rule).toBe('signalr-record-too-long');
  });

  it('sniffs only a whole handshake request from the client', () => {
    expect(sniffSignalrHandshake('client', 1, rec({ protocol: 'json', version: 1 }))).toBe(true);
    expect(sniffSignalrHandshake('client', 1, Buffer.from('{"protocol":"json","version":1}'))).toBe(false);
    expect(sniffSignalrHandshake('server', 1, rec({ protocol: 'json', version: 1 }))).toBe(false);
    expect(sniffSignalrHandshake('client', 1, rec({ protocol: 'json', version: 1, x: 1 }))).toBe(false);
  });
});

const BREAKING: Record<keyof typeof SIGNALR_RULES, { mp?: boolean; dir: 'client' | 'server'; bytes: Buffer }> = {
  'signalr-bad-json': { dir: 'client', bytes: Buffer.from('{"type":1,\x1e') },
  'signalr-bad-msgpack': { mp: true, dir: 'client', bytes: Buffer.from([0x02, 0xc1, 0xc1]) },
  'signalr-bad-length': { mp: true, dir: 'client', bytes: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]) },
  'signalr-bad-handshake': { dir: 'client', bytes: rec({ protocol: 1 }) },
  'signalr-unknown-type': { dir: 'client', bytes: rec({ type: 42 }) },
  'signalr-missing-field': { dir: 'client', bytes: rec({ type: 1, arguments: [] }) },
  'signalr-bad-field': { dir: 'client', bytes: rec({ type: 1, target: 5, arguments: [] }) },
  'signalr-result-and-error': { dir: 'server', bytes: rec({ type: 3, invocationId: '1', result: 1, error: 'x' }) },
  'signalr-record-too-long': { dir: 'client', bytes: Buffer.alloc(SIGNALR_MAX_RECORD + 1, 0x20) },
};

describe('SignalR rules: each broken by its own input', () => {
  for (const [rule, ex] of Object.entries(BREAKING)) {
    it(rule, () => {
      const s = new SignalrSession(rule !== 'signalr-bad-handshake');
      if (ex.mp) s.hubProtocol = 'messagepack';
      const got = packets(s.message(ex.dir, ex.mp ? 2 : 1, ex.bytes));
      expect(got.flatMap((p) => (p.violations ?? []).map((v) => v.rule))).toContain(rule);
    });
  }
});
