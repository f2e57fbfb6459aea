/**
 * `wsscope demo`: the full run against the built-in backend through the proxy (started
 * by the command itself), and against a backend that declines permessage-deflate. Runs
 * the built CLI: `npm run build` first.
 */
import { startBackend } from '../../src/backend';
import { parseWsUrl } from '../../src/teach/client';
import { deflateMessage } from '../../src/decoder/build';
import { runDemo } from '../../src/teach/demo';
import { BIN, closedPort, killChildren, onRequestHead, rawServer, runCli, runCommand, switchingProtocols } from './helpers';

afterAll(() => killChildren());

const STEPS = [
  'Step 1/9: a text message "Hello" — expect a User JSON answer',
  'Step 2/9: a binary message of 4 bytes (de ad be ef) — expect no answer: the backend ignores binary messages',
  "Step 3/9: a ping with payload 'hello' — expect a pong with the same payload",
  'Step 4/9: a text in three fragments with a ping between them — expect two pongs, then one answer',
  'Step 5/9: a message of 125 bytes: the longest in the 7-bit length form — expect an answer',
  'Step 6/9: a message of 126 bytes: the 16-bit length form (126, then 2 bytes of length) — expect an answer',
  'Step 7/9: a message of 65,536 bytes: the 64-bit length form (127, then 8 bytes of length) — expect an answer',
  'Step 8/9: a second connection offering permessage-deflate, and a compressed text message — expect a compressed answer',
  'Step 9/9: a close with code 1000 and reason "bye" — expect the server to answer with a close',
];

/** The output cut into the lines before step 1 and the lines of each step. */
function bySteps(stdout: string): string[][] {
  const parts: string[][] = [[]];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('Step ')) parts.push([]);
    parts[parts.length - 1].push(line);
  }
  return parts;
}

describe('permessage-deflate as the demo sends it (RFC 7692 §7.2.1)', () => {
  it('compresses "Hello" to the bytes of RFC 7692 §7.2.3.1', () => {
    expect(deflateMessage(Buffer.from('Hello')).toString('hex')).toBe('f248cdc9c90700');
  });
});

