import * as mqttPacket from 'mqtt-packet';
import { MQTT_MAX_PACKET, MQTT_RULES, MqttSession, type MqttVersion, decodeMqttPacket } from '../../src/protocols/mqtt';
import type { Packet, PacketResult } from '../../src/protocols/wire';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const packets = (r: PacketResult): Packet[] => (r === null || 'partial' in r ? [] : Array.isArray(r) ? r : [r]);

/** A client CONNECT 3.1.1 with every flag of the spec's example (§3.1.2.10: flags 0xce, keep alive 10). */
const CONNECT_V4 = '10 1c 0004 4d515454 04 ce 000a 0002 6331 0001 77 0003 627965 0001 75 0001 70';

describe('MQTT: exact fields from known bytes', () => {
  it('CONNECT 3.1.1 (MQTT 3.1.1 §3.1.2 example flags)', () => {
    const p = decodeMqttPacket(hex(CONNECT_V4), 4, 'client');
    expect(p).toEqual({
      protocol: 'mqtt', type: 'CONNECT', code: 1, remainingLength: 28,
      protocolName: 'MQTT', protocolLevel: 4, cleanSession: true, keepAlive: 10, clientId: 'c1',
      will: { qos: 1, retain: false, topic: 'w', payloadLength: 3, payload: '"bye"' },
      username: 'u', passwordLength: 1,
      summary: 'CONNECT 3.1.1 client "c1" keepalive 10 clean user "u" password will w qos 1',
    });
  });

  it('PUBLISH t/1 qos 1 id 7 retain "hello"', () => {
    const p = decodeMqttPacket(hex('33 0c 0003 742f31 0007 68656c6c6f'), 4, 'client');
    expect(p).toEqual({
      protocol: 'mqtt', type: 'PUBLISH', code: 3, remainingLength: 12, qos: 1, dup: false, retain: true,
      topic: 't/1', packetId: 7, payloadLength: 5, payload: 'hello', summary: 'PUBLISH t/1 qos 1 id 7 retain "hello"',
    });
  });

  it('binary PUBLISH payload as hex, summary with its size', () => {
    const p = decodeMqttPacket(hex('30 08 0001 61 00ff1002fe'), 4, 'server');
    expect(p.payloadHex).toBe('00ff1002fe');
    expect(p.summary).toBe('PUBLISH a qos 0 5 bytes 00ff1002fe');
  });

  it('MQTT 5.0 CONNECT with properties, CONNACK with properties and a reason', () => {
    const s = new MqttSession();
    // Session Expiry Interval 300, User Property a=b (MQTT 5.0 §3.1.2.11).
    const c = packets(s.message('client', 2, hex('10 1b 0004 4d515454 05 02 003c 0c 11 0000012c 26 0001 61 0001 62 0002 6331')))[0];
    expect(c).toMatchObject({ type: 'CONNECT', protocolLevel: 5, cleanStart: true, keepAlive: 60, clientId: 'c1',
      properties: { sessionExpiryInterval: 300, userProperties: { a: 'b' } }, summary: 'CONNECT 5.0 client "c1" keepalive 60 clean' });
    expect(c.violations).toBeUndefined();
    expect(s.version).toBe(5);
    const a = packets(s.message('server', 2, hex('20 09 00 00 06 21 0014 22 000a')))[0];
    expect(a).toEqual({ protocol: 'mqtt', type: 'CONNACK', code: 2, remainingLength: 9, sessionPresent: false, reasonCode: 0,
      reason: 'Success', properties: { receiveMaximum: 20, topicAliasMaximum: 10 }, summary: 'CONNACK Success' });
    const refused = packets(s.message('server', 2, hex('20 03 00 87 00')))[0];
    expect(refused.summary).toBe('CONNACK Not authorized');
  });

  it('MQTT 5.0 PUBLISH with a topic alias, subscription ids and user properties; PUBACK with a reason', () => {
    const p = decodeMqttPacket(hex('32 18 0003 742f31 0009 0e 23 0005 0b 02 0b 03 26 0001 6b 0001 76 6869'), 5, 'server');
    expect(p).toMatchObject({ topic: 't/1', packetId: 9, qos: 1,
      properties: { topicAlias: 5, subscriptionIdentifier: [2, 3], userProperties: { k: 'v' } }, payload: 'hi',
      summary: 'PUBLISH t/1 alias 5 qos 1 id 9 "hi"' });
    expect(p.violations).toBeUndefined();
    const ack = decodeMqttPacket(hex('40 03 0009 10'), 5, 'client');
    expect(ack).toMatchObject({ packetId: 9, reasonCode: 0x10, reason: 'No matching subscribers', summary: 'PUBACK id 9 No matching subscribers' });
  });

  it('SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK / PINGs / DISCONNECT 3.1.1', () => {
    expect(decodeMqttPacket(hex('82 0c 0001 0003 742f31 01 0001 23 00'), 4, 'client')).toMatchObject({
      type: 'SUBSCRIBE', code: 8, packetId: 1, topic: 't/1', topics: ['t/1', '#'],
      subscriptions: [{ topic: 't/1', qos: 1 }, { topic: '#', qos: 0 }], summary: 'SUBSCRIBE id 1 t/1 qos 1, # qos 0' });
    expect(decodeMqttPacket(hex('90 04 0001 01 80'), 4, 'server')).toMatchObject({
      type: 'SUBACK', reasonCodes: [1, 0x80], summary: 'SUBACK id 1 Granted QoS 1, Failure' });
    expect(decodeMqttPacket(hex('a2 05 0002 0001 61'), 4, 'client')).toMatchObject({ type: 'UNSUBSCRIBE', topics: ['a'], summary: 'UNSUBSCRIBE id 2 a' });
    expect(decodeMqttPacket(hex('b0 02 0002'), 4, 'server')).toMatchObject({ type: 'UNSUBACK', code: 11, summary: 'UNSUBACK id 2' });
    expect(decodeMqttPacket(hex('c0 00'), 4, 'client')).toEqual({ protocol: 'mqtt', type: 'PINGREQ', code: 12, remainingLength: 0, summary: 'PINGREQ' });
    expect(decodeMqttPacket(hex('d0 00'), 4, 'server').summary).toBe('PINGRESP');
    expect(decodeMqttPacket(hex('e0 00'), 4, 'client').summary).toBe('DISCONNECT');
    expect(decodeMqttPacket(hex('62 02 0003'), 4, 'client').summary).toBe('PUBREL id 3');
  });

  it('MQTT 5.0 SUBSCRIBE options, SUBACK reasons, DISCONNECT and AUTH reasons', () => {
    expect(decodeMqttPacket(hex('82 08 0001 00 0001 61 2e'), 5, 'client').subscriptions).toEqual([
      { topic: 'a', qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2 }]);
    expect(decodeMqttPacket(hex('90 05 0001 00 00 a2'), 5, 'server').reasons).toEqual(['Granted QoS 0', 'Wildcard Subscriptions not supported']);
    expect(decodeMqttPacket(hex('e0 01 8e'), 5, 'server').summary).toBe('DISCONNECT Session taken over');
    expect(decodeMqttPacket(hex('e0 00'), 5, 'client')).toMatchObject({ reason: 'Normal disconnection', summary: 'DISCONNECT' });
    expect(decodeMqttPacket(hex('f0 08 18 06 15 0003 616263'), 5, 'client')).toMatchObject({
      type: 'AUTH', code: 15, reason: 'Continue authentication', properties: { authenticationMethod: 'abc' } });
  });

  it('agrees with mqtt-packet (mqtt.js\'s encoder) on every packet type, v4 and v5', () => {
    const cases: [MqttVersion, 'client' | 'server', Record<string, unknown>][] = [
      [4, 'client', { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'x', clean: false, keepalive: 30, username: 'me', password: Buffer.from('pw') }],
      [5, 'client', { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'y', clean: true, keepalive: 0,
        will: { topic: 'dead', payload: Buffer.from('x'), qos: 2, retain: true, properties: { willDelayInterval: 5 } }, properties: { receiveMaximum: 9 } }],
      [5, 'server', { cmd: 'connack', sessionPresent: true, reasonCode: 0, properties: { assignedClientIdentifier: 'z' } }],
      [5, 'client', { cmd: 'publish', topic: 'a/b', payload: Buffer.from('v'), qos: 2, messageId: 300, retain: false, dup: true,
        properties: { contentType: 'text/plain', correlationData: Buffer.from('0102', 'hex'), messageExpiryInterval: 7 } }],
      [5, 'server', { cmd: 'pubrec', messageId: 300, reasonCode: 0 }],
      [5, 'client', { cmd: 'pubrel', messageId: 300, reasonCode: 0x92 }],
      [5, 'server', { cmd: 'pubcomp', messageId: 300 }],
      [5, 'client', { cmd: 'subscribe', messageId: 4, subscriptions: [{ topic: 'a/+', qos: 1, nl: false, rap: true, rh: 1 }], properties: { subscriptionIdentifier: 77 } }],
      [5, 'server', { cmd: 'suback', messageId: 4, granted: [1], properties: { reasonString: 'ok' } }],
      [5, 'client', { cmd: 'unsubscribe', messageId: 5, unsubscriptions: ['a/+', 'b'] }],
      [5, 'server', { cmd: 'unsuback', messageId: 5, granted: [0, 0x11] }],
      [5, 'server', { cmd: 'disconnect', reasonCode: 0x8b, properties: { serverReference: 'other' } }],
    ];
    for (const [v, dir, obj] of cases) {
      const bytes = mqttPacket.generate(obj as unknown as mqttPacket.Packet, { protocolVersion: v });
      const p = decodeMqttPacket(bytes, v, dir);
      expect({ cmd: obj.cmd, violations: p.violations }).toEqual({ cmd: obj.cmd, violations: undefined });
      expect(p.type.toLowerCase()).toBe(obj.cmd);
    }
    const conn = decodeMqttPacket(mqttPacket.generate(cases[1][2] as unknown as mqttPacket.Packet), 5, 'client');
    expect(conn.will).toEqual({ qos: 2, retain: true, properties: { willDelayInterval: 5 }, topic: 'dead', payloadLength: 1, payload: '"x"' });
    const pub = decodeMqttPacket(mqttPacket.generate(cases[3][2] as unknown as mqttPacket.Packet, { protocolVersion: 5 }), 5, 'client');
    expect(pub).toMatchObject({ dup: true, qos: 2, packetId: 300, properties: { contentType: 'text/plain', correlationData: '0102', messageExpiryInterval: 7 } });
    const sub = decodeMqttPacket(mqttPacket.generate(cases[7][2] as unknown as mqttPacket.Packet, { protocolVersion: 5 }), 5, 'client');
    expect(sub).toMatchObject({ properties: { subscriptionIdentifier: 77 }, subscriptions: [{ topic: 'a/+', qos: 1, noLocal: false, retainAsPublished: true, retainHandling: 1 }] });
  });
});

