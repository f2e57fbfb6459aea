/**
 * The raw client over TLS (wss://, with a self-signed certificate made by openssl for the
 * test), and `wsscope demo --step` waiting for Enter before each step.
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { parseWsUrl } from '../../src/teach/client';
import { runSend } from '../../src/teach/send';
import { BIN, ROOT, switchingProtocols, onRequestHead } from './helpers';
import type * as net from 'net';

describe('wsscope send over wss://', () => {
  let dir: string;
  let server: tls.Server;
  let port: number;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-teach-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1',
    ], { stdio: 'ignore' });
    server = tls.createServer(
      { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) },
      (socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
        // Answers the handshake, then greets with an unmasked text frame "hi" and closes (1000).
        onRequestHead(socket, (head) => socket.end(Buffer.concat([Buffer.from(switchingProtocols(head)), Buffer.from('8102' + '6869' + '8802' + '03e8', 'hex')])));
      },
    );
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('does the handshake over TLS and decodes what the server sends (--insecure for a self-signed certificate)', async () => {
    const lines: string[] = [];
    const r = await runSend(
      { url: parseWsUrl(`wss://127.0.0.1:${port}/`), chunks: [], timeoutMs: 10000, ui: 'text', insecure: true, keepEvents: true },
      (line) => lines.push(line),
    );
    expect(r.ending).toBe('closed by the server');
    expect(lines).toContain('← server frame #0 text FIN unmasked len=2/7-bit "hi"');
    expect(lines).toContain('← server frame #1 close FIN unmasked len=2/7-bit 1000 Normal Closure');
  });

  it('refuses a certificate it cannot verify, in one line', async () => {
    await expect(
      runSend({ url: parseWsUrl(`wss://127.0.0.1:${port}/`), chunks: [], timeoutMs: 10000, ui: 'text' }, () => undefined),
    ).rejects.toThrow(`TLS handshake with 127.0.0.1:${port} failed: self-signed certificate`);
  });
});

describe('wsscope demo --step', () => {
  it('waits for Enter before each step', async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--step', '--mask', '37fa213d'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let exitCode: number | null | undefined;
    // Each pending wait: returns true once satisfied (or failed, when the demo exited first).
    const waiters: (() => boolean)[] = [];
    const recheck = () => {
      for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i]()) waiters.splice(i, 1);
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      recheck();
    });
    const until = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (stdout.includes(text)) resolve();
          else if (exitCode !== undefined) reject(new Error(`demo exited (${exitCode}) before printing ${JSON.stringify(text)}:\n${stdout}`));
          else return false;
          return true;
        };
        if (!check()) waiters.push(check);
      });
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => {
        exitCode = code;
        recheck();
        resolve(code);
      }),
    );
    try {
      await until('[press Enter for step 1/9] ');
      expect(stdout).not.toContain('Step 1/9');
      child.stdin.write('\n');
      await until('[press Enter for step 2/9] ');
      // Step 1 ran (and its answer arrived) before the demo asked for step 2; step 2 did not run.
      expect(stdout).toContain('Step 1/9: a text message "Hello" — expect a User JSON answer\n→ client frame #0 text FIN masked 37fa213d len=5/7-bit "Hello"\n← server frame #0 text FIN');
      expect(stdout).not.toContain('Step 2/9');
      // The rest at once: seven more Enters, then end of input (which stops the waiting).
      child.stdin.end('\n'.repeat(7));
      expect(await exited).toBe(0);
      expect(stdout.match(/^Step \d\/9/gm)).toHaveLength(9);
      expect(stdout).toContain('\ndemo finished\n');
    } finally {
      child.kill('SIGKILL');
    }
  }, 90000);
});
