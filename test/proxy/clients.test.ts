/**
 * Real clients, as they are, through `wsscope proxy` (the CLI, --ui json), as README's
 * "Inspecting a real client" tells: Python websockets over wss:// with verification on
 * (cafile), Node's ws through an HTTP CONNECT agent with NODE_EXTRA_CA_CERTS, headless
 * Chromium with --proxy-server and the SPKI flag loading an https:// page whose script
 * opens wss://, curl for the HTTP part. Every forward request goes with --allow-host
 * limited to the test's own loopback servers: nothing leaves loopback.
 */
import { execFile } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import * as os from 'os';
import * as https from 'https';
import type * as net from 'net';
import * as path from 'path';
import { WebSocketServer } from 'ws';
import type { WsEvent } from '../../src/decoder/events';
import { requireBuilt, ROOT, runCli, spawnCli, waitFor, type Cli } from './helpers';

const FIXTURES = path.join(__dirname, 'fixtures');
const fixtureCert = readFileSync(path.join(FIXTURES, 'localhost-cert.pem'));
const fixtureKey = readFileSync(path.join(FIXTURES, 'localhost-key.pem'));
const PAGE = `<!doctype html><title>wss page</title><p id="out">waiting</p><script>
const ws = new WebSocket('wss://' + location.host + '/chat');
ws.onopen = () => ws.send('from the page');
ws.onmessage = (e) => { document.getElementById('out').textContent = 'echo: ' + e.data; };
ws.onerror = () => { document.getElementById('out').textContent = 'error'; };
</script>`;

let site: https.Server;
let sitePort: number;
let ca: { cert: string; sha256: string; spki: string };

beforeAll(async () => {
  requireBuilt();
  // A real wss:// site on localhost: the page at / and an echo WebSocket at /chat.
  site = https.createServer({ cert: fixtureCert, key: fixtureKey }, (req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(req.url === '/' ? PAGE : 'not here');
  });
  new WebSocketServer({ server: site }).on('connection', (ws) => ws.on('message', (m) => ws.send(`echo ${m}`)));
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  sitePort = (site.address() as net.AddressInfo).port;
  const out = await runCli(['ca', '--json']);
  expect(out.code).toBe(0);
  ca = JSON.parse(out.stdout);
});
afterAll(async () => {
  site.closeAllConnections();
  await new Promise((r) => site.close(r));
});

/** `wsscope proxy` with the built-in backend, trusting the site's certificate upstream, forwarding only to the site. */
async function startCli(extra: string[] = []): Promise<{ cli: Cli; port: number; events: () => WsEvent[] }> {
  const cli = spawnCli([
    'proxy', '--listen', '127.0.0.1:0', '--backend', '--ui', 'json',
    '--upstream-ca', path.join(FIXTURES, 'localhost-cert.pem'),
    '--allow-host', `localhost:${sitePort}`, '--allow-host', `127.0.0.1:${sitePort}`,
    ...extra,
  ]);
  const events = () => cli.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as WsEvent);
  await waitFor(() => events().some((e) => e.event === 'listening') || cli.code !== undefined, 'listening');
  const listening = events().find((e) => e.event === 'listening') as { proxy: string } | undefined;
  if (!listening) throw new Error(`the proxy did not start: ${cli.stderr()}`);
  return { cli, port: Number(listening.proxy.split(':').pop()), events };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, cwd: ROOT, timeout: 30000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) || 1 : 0, stdout, stderr }),
    );
  });
}

const PYTHON_CLIENT = `
import asyncio, ssl, sys, websockets
async def main(url, cafile):
    context = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
    async with websockets.connect(url, ssl=context) as ws:
        await ws.send("Ada")
        print(await ws.recv(), end="")
asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
`;