/** For every rule: bytes that break it (and a version and sender). */
const BREAKING: Record<keyof typeof MQTT_RULES, { v: MqttVersion; dir: 'client' | 'server'; hex: string; opcode?: 1 | 2 }> = {
  'mqtt-bad-remaining-length': { v: 4, dir: 'client', hex: '30 ff ff ff ff 01' },
  'mqtt-non-minimal-length': { v: 4, dir: 'client', hex: 'c0 80 00' },
  'mqtt-reserved-type': { v: 4, dir: 'client', hex: '00 00' },
  'mqtt-bad-flags': { v: 4, dir: 'client', hex: 'c1 00' },
  'mqtt-bad-qos': { v: 4, dir: 'client', hex: '36 07 0003 742f31 0001' },
  'mqtt-wrong-direction': { v: 4, dir: 'client', hex: 'd0 00' },
  'mqtt-truncated': { v: 4, dir: 'client', hex: '30 02 0005' },
  'mqtt-trailing-bytes': { v: 4, dir: 'client', hex: 'c0 01 00' },
  'mqtt-bad-utf8': { v: 4, dir: 'client', hex: '30 04 0002 c328' },
  'mqtt-bad-protocol-name': { v: 4, dir: 'client', hex: '10 0c 0004 4d515458 04 02 003c 0000' },
  'mqtt-bad-protocol-level': { v: 4, dir: 'client', hex: '10 0c 0004 4d515454 07 02 003c 0000' },
  'mqtt-bad-connect-flags': { v: 4, dir: 'client', hex: '10 0c 0004 4d515454 04 03 003c 0000' },
  'mqtt-bad-connack-flags': { v: 4, dir: 'server', hex: '20 02 02 00' },
  'mqtt-bad-packet-id': { v: 4, dir: 'client', hex: '40 02 0000' },
  'mqtt-topic-wildcard': { v: 4, dir: 'client', hex: '30 05 0003 742f23' },
  'mqtt-empty-topic': { v: 4, dir: 'client', hex: '30 02 0000' },
  'mqtt-empty-subscribe': { v: 4, dir: 'client', hex: '82 02 0001' },
  'mqtt-bad-subscription-options': { v: 4, dir: 'client', hex: '82 06 0001 0001 74 03' },
  'mqtt-bad-property': { v: 5, dir: 'client', hex: '30 06 0001 74 02 7f00' },
  'mqtt-duplicate-property': { v: 5, dir: 'client', hex: '30 0a 0001 74 06 23 0001 23 0002' },
  'mqtt-bad-reason-code': { v: 5, dir: 'server', hex: '40 03 0001 05' },
  'mqtt-text-frame': { v: 4, dir: 'client', hex: 'c0 00', opcode: 1 },
};

