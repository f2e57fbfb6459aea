import { encode as msgpack } from '@msgpack/msgpack';
import { encode as cbor } from 'cbor-x';
import * as mqttPacket from 'mqtt-packet';
import { valuePacket } from '../../src/protocols/binary';
import { MqttSession } from '../../src/protocols/mqtt';
import { SignalrSession } from '../../src/protocols/signalr';
import { WampSession } from '../../src/protocols/wamp';
import { mutate, prng } from '../decoder/helpers';

/** Valid seeds to mutate, for each decoder of this file. */
const gen = (o: Record<string, unknown>, v = 5) => mqttPacket.generate(o as unknown as mqttPacket.Packet, { protocolVersion: v });
const SEEDS: Buffer[] = [
  gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c', clean: true, keepalive: 5, properties: { userProperties: { a: 'b' } }, will: { topic: 't', payload: Buffer.from('x'), qos: 1 } }),
  gen({ cmd: 'publish', topic: 't/1', payload: Buffer.from('hello'), qos: 1, messageId: 7, properties: { topicAlias: 1, correlationData: Buffer.from('ab') } }),
  gen({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#', qos: 2, nl: true, rap: false, rh: 0 }] }),
  gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'c4', clean: true, keepalive: 5, username: 'u', password: Buffer.from('p') }, 4),
  Buffer.from('{"protocol":"json","version":1}\x1e{"type":1,"target":"Send","arguments":[1]}\x1e'),
  Buffer.concat([Buffer.from([12]), Buffer.from(msgpack([1, {}, 'x', 'm', [1, 'a']]))]),
  Buffer.from(JSON.stringify([48, 1, {}, 'com.x', [1], { a: 2 }])),
  Buffer.from(msgpack([36, 1, 2, {}, ['x', { y: [1, 2, 3] }]])),
  Buffer.from(cbor([50, 1, {}, [1.5, 'z', new Uint8Array([1, 2])]])),
];

describe('fuzz: MQTT, SignalR, WAMP, MessagePack and CBOR never throw and stay bounded', () => {
  it('8,000 seeded random and mutated messages, each to every decoder', () => {
    const rand = prng(20261203);
    const int = (n: number) => Math.floor(rand() * n);
    const before = process.memoryUsage().heapUsed;
    const started = Date.now();
    let results = 0;
    for (let n = 0; n < 800; n++) {
      const sessions = [new MqttSession(int(2) ? 5 : 4), new SignalrSession(int(2) === 0), new WampSession(['json', 'msgpack', 'cbor'][int(3)] as 'json', int(4) === 0)];
      for (let k = 0; k < 10; k++) {
        let bytes: Buffer;
        if (k % 4 === 3) bytes = Buffer.from(Array.from({ length: int(80) }, () => int(256)));
        else bytes = mutate(SEEDS[int(SEEDS.length)], int);
        const dir = int(2) ? 'client' : 'server';
        const opcode = int(2) ? 1 : 2;
        for (const s of sessions) {
          JSON.stringify(s.message(dir, opcode, bytes));
          results++;
        }
        JSON.stringify(valuePacket('msgpack', bytes));
        JSON.stringify(valuePacket('cbor', bytes));
      }
    }
    expect(results).toBe(24000);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(200 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);
});