test('Python websockets, wss:// straight to the proxy, verification on: cafile trusts it; without, the client refuses; --save, --pcap and replay hold the decrypted traffic', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wsscope-clients-'));
  const save = path.join(dir, 's.capture.ndjson');
  const pcap = path.join(dir, 's.pcap');
  const { cli, port, events } = await startCli(['--save', save, '--pcap', pcap]);
  try {
    const ok = await run('/usr/bin/python3', ['-c', PYTHON_CLIENT, `wss://127.0.0.1:${port}/json`, ca.cert]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('{"name":"Ada","age":18,"description":"Ada很厉害!!!!"}\n');
    const refused = await run('/usr/bin/python3', ['-c', PYTHON_CLIENT, `wss://127.0.0.1:${port}/json`]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/CERTIFICATE_VERIFY_FAILED/);
    await waitFor(() => events().filter((e) => e.event === 'end').length === 2, 'both ends');
    const opens = events().filter((e) => e.event === 'open') as Extract<WsEvent, { event: 'open' }>[];
    expect(opens[0]).toMatchObject({ mode: 'reverse', tls: { sni: null, version: 'TLSv1.3' } });
    const messages = events().filter((e) => e.event === 'message') as Extract<WsEvent, { event: 'message' }>[];
    expect(messages.map((m) => [m.dir, m.text])).toEqual([['client', 'Ada'], ['server', '{"name":"Ada","age":18,"description":"Ada很厉害!!!!"}\n']]);
    expect(events().filter((e) => e.event === 'error').map((e) => (e as { message: string }).message)).toEqual([expect.stringMatching(/^TLS handshake with the client failed: /)]);
    cli.child.kill('SIGINT');
    await cli.exited;
    // The capture replays to the same frames and messages; the pcap has them as plain WebSocket.
    const replay = await runCli(['replay', save, '--ui', 'json']);
    expect(replay.code).toBe(0);
    const replayed = replay.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as WsEvent);
    const pick = (list: WsEvent[]) => list.filter((e) => e.event === 'frame' || e.event === 'message' || e.event === 'handshake' || e.event === 'open');
    expect(pick(replayed)).toEqual(pick(events()));
    const tshark = await run('tshark', ['-r', pcap, '-Y', 'websocket.payload', '-T', 'fields', '-e', 'websocket.opcode']);
    expect(tshark.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(2);
  } finally {
    if (cli.code === undefined) cli.child.kill('SIGINT');
    await cli.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

const NODE_CLIENT = `
const { WebSocket } = require('ws');
const { HttpsProxyAgent } = require('https-proxy-agent');
const ws = new WebSocket(process.argv[1], { agent: new HttpsProxyAgent(process.env.HTTPS_PROXY) });
ws.on('open', () => ws.send('from node'));
ws.on('message', (m) => { process.stdout.write(String(m)); ws.close(); });
ws.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

test('Node ws through an HTTP CONNECT agent (https-proxy-agent) with NODE_EXTRA_CA_CERTS; curl for the page', async () => {
  const { cli, port, events } = await startCli();
  try {
    const proxy = `http://127.0.0.1:${port}`;
    const node = await run(process.execPath, ['-e', NODE_CLIENT, `wss://localhost:${sitePort}/chat`], { NODE_EXTRA_CA_CERTS: ca.cert, HTTPS_PROXY: proxy });
    expect(node.stderr).toBe('');
    expect(node.stdout).toBe('echo from node');
    const curl = await run('curl', ['-sS', '--cacert', ca.cert, '--proxy', proxy, `https://localhost:${sitePort}/`]);
    expect(curl.stdout).toBe(PAGE);
    const denied = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--proxy', proxy, 'http://example.invalid/']);
    expect(denied.stdout).toBe('403');
    await waitFor(() => events().filter((e) => e.event === 'end').length === 3, 'three ends');
    const opens = events().filter((e) => e.event === 'open') as Extract<WsEvent, { event: 'open' }>[];
    expect(opens.map((o) => [o.mode, o.tls?.sni ?? null, o.upstream])).toEqual([
      ['tunnel', 'localhost', `wss://localhost:${sitePort}/chat`],
      ['tunnel', 'localhost', `wss://localhost:${sitePort}/`],
      ['forward', null, null],
    ]);
    expect(opens[0].upstreamTls).toMatchObject({ sni: 'localhost', alpn: 'http/1.1' });
    const texts = (events().filter((e) => e.event === 'message') as { text?: string }[]).map((m) => m.text);
    expect(texts).toEqual(['from node', 'echo from node']);
    const http = events().filter((e) => e.event === 'http') as Extract<WsEvent, { event: 'http' }>[];
    expect(http.map((h) => [h.request.method, h.request.target, h.response?.status])).toEqual([['GET', '/', 200], ['GET', 'http://example.invalid/', 403]]);
  } finally {
    cli.child.kill('SIGINT');
    await cli.exited;
  }
});

const CHROMIUM = '/usr/bin/chromium';
const maybe = existsSync(CHROMIUM) || process.env.CI ? test : test.skip;

maybe('headless Chromium with --proxy-server and the SPKI flag: an https:// page whose script opens wss://, decoded', async () => {
  const { chromium } = await import('playwright-core');
  const { cli, port, events } = await startCli();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      `--proxy-server=http://127.0.0.1:${port}`,
      // Chromium sends loopback straight unless told; its other requests get wsscope's 403.
      '--proxy-bypass-list=<-loopback>',
      `--ignore-certificate-errors-spki-list=${ca.spki}`,
    ],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`https://localhost:${sitePort}/`);
    await page.locator('#out', { hasText: 'echo: ' }).waitFor({ timeout: 30000 });
    expect(await page.locator('#out').textContent()).toBe('echo: echo from the page');
    await page.close();
    await waitFor(() => (events().filter((e) => e.event === 'message') as { text?: string }[]).length >= 2, 'the messages');
    const texts = (events().filter((e) => e.event === 'message') as { text?: string }[]).map((m) => m.text);
    expect(texts).toEqual(['from the page', 'echo from the page']);
    const opens = events().filter((e) => e.event === 'open') as Extract<WsEvent, { event: 'open' }>[];
    const chat = opens.find((o) => o.upstream?.endsWith('/chat'))!;
    expect(chat).toMatchObject({ mode: 'tunnel', tls: { sni: 'localhost', alpn: 'http/1.1' }, upstream: `wss://localhost:${sitePort}/chat` });
    // Whatever else Chromium asked for went nowhere: only the site was dialled.
    for (const o of opens) if (o.upstream) expect(o.upstream).toMatch(new RegExp(`^wss://localhost:${sitePort}/`));
  } finally {
    await browser.close();
    cli.child.kill('SIGINT');
    await cli.exited;
  }
}, 90000);