describe('MQTT rules: each broken by its own input', () => {
  for (const [rule, ex] of Object.entries(BREAKING)) {
    it(rule, () => {
      const s = new MqttSession(ex.v);
      const got = packets(s.message(ex.dir, ex.opcode ?? 2, hex(ex.hex)));
      const rules = got.flatMap((p) => (p.violations ?? []).map((v) => v.rule));
      expect(rules).toContain(rule);
      for (const p of got) for (const v of p.violations ?? []) expect(v.section).toMatch(/^MQTT /);
    });
  }

  it('the well-formed packets of this file break no rule', () => {
    for (const h of [CONNECT_V4, '33 0c 0003 742f31 0007 68656c6c6f', '82 0c 0001 0003 742f31 01 0001 23 00', 'c0 00', 'e0 00']) {
      expect(decodeMqttPacket(hex(h), 4, 'client').violations).toBeUndefined();
    }
  });

  it('after a Remaining Length longer than four bytes the direction stops being decoded, the other goes on', () => {
    const s = new MqttSession();
    expect(packets(s.message('client', 2, hex('30 ff ff ff ff 01')))).toHaveLength(1);
    expect(s.message('client', 2, hex('c0 00'))).toBeNull();
    expect(packets(s.message('server', 2, hex('d0 00')))[0].type).toBe('PINGRESP');
  });
});