describe('wsscope demo', () => {
  it('runs the nine steps through its own proxy and backend, and shows every answer', async () => {
    const r = await runCli(['demo', '--mask', '37fa213d'], { timeoutMs: 90000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [intro, ...steps] = bySteps(r.stdout);
    expect(intro.slice(0, 4).map((l) => l.replace(/:\d+/g, ':PORT'))).toEqual([
      'built-in backend listening on 127.0.0.1:PORT (permessage-deflate on)',
      'proxy listening on 127.0.0.1:PORT, forwarding to ws://127.0.0.1:PORT/json',
      'the demo connects through the proxy: ws://127.0.0.1:PORT/json',
      'connection 1 to ws://127.0.0.1:PORT/json',
    ]);
    expect(intro[6]).toMatch(/^ {2}accept valid: /);
    expect(steps.map((s) => s[0])).toEqual(STEPS);

    // Step 1: the §5.7 "Hello", masked with the §5.7 key, and the User JSON answer.
    expect(steps[0][1]).toBe('→ client frame #0 text FIN masked 37fa213d len=5/7-bit "Hello"');
    expect(steps[0][2]).toMatch(/^← server frame #0 text FIN unmasked len=61\/7-bit "\{\\"name\\":\\"Hello\\"/);
    // Step 2: nothing comes back.
    expect(steps[1].slice(1, -1)).toEqual(['→ client frame #1 binary FIN masked 37fa213d len=4/7-bit deadbeef']);
    // Step 3: the pong echoes the ping's payload (RFC 6455 §5.5.3).
    expect(steps[2]).toContain('← server frame #1 pong FIN unmasked len=5/7-bit "hello"');
    // Step 4: fragments with pings between them, as sent; two pongs, then one answer.
    expect(steps[3].slice(1, 7)).toEqual([
      '→ client frame #3 text no-FIN masked 37fa213d len=6/7-bit "Hello,"',
      '→ client frame #4 ping FIN masked 37fa213d len=9/7-bit "between 1"',
      '→ client frame #5 continuation no-FIN masked 37fa213d len=6/7-bit " fragm"',
      '→ client frame #6 ping FIN masked 37fa213d len=9/7-bit "between 2"',
      '→ client frame #7 continuation FIN masked 37fa213d len=4/7-bit "ents"',
      '→ client message text (3 frames) 16 bytes "Hello, fragments"',
    ]);
    expect(steps[3]).toContain('← server frame #2 pong FIN unmasked len=9/7-bit "between 1"');
    expect(steps[3]).toContain('← server frame #3 pong FIN unmasked len=9/7-bit "between 2"');
    expect(steps[3].some((l) => /^← server frame #4 text FIN unmasked len=83\/7-bit "\{\\"name\\":\\"Hello, fragments\\"/.test(l))).toBe(true);
    // Steps 5-7: the three length forms, as sent.
    expect(steps[4][1]).toMatch(/^→ client frame #8 text FIN masked 37fa213d len=125\/7-bit "a{40}\.\.\."$/);
    expect(steps[5][1]).toMatch(/^→ client frame #9 text FIN masked 37fa213d len=126\/16-bit /);
    expect(steps[6][1]).toMatch(/^→ client frame #10 text FIN masked 37fa213d len=65536\/64-bit /);
    for (const step of steps.slice(4, 7)) expect(step.some((l) => l.startsWith('← server '))).toBe(true);
    // Step 8: a second connection, compression accepted, RSV1 on the frame, inflated both ways.
    expect(steps[7]).toContain('  extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover');
    expect(steps[7].some((l) => /^→ client frame #0 text FIN RSV1 masked 37fa213d /.test(l))).toBe(true);
    expect(steps[7]).toContain('→ client message text (1 frame, deflated) 39 bytes "Hello, compression! Hello, compression!"');
    expect(steps[7].some((l) => /^← server message text \(1 frame, deflated\) \d+ bytes "\{\\"name\\":\\"Hello, compression!/.test(l))).toBe(true);
    // Step 9: the close handshake (RFC 6455 §5.5.1): gorilla echoes the code.
    expect(steps[8].slice(1)).toEqual([
      '→ client frame #11 close FIN masked 37fa213d len=5/7-bit 1000 Normal Closure "bye"',
      '← server frame #9 close FIN unmasked len=2/7-bit 1000 Normal Closure',
      '  the TCP connection is closed',
      '',
      'demo finished',
      '',
    ]);
    // No step timed out, and no frame broke a rule.
    expect(r.stdout).not.toMatch(/no answer within|^ {4}! /m);
  });

  it('says so when the server declines permessage-deflate', async () => {
    const backend = await startBackend({ host: '127.0.0.1', port: 0, deflate: false });
    try {
      const r = await runCli(['demo', '--url', `ws://127.0.0.1:${backend.port}/json`], { timeoutMs: 90000 });
      expect(r.code).toBe(0);
      const steps = bySteps(r.stdout).slice(1);
      expect(steps.map((s) => s[0])).toEqual(STEPS);
      expect(steps[7]).toContain('  extensions: none (offered permessage-deflate, the server declined)');
      expect(steps[7]).toContain(
        '  the server declined permessage-deflate (no Sec-WebSocket-Extensions in its answer): no compressed message to show',
      );
    } finally {
      await backend.close();
    }
  });

  it('--deflate compresses the first connection too, but for the length forms', async () => {
    const r = await runCli(['demo', '--deflate', '--mask', '37fa213d'], { timeoutMs: 90000 });
    expect(r.code).toBe(0);
    const steps = bySteps(r.stdout).slice(1);
    expect(steps.map((s) => s[0])).toEqual(STEPS);
    // "Hello" deflated as in RFC 7692 §7.2.3.1, RSV1 set; the answer inflates to the User JSON.
    expect(steps[0].slice(1, 3)).toEqual([
      '→ client frame #0 text FIN RSV1 masked 37fa213d len=7/7-bit f248cdc9c90700',
      '→ client message text (1 frame, deflated) 5 bytes "Hello"',
    ]);
    expect(steps[0][4]).toMatch(/^← server message text \(1 frame, deflated\) 61 bytes "\{\\"name\\":\\"Hello\\"/);
    // RSV1 on the first fragment only (RFC 7692 §6.1).
    expect(steps[3][1]).toMatch(/^→ client frame #3 text no-FIN RSV1 masked 37fa213d /);
    expect(steps[3][3]).toMatch(/^→ client frame #5 continuation no-FIN masked 37fa213d /);
    expect(steps[4].slice(1, 3)).toEqual([
      '  (sent uncompressed, RSV1 = 0, so that the length form shows: RFC 7692 §6 lets each message choose)',
      '→ client frame #8 text FIN masked 37fa213d len=125/7-bit "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."',
    ]);
    expect(r.stdout).not.toMatch(/no answer within|^ {4}! /m);
  });

  it('stops quietly when its reader goes away (wsscope demo | head -1)', async () => {
    const r = await runCommand('bash', ['-o', 'pipefail', '-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} demo | head -1`], { timeoutMs: 90000 });
    expect(r.stdout).toMatch(/^built-in backend listening on 127\.0\.0\.1:\d+ \(permessage-deflate on\)\n$/);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('goes on when a server accepts the handshake and then never answers', async () => {
    const server = await rawServer((socket) => onRequestHead(socket, (head) => socket.write(switchingProtocols(head))));
    try {
      const lines: string[] = [];
      await runDemo(
        { url: parseWsUrl(`ws://127.0.0.1:${server.port}/json`), mask: Buffer.from('37fa213d', 'hex'), timeoutMs: 300, quietMs: 50 },
        (line) => lines.push(line),
      );
      const steps = bySteps(lines.join('\n')).slice(1);
      expect(steps.map((s) => s[0])).toEqual(STEPS);
      for (const i of [0, 2, 3, 4, 5, 6]) expect(steps[i]).toContain('  (no answer within 300 ms)');
      expect(steps[8].slice(-3)).toEqual([
        '→ client frame #11 close FIN masked 37fa213d len=5/7-bit 1000 Normal Closure "bye"',
        '  (no answer within 300 ms)',
        '  the server did not close the TCP connection within 300 ms: the client closed it (RFC 6455 §7.1.1)',
      ]);
    } finally {
      await server.close();
    }
  });

  it('rejects a bad masking key and an unreachable server with one line', async () => {
    const bad = await runCli(['demo', '--mask', '37fa21']);
    expect(bad.stderr).toBe('wsscope: bad --mask "37fa21": expected 4 bytes as 8 hex digits (e.g. 37fa213d) or "random"\n');
    expect(bad.code).toBe(2);
    const port = await closedPort();
    const refused = await runCli(['demo', '--url', `ws://127.0.0.1:${port}/json`]);
    expect(refused.stderr).toBe(`wsscope: cannot connect to 127.0.0.1:${port}: connection refused (is the server running?)\n`);
    expect(refused.code).toBe(1);
  });
});
