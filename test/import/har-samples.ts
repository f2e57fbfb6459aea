/** HAR samples built in the shapes Chrome and Firefox DevTools save (see har.test.ts). */
import { computeAccept } from '../../src/decoder';
import type { HarInput } from '../../src/import';

export const HAR_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** Chrome's form: `_resourceType: "websocket"`, `_webSocketMessages` with seconds, base64 binary. */
export function chromeStyleHar(): HarInput {
  return {
    log: {
      version: '1.2',
      creator: { name: 'WebInspector', version: '537.36' },
      entries: [
        {
          startedDateTime: '2026-12-03T12:00:00.000Z',
          time: 5,
          request: {
            method: 'GET',
            url: 'ws://127.0.0.1:8080/json',
            httpVersion: 'HTTP/1.1',
            headers: [
              { name: 'Host', value: '127.0.0.1:8080' },
              { name: 'Upgrade', value: 'websocket' },
              { name: 'Connection', value: 'Upgrade' },
              { name: 'Sec-WebSocket-Key', value: HAR_KEY },
              { name: 'Sec-WebSocket-Version', value: '13' },
            ],
          },
          response: {
            status: 101,
            statusText: 'Switching Protocols',
            httpVersion: 'HTTP/1.1',
            headers: [
              { name: 'Upgrade', value: 'websocket' },
              { name: 'Connection', value: 'Upgrade' },
              { name: 'Sec-WebSocket-Accept', value: computeAccept(HAR_KEY) },
            ],
          },
          _resourceType: 'websocket',
          _webSocketMessages: [
            { type: 'send', time: 1796300400.25, opcode: 1, data: 'hello' },
            { type: 'receive', time: 1796300400.5, opcode: 1, data: '{"name":"hello","age":18}\n' },
            { type: 'send', time: 1796300401, opcode: 2, data: Buffer.from([0, 1, 2, 255]).toString('base64') },
          ],
        },
      ],
    },
  };
}