describe('MQTT reassembly across WebSocket messages', () => {
  // A 3.1.1 client session: CONNECT, SUBSCRIBE, PUBLISH qos 0/1/2, PUBREL, PINGREQ, UNSUBSCRIBE, DISCONNECT.
  const stream = hex(CONNECT_V4 + '82 08 0001 0003 742f31 01' + '30 07 0003 742f31 6869' + '32 08 0003 742f31 0007 78' +
    '34 08 0003 742f31 0008 79' + '62 02 0008' + 'c0 00' + 'a2 07 0002 0003 742f31' + 'e0 00');
  const whole = packets(new MqttSession().message('client', 2, stream));

  it('several packets in one message: an array, each from one message', () => {
    expect(whole.map((p) => p.type)).toEqual(['CONNECT', 'SUBSCRIBE', 'PUBLISH', 'PUBLISH', 'PUBLISH', 'PUBREL', 'PINGREQ', 'UNSUBSCRIBE', 'DISCONNECT']);
    expect(whole.every((p) => p.fromMessages === undefined && !p.violations)).toBe(true);
  });

  it('every split into two and into three messages gives the same packets, with partial markers and fromMessages', () => {
    const strip = (ps: Packet[]) => ps.map(({ fromMessages: _f, ...rest }) => rest);
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j += i % 4 === 0 ? 1 : 9) {
        const s = new MqttSession();
        const got: Packet[] = [];
        for (const part of [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]) {
          const r = s.message('client', 2, part);
          if (r && 'partial' in r) expect(r).toEqual({ protocol: 'mqtt', partial: true });
          got.push(...packets(r));
        }
        expect(strip(got)).toEqual(strip(whole));
      }
    }
  });

  it('keeps its own copy of pending bytes: the caller may reuse a payload after the call', () => {
    const s = new MqttSession();
    const first = Buffer.from(hex(CONNECT_V4).subarray(0, 20));
    expect(s.message('client', 2, first)).toEqual({ protocol: 'mqtt', partial: true });
    first.fill(0);
    expect(packets(s.message('client', 2, hex(CONNECT_V4).subarray(20)))[0]).toMatchObject({ clientId: 'c1', username: 'u' });
  });

  it('a CONNECT written as nine messages (as mqtt.js does) is reported once, on the ninth, fromMessages 9', () => {
    const b = hex(CONNECT_V4);
    const cuts = [0, 1, 2, 8, 9, 10, 12, 16, 22, b.length];
    const s = new MqttSession();
    const results = cuts.slice(1).map((end, k) => s.message('client', 2, b.subarray(cuts[k], end)));
    expect(results.slice(0, 8)).toEqual(Array(8).fill({ protocol: 'mqtt', partial: true }));
    expect(packets(results[8])).toHaveLength(1);
    expect(packets(results[8])[0]).toMatchObject({ type: 'CONNECT', fromMessages: 9, clientId: 'c1' });
  });

  it(`a packet over ${MQTT_MAX_PACKET} bytes is reported from its head and the rest skipped: memory stays bounded`, () => {
    const size = 3 * MQTT_MAX_PACKET;
    const body = Buffer.alloc(size, 0x61);
    body.writeUInt16BE(3, 0);
    body.write('big', 2);
    const rl = [];
    for (let n = size; ; n = Math.floor(n / 128)) {
      rl.push((n % 128) | (n >= 128 ? 0x80 : 0));
      if (n < 128) break;
    }
    const header = Buffer.from([0x30, ...rl]);
    const all = Buffer.concat([header, body, hex('c0 00')]);
    const s = new MqttSession();
    const got: Packet[] = [];
    for (let i = 0; i < all.length; i += 65536) got.push(...packets(s.message('client', 2, all.subarray(i, i + 65536))));
    expect(got.map((p) => p.type)).toEqual(['PUBLISH', 'PINGREQ']);
    expect(got[0]).toMatchObject({ topic: 'big', truncated: true, payloadLength: size - 5 });
    expect(got[0].violations).toBeUndefined();
    expect((got[0].payload as string).length).toBeLessThanOrEqual(65536);
  });
});
