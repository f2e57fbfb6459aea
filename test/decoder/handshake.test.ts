import { buildFrame } from '../../src/decoder/build';
import { computeAccept, ConnectionDecoder, parseExtensions, type WsEvent } from '../../src/decoder';
import { deflateParams } from '../../src/decoder/handshake';
import { decodeChunks } from './helpers';

const REQUEST = [
  'GET /chat HTTP/1.1',
  'Host: server.example.com',
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Origin: http://example.com',
  'Sec-WebSocket-Protocol: chat, superchat',
  'Sec-WebSocket-Version: 13',
  '',
  '',
].join('\r\n');
const RESPONSE = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'Sec-WebSocket-Protocol: chat', '', ''].join('\r\n');
const kinds = (events: WsEvent[]) => events.map((e) => e.event);
const b = (s: string) => Buffer.from(s, 'latin1');

describe('the opening handshake (RFC 6455 §4)', () => {
  it('computes Sec-WebSocket-Accept for the RFC example key', () => {
    expect(computeAccept('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
  it('reports the RFC 6455 §1.2 handshake with headers in wire order and case', () => {
    const events = decodeChunks([['client', b(REQUEST)], ['server', b(RESPONSE)]]);
    expect(events).toEqual([
      {
        event: 'handshake', ts: 2, conn: 1,
        request: {
          method: 'GET', target: '/chat', version: 'HTTP/1.1',
          headers: [
            ['Host', 'server.example.com'], ['Upgrade', 'websocket'], ['Connection', 'Upgrade'],
            ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['Origin', 'http://example.com'],
            ['Sec-WebSocket-Protocol', 'chat, superchat'], ['Sec-WebSocket-Version', '13'],
          ],
        },
        response: {
          version: 'HTTP/1.1', status: 101, reason: 'Switching Protocols',
          headers: [['Upgrade', 'websocket'], ['Connection', 'Upgrade'], ['Sec-WebSocket-Accept', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='], ['Sec-WebSocket-Protocol', 'chat']],
        },
        key: 'dGhlIHNhbXBsZSBub25jZQ==', accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', expectedAccept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', acceptValid: true,
        protocol: 'chat', extensions: null, permessageDeflate: null, violations: [],
      },
    ]);
  });
  it('holds client frames sent before the 101, then decodes them; frame offsets start after the heads', () => {
    const mask = Buffer.from('01020304', 'hex');
    const events = decodeChunks([
      ['client', Buffer.concat([b(REQUEST), buildFrame({ opcode: 1, payload: 'early', mask })])],
      ['server', Buffer.concat([b(RESPONSE), buildFrame({ opcode: 1, payload: 'hi' })])],
    ]);
    expect(kinds(events)).toEqual(['handshake', 'frame', 'message', 'frame', 'message']);
    expect(events[1]).toMatchObject({ dir: 'client', offset: 0, index: 0, payload: Buffer.from('early').toString('hex') });
    expect(events[3]).toMatchObject({ dir: 'server', offset: 0, index: 0 });
  });
  it('follows keep-alive HTTP exchanges (Content-Length, chunked, 100 Continue) before the upgrade', () => {
    const events = decodeChunks([
      ['client', b('GET / HTTP/1.1\r\nHost: h\r\n\r\nPOST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello')],
      ['server', b('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')],
      ['server', b('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\n')],
      ['client', b(REQUEST)],
      ['server', Buffer.concat([b(RESPONSE), buildFrame({ opcode: 1, payload: 'after' })])],
    ]);
    expect(kinds(events)).toEqual(['http', 'http', 'handshake', 'frame', 'message']);
    expect(events[0]).toMatchObject({ request: { method: 'GET', target: '/' }, response: { status: 200 }, violations: [] });
    expect(events[1]).toMatchObject({ request: { method: 'POST', target: '/form' }, response: { status: 200, headers: [['Transfer-Encoding', 'chunked']] } });
    expect(events[2]).toMatchObject({ acceptValid: true, violations: [] });
    expect(events[4]).toMatchObject({ text: 'after' });
  });
  it('a refused upgrade is an http event with bad-status, and the connection goes on as HTTP', () => {
    const events = decodeChunks([
      ['client', b(REQUEST)],
      ['server', b('HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nno\n')],
      ['client', b('GET /again HTTP/1.1\r\nHost: h\r\n\r\n')],
      ['server', b('HTTP/1.1 204 No Content\r\n\r\n')],
    ]);
    expect(kinds(events)).toEqual(['http', 'http']);
    expect(events[0]).toMatchObject({ response: { status: 400 }, violations: [expect.objectContaining({ rule: 'bad-status', section: 'RFC 6455 §4.1' })] });
    expect(events[1]).toMatchObject({ request: { target: '/again' }, response: { status: 204 }, violations: [] });
  });
  it('a body delimited by the end of the connection ends decoding of that side quietly', () => {
    const events = decodeChunks([['client', b('GET / HTTP/1.0\r\nHost: h\r\n\r\n')], ['server', b('HTTP/1.0 200 OK\r\n\r\nanything \x81\x05 goes')]]);
    expect(kinds(events)).toEqual(['http']);
  });
  it('pipelined requests are paired with their responses in order; HEAD and 304 have no body', () => {
    const events = decodeChunks([
      ['client', b('HEAD /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n')],
      ['server', b('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx')],
    ]);
    expect(events.map((e) => e.event === 'http' && [e.request.target, e.response?.status])).toEqual([['/a', 200], ['/b', 304], ['/c', 200]]);
  });
  it('finish reports a head cut short and client bytes the server never answered', () => {
    expect(decodeChunks([['client', b('GET / HTTP/1.1\r\nHo')]])).toEqual([expect.objectContaining({ event: 'error', message: 'client: stream ended inside an HTTP head (18 bytes)' })]);
    expect(decodeChunks([['client', Buffer.concat([b(REQUEST), Buffer.from('8180', 'hex')])]])).toEqual([
      expect.objectContaining({ event: 'error', message: 'client: 2 bytes after the upgrade request were never answered by the server' }),
    ]);
  });
  it('finish: server bytes that no request came before are reported as such, not as a head cut short', () => {
    // What the proxy's own 502 looks like when the request never reached the target.
    expect(decodeChunks([['server', b('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n')]])).toEqual([
      expect.objectContaining({ event: 'error', message: 'server: 47 bytes sent without a request to answer; not decoded' }),
    ]);
  });
  it('requests pipelined without answers are bounded', () => {
    const events = decodeChunks([['client', b('GET / HTTP/1.1\r\nHost: h\r\n\r\n'.repeat(300))]]);
    expect(events).toEqual([expect.objectContaining({ event: 'error', message: 'client: more than 256 requests waiting for a response; stopped decoding this direction' })]);
  });
  it('a head over 64 KiB is reported once and that side stops', () => {
    const big = 'GET / HTTP/1.1\r\nX-Big: ' + 'a'.repeat(70 * 1024);
    const events = decodeChunks([['client', b(big)], ['client', b('\r\n\r\n')], ['client', b('more')]]);
    expect(events).toEqual([expect.objectContaining({ event: 'error', message: 'client: HTTP head larger than 65536 bytes; stopped decoding this direction' })]);
  });
  it('bytes that are not HTTP are reported once, never thrown', () => {
    const events = decodeChunks([['client', Buffer.from('810548656c6c6f0d0a0d0a', 'hex')], ['client', b('GET / HTTP/1.1\r\n\r\n')]]);
    expect(events).toEqual([expect.objectContaining({ event: 'error', message: expect.stringContaining('client: not an HTTP request') })]);
  });
  it('reports every request and response problem of a bad handshake at once', () => {
    const events = decodeChunks([
      ['client', b('POST /chat HTTP/1.0\r\nUpgrade: websocket\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 8\r\n\r\n')],
      ['server', b('HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: nope\r\nSec-WebSocket-Protocol: chat\r\n\r\n')],
    ]);
    expect(events[0].event).toBe('handshake');
    const rules = (events[0] as { violations: { rule: string }[] }).violations.map((v) => v.rule);
    expect(rules).toEqual([
      'bad-method', 'bad-method', 'missing-host', 'missing-connection', 'bad-key', 'bad-version',
      'response-missing-upgrade', 'response-missing-connection', 'bad-accept', 'unrequested-protocol',
    ]);
    expect(events[0]).toMatchObject({ acceptValid: false, accept: 'nope', expectedAccept: computeAccept('short') });
  });
});

describe('extensions (RFC 6455 §9.1, RFC 7692 §7)', () => {
  it('parses extension lists with parameters and quoted values', () => {
    expect(parseExtensions('permessage-deflate; client_max_window_bits; server_max_window_bits="10", x-other')).toEqual([
      { name: 'permessage-deflate', params: [['client_max_window_bits', null], ['server_max_window_bits', '10']] },
      { name: 'x-other', params: [] },
    ]);
  });
  it('reads all four permessage-deflate parameters', () => {
    const v: never[] = [];
    expect(deflateParams(parseExtensions('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=15')[0].params, 'response', v)).toEqual({
      serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 8, clientMaxWindowBits: 15,
    });
    expect(v).toEqual([]);
  });
  it('flags repeated, unknown and out-of-range parameters', () => {
    const v: { rule: string }[] = [];
    deflateParams(parseExtensions('permessage-deflate; server_max_window_bits=16; mystery; server_no_context_takeover; server_no_context_takeover; client_max_window_bits=08')[0].params, 'response', v as never);
    expect(v.map((x) => x.rule)).toEqual(['bad-deflate-params', 'bad-deflate-params', 'bad-deflate-params', 'bad-deflate-params']);
  });
  it('negotiated permessage-deflate makes RSV1 legal; an unknown extension silences RSV checks', () => {
    const req = REQUEST.replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: permessage-deflate, x-magic\r\n\r\n');
    const frame = Buffer.from('c107f248cdc9c90700', 'hex'); // "Hello" compressed, RFC 7692 §7.2.3.1
    const withPmd = decodeChunks([['client', b(req)], ['server', Buffer.concat([b(RESPONSE.replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n')), frame])]]);
    expect(withPmd.slice(1)).toEqual([expect.objectContaining({ event: 'frame', rsv1: true, violations: [] }), expect.objectContaining({ event: 'message', text: 'Hello', compressed: true, length: 5 })]);
    const withMagic = decodeChunks([['client', b(req)], ['server', Buffer.concat([b(RESPONSE.replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: x-magic\r\n\r\n')), Buffer.from('e100', 'hex')])]]);
    expect(withMagic[1]).toMatchObject({ event: 'frame', rsv1: true, rsv2: true, violations: [] });
  });
});

describe('the handshake event kept for a stage joining later (keepHandshake)', () => {
  const run = (keepHandshake?: boolean) => {
    const events: WsEvent[] = [];
    const d = new ConnectionDecoder({ conn: 1, keepHandshake, onEvent: (e) => events.push(e) });
    d.push('client', b(REQUEST), 0);
    d.push('server', b(RESPONSE), 1);
    return { d, handshake: events.find((e) => e.event === 'handshake') };
  };
  it('is the emitted handshake event with keepHandshake', () => {
    const { d, handshake } = run(true);
    expect(handshake).toBeDefined();
    expect(d.handshake).toBe(handshake);
  });
  it('is not kept by default: thousands of connections would each hold theirs (issue #13)', () => {
    const { d, handshake } = run();
    expect(handshake).toBeDefined();
    expect(d.handshake).toBeNull();
  });
});
