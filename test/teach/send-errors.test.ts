/**
 * `wsscope send` against servers that fail in each way a user meets: nothing listening,
 * a server that never answers, a non-101 answer, a wrong accept; and bad input. Each is
 * one line on stderr and a non-zero exit. Runs the built CLI: `npm run build` first.
 */
import { closedPort, killChildren, onRequestHead, rawServer, runCli, switchingProtocols } from './helpers';
import { describeConnectError, parseWsUrl } from '../../src/teach/client';
import { runSend } from '../../src/teach/send';

afterAll(() => killChildren());

describe('wsscope send: errors are one line and a non-zero exit', () => {
  it('a closed port', async () => {
    const port = await closedPort();
    const r = await runCli(['send', '--url', `ws://127.0.0.1:${port}/json`, '--hex', '81 80 00 00 00 00']);
    expect(r.stderr).toBe(`wsscope: cannot connect to 127.0.0.1:${port}: connection refused (is the server running?)\n`);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('wss:// to a server that does not speak TLS: the readable OpenSSL reason, not its dump', async () => {
    const server = await rawServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    try {
      const r = await runCli(['send', '--url', `wss://127.0.0.1:${server.port}/json`, '--hex', '8100']);
      // Our words, then OpenSSL's reason (its wording varies with the Node version): one
      // line, not OpenSSL's dump.
      expect(r.stderr).toMatch(new RegExp(`^wsscope: cannot connect to 127\\.0\\.0\\.1:${server.port}: TLS handshake failed: [^\n]+\n$`));
      expect(r.stderr).not.toMatch(/SSL routines|:error:/);
      expect(r.code).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('a server that accepts the connection but never answers the handshake', async () => {
    const server = await rawServer(() => undefined);
    try {
      const r = await runCli(['send', '--url', `ws://127.0.0.1:${server.port}/json`, '--timeout', '500', '--hex', '8100']);
      expect(r.stderr).toBe(`wsscope: no handshake answer from 127.0.0.1:${server.port} within 500 ms\n`);
      expect(r.code).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('a server that answers 400, not 101', async () => {
    const server = await rawServer((socket) =>
      onRequestHead(socket, () => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')),
    );
    try {
      const r = await runCli(['send', '--url', `ws://127.0.0.1:${server.port}/nows`, '--hex', '8100']);
      expect(r.stderr).toBe(
        `wsscope: the server answered 400 Bad Request, not 101 Switching Protocols: no WebSocket at ws://127.0.0.1:${server.port}/nows\n`,
      );
      expect(r.code).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('a server whose Sec-WebSocket-Accept is wrong (RFC 6455 §4.1: the client must fail)', async () => {
    const server = await rawServer((socket) =>
      onRequestHead(socket, () =>
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n'),
      ),
    );
    try {
      const key = 'dGhlIHNhbXBsZSBub25jZQ==';
      const r = await runCli(['send', '--url', `ws://127.0.0.1:${server.port}/`, '--key', key, '--hex', '8100']);
      expect(r.stderr).toBe('wsscope: bad Sec-WebSocket-Accept from the server: "AAAA", expected s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n');
      expect(r.code).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('bad input: hex, URL, scheme, key, missing --url', async () => {
    const cases: [string[], string][] = [
      [['send', '--url', 'ws://127.0.0.1:1/', '--hex', '8'], 'wsscope: bad hex "8": expected pairs of hex digits, e.g. "81 05 48 65 6c 6c 6f"\n'],
      [['send', '--url', 'ws://127.0.0.1:1/', '--hex', 'zz'], 'wsscope: bad hex "zz": expected pairs of hex digits, e.g. "81 05 48 65 6c 6c 6f"\n'],
      [['send', '--url', 'not a url'], 'wsscope: bad URL "not a url": expected ws://HOST:PORT/PATH, e.g. ws://127.0.0.1:8080/json\n'],
      [['send', '--url', 'http://127.0.0.1:1/'], 'wsscope: bad URL "http://127.0.0.1:1/": the scheme must be ws:// or wss://, not http://\n'],
      [['send', '--url', 'ws://127.0.0.1:1/', '--key', 'short'], 'wsscope: bad --key "short": expected the base64 of 16 bytes, e.g. dGhlIHNhbXBsZSBub25jZQ==\n'],
      [['send', '--hex', '8100'], 'wsscope: send needs --url ws://HOST:PORT/PATH (see wsscope send --help)\n'],
      [['send', '--url', 'ws://127.0.0.1:1/', '--file', '/nonexistent/frames.hex'], 'wsscope: cannot read /nonexistent/frames.hex: ENOENT\n'],
    ];
    for (const [args, stderr] of cases) {
      const r = await runCli(args);
      expect({ args, stderr: r.stderr, code: r.code }).toEqual({ args, stderr, code: 2 });
    }
  });
});

describe('the raw client', () => {
  it('words DNS failures as such (tested without a lookup: only loopback traffic in tests)', () => {
    const url = parseWsUrl('ws://no-such-host.invalid:8080/json');
    const err = Object.assign(new Error('getaddrinfo ENOTFOUND no-such-host.invalid'), { code: 'ENOTFOUND' });
    expect(describeConnectError(err, url)).toBe('cannot resolve host "no-such-host.invalid"');
  });

  it('parses ws and wss URLs with default ports, paths and queries', () => {
    expect(parseWsUrl('ws://127.0.0.1:8080/json')).toMatchObject({ secure: false, host: '127.0.0.1', port: 8080, path: '/json', hostHeader: '127.0.0.1:8080' });
    expect(parseWsUrl('wss://example.test/a?b=1')).toMatchObject({ secure: true, host: 'example.test', port: 443, path: '/a?b=1', hostHeader: 'example.test' });
    expect(parseWsUrl('ws://[::1]:9000')).toMatchObject({ host: '::1', port: 9000, path: '/' });
    expect(() => parseWsUrl('ws://h/#frag')).toThrow('bad URL "ws://h/#frag": a WebSocket URL has no #fragment (RFC 6455 §3)');
  });

  it('sends the handshake of RFC 6455 §4.1 and the bytes exactly as given, then stops after the timeout', async () => {
    let request = '';
    const received: Buffer[] = [];
    const server = await rawServer((socket) =>
      onRequestHead(socket, (head) => {
        request = head;
        socket.write(switchingProtocols(head));
        socket.on('data', (chunk: Buffer) => received.push(chunk));
      }),
    );
    try {
      const lines: string[] = [];
      const result = await runSend(
        {
          url: parseWsUrl(`ws://127.0.0.1:${server.port}/json`),
          chunks: [Buffer.from('810548656c6c6f', 'hex'), Buffer.from('8900', 'hex')],
          timeoutMs: 300,
          ui: 'text',
          key: 'dGhlIHNhbXBsZSBub25jZQ==',
        },
        (line) => lines.push(line),
      );
      expect(request.split('\r\n')).toEqual([
        'GET /json HTTP/1.1',
        `Host: 127.0.0.1:${server.port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
      ]);
      // No mask added, nothing else sent: the unmasked §5.7 "Hello" and an empty ping.
      expect(Buffer.concat(received).toString('hex')).toBe('810548656c6c6f8900');
      expect(result.ending).toBe('timeout');
      expect(lines.slice(0, 4)).toEqual([
        `connected to 127.0.0.1:${server.port}`,
        '→ GET /json HTTP/1.1  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        '← HTTP/1.1 101 Switching Protocols  Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
        '  accept valid: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) = s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      ]);
      expect(lines).toContain('sending 7 bytes: 81 05 48 65 6c 6c 6f');
      expect(lines.slice(-2)).toEqual([
        'no data for 300 ms: closing the TCP connection',
        'sent 9 bytes, received 0 bytes after the handshake',
      ]);
    } finally {
      await server.close();
    }
  });

  it('shows the rules a 101 answer breaks, as the decoder finds them, and goes on', async () => {
    const server = await rawServer((socket) =>
      onRequestHead(socket, (head) => {
        // No Upgrade header, and an extension nobody offered (RFC 6455 §4.1); then "hi".
        const answer = switchingProtocols(head).replace('Upgrade: websocket\r\n', '').replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: x-nope\r\n\r\n');
        socket.end(Buffer.concat([Buffer.from(answer, 'latin1'), Buffer.from('81026869', 'hex')]));
      }),
    );
    try {
      const lines: string[] = [];
      const r = await runSend({ url: parseWsUrl(`ws://127.0.0.1:${server.port}/`), chunks: [], timeoutMs: 5000, ui: 'text' }, (l) => lines.push(l));
      expect(r.ending).toBe('closed by the server');
      expect(lines.slice(4)).toEqual([
        '  extensions: x-nope',
        '    ! response-missing-upgrade (RFC 6455 §4.1): 101 response has no "Upgrade: websocket" header',
        '    ! unrequested-extension (RFC 6455 §4.1): server accepted extension "x-nope" which the client did not offer',
        '← server frame #0 text FIN unmasked len=2/7-bit "hi"',
        'the server closed the TCP connection',
        'sent 0 bytes, received 4 bytes after the handshake',
      ]);
    } finally {
      await server.close();
    }
  });

  it('reports a server that closes during the handshake', async () => {
    const server = await rawServer((socket) => onRequestHead(socket, () => socket.destroy()));
    try {
      await expect(
        runSend({ url: parseWsUrl(`ws://127.0.0.1:${server.port}/`), chunks: [], timeoutMs: 5000, ui: 'text' }, () => undefined),
      ).rejects.toThrow(`127.0.0.1:${server.port} closed the connection before answering the handshake`);
    } finally {
      await server.close();
    }
  });
});
