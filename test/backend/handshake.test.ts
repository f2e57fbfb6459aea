/** gorilla's header token parsing and gin/gorilla routing decisions, without sockets. */
import { httpDate, route, tokenListContainsValue } from '../../src/backend/handshake';

describe('tokenListContainsValue (gorilla util.go)', () => {
  test.each([
    [['Upgrade'], true],
    [['upgrade'], true],
    [['keep-alive, Upgrade'], true],
    [['keep-alive,Upgrade'], true],
    [['  keep-alive ,  UPGRADE  '], true],
    [['keep-alive', 'Upgrade'], true], // two header lines
    [['Upgrade;x'], false], // not "token [, ...]": gorilla stops parsing this value
    [['keep-alive; Upgrade'], false],
    [['Upgraded'], false],
    [[''], false],
  ])('%j contains "upgrade": %s', (values, expected) => {
    expect(tokenListContainsValue(values, 'upgrade')).toBe(expected);
  });
});

test("httpDate: Go's http.TimeFormat", () => {
  expect(httpDate(new Date(Date.UTC(2026, 0, 5, 3, 4, 5)))).toBe('Mon, 05 Jan 2026 03:04:05 GMT');
});

describe('route', () => {
  const ws = {
    connection: ['Upgrade'],
    upgrade: ['websocket'],
    'sec-websocket-version': ['13'],
    'sec-websocket-key': ['dGhlIHNhbXBsZSBub25jZQ=='],
  };
  const reason = (h: Record<string, string[]>) => {
    const d = route('GET', '/json', h, { deflate: false });
    return d.kind === 'respond' ? `${d.status} ${d.log}` : d.kind;
  };

  test('a valid upgrade: the 101 bytes gorilla writes', () => {
    const d = route('GET', '/json?x=1', ws, { deflate: false });
    expect(d.kind).toBe('upgrade');
    expect(d.kind === 'upgrade' && d.response.toString('latin1')).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
    );
  });

  test("gorilla's checks in gorilla's order, each a 400 with its reason", () => {
    const bad = 'websocket: the client is not using the websocket protocol: ';
    expect(reason({ ...ws, connection: ['keep-alive'], upgrade: [] })).toBe(
      `400 [Error] failed to get a connection! ${bad}'upgrade' token not found in 'Connection' header`,
    );
    expect(reason({ ...ws, upgrade: ['h2c'] })).toBe(`400 [Error] failed to get a connection! ${bad}'websocket' token not found in 'Upgrade' header`);
    expect(reason({ ...ws, 'sec-websocket-version': ['8'] })).toBe(
      "400 [Error] failed to get a connection! websocket: unsupported version: 13 not found in 'Sec-Websocket-Version' header",
    );
    expect(reason({ ...ws, 'sec-websocket-key': [''] })).toBe(
      "400 [Error] failed to get a connection! websocket: not a websocket handshake: `Sec-WebSocket-Key' header is missing or blank",
    );
  });

  test('any Origin is accepted (CheckOrigin returns true)', () => {
    expect(route('GET', '/json', { ...ws, origin: ['https://evil.example'] }, { deflate: false }).kind).toBe('upgrade');
  });

  test('deflate only when enabled and offered', () => {
    const offer = { ...ws, 'sec-websocket-extensions': ['x-webkit-deflate-frame, permessage-deflate; client_max_window_bits'] };
    const on = route('GET', '/json', offer, { deflate: true });
    expect(on.kind === 'upgrade' && on.deflate).toBe(true);
    expect(on.kind === 'upgrade' && on.response.toString()).toContain(
      'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n',
    );
    const off = route('GET', '/json', offer, { deflate: false });
    expect(off.kind === 'upgrade' && off.deflate).toBe(false);
    const notOffered = route('GET', '/json', ws, { deflate: true });
    expect(notOffered.kind === 'upgrade' && notOffered.deflate).toBe(false);
  });

  test("gin: other paths and methods are 404, / is the demo page", () => {
    expect(route('GET', '/', {}, { deflate: false }).kind).toBe('demo');
    for (const [method, url] of [['GET', '/nope'], ['POST', '/json'], ['HEAD', '/'], ['GET', '/json/x']]) {
      const d = route(method, url, ws, { deflate: false });
      expect(d.kind === 'respond' && [d.status, d.body.toString()]).toEqual([404, '404 page not found']);
    }
  });
});
