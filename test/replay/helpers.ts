/** Captures recorded live for the replay and serve tests, and small servers that answer differently. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import WebSocket, { WebSocketServer } from 'ws';
import { startProxy } from '../../src';

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-replay-'));
}

/** Resolves with the next `count` messages a client receives (as strings). */
export function nextMessages(ws: WebSocket, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const got: string[] = [];
    const onMessage = (data: WebSocket.RawData) => {
      got.push(data.toString());
      if (got.length === count) {
        ws.off('message', onMessage);
        resolve(got);
      }
    };
    ws.on('message', onMessage);
    ws.once('error', reject);
    ws.once('close', () => got.length < count && reject(new Error(`closed after ${got.length} of ${count} messages`)));
  });
}

export function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

export function closed(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', () => resolve())));
}

/**
 * Records a session through the proxy to the built-in backend: a ws client with a header
 * of its own sends each text, waits for its answer, then closes. Returns the capture's path.
 */
export async function recordSession(file: string, texts: string[]): Promise<string> {
  const proxy = await startProxy({ backend: true, save: file });
  try {
    const ws = new WebSocket(proxy.url + 'json', { headers: { 'X-Test-Run': 'recorded' } });
    await opened(ws);
    for (const text of texts) {
      const answer = nextMessages(ws, 1);
      ws.send(text);
      await answer;
    }
    ws.close(1000, 'bye');
    await closed(ws);
    await proxy.waitFor((e) => e.event === 'end');
  } finally {
    await proxy.close();
  }
  return file;
}

/**
 * A server that answers like the built-in backend but with `age` 19 and the members in
 * another order (JSON with other spacing too); it records the requests' headers.
 */
export async function differentServer(): Promise<{ url: string; port: number; requests: Record<string, string | string[] | undefined>[]; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  const requests: Record<string, string | string[] | undefined>[] = [];
  wss.on('connection', (ws, req) => {
    requests.push(req.headers);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const p = data.toString();
      ws.send(`{ "age": 19, "description": ${JSON.stringify(p + '很厉害!!!!')}, "name": ${JSON.stringify(p)} }`);
    });
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  const port = (wss.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}/json`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}
