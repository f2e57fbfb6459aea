/**
 * HTTP/1.1 message bodies (RFC 7230 §3.3.3), just enough to follow a keep-alive connection
 * past non-upgrade exchanges: Content-Length bodies, chunked bodies, and "no body".
 */
import { headerValues } from './handshake';

export type BodyLength = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' } | { kind: 'invalid'; message: string };

/** The body length of a request (no length header: no body). */
export function requestBodyLength(headers: [string, string][]): BodyLength {
  return bodyLength(headers, { kind: 'none' });
}

/** The body length of a response to `method` (RFC 7230 §3.3.3). */
export function responseBodyLength(method: string, status: number, headers: [string, string][]): BodyLength {
  if (method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304) return { kind: 'none' };
  return bodyLength(headers, { kind: 'close' });
}

function bodyLength(headers: [string, string][], otherwise: BodyLength): BodyLength {
  const te = headerValues(headers, 'transfer-encoding').join(',').toLowerCase();
  if (te) {
    const codings = te.split(',').map((t) => t.trim());
    return codings[codings.length - 1] === 'chunked' ? { kind: 'chunked' } : otherwise.kind === 'none' ? { kind: 'invalid', message: `request Transfer-Encoding "${te}" without chunked` } : { kind: 'close' };
  }
  const lengths = headerValues(headers, 'content-length').flatMap((v) => v.split(',').map((x) => x.trim()));
  if (lengths.length === 0) return otherwise;
  if (!lengths.every((l) => /^\d{1,15}$/.test(l) && l === lengths[0])) return { kind: 'invalid', message: `invalid Content-Length ${JSON.stringify(lengths.join(', '))}` };
  const length = Number(lengths[0]);
  return length === 0 ? { kind: 'none' } : { kind: 'length', length };
}

const SIZE = 0;
const DATA = 1;
const DATA_CRLF = 2;
const TRAILER = 3;
const DONE = 4;
const MAX_LINE = 4096;

/** Skips a body of known framing; `consume` returns how many bytes belonged to it. */
export class BodySkipper {
  done = false;
  error: string | null = null;
  private remaining: number;
  private state: number;
  private line = '';

  constructor(private readonly chunked: boolean, length = 0) {
    this.remaining = length;
    this.state = chunked ? SIZE : DATA;
    if (!chunked && length === 0) this.done = true;
  }

  consume(buf: Buffer, start: number): number {
    let pos = start;
    while (pos < buf.length && !this.done && this.error === null) {
      switch (this.state) {
        case DATA: {
          const n = Math.min(this.remaining, buf.length - pos);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            if (this.chunked) this.state = DATA_CRLF;
            else this.done = true;
          }
          break;
        }
        case DATA_CRLF:
        case SIZE:
        case TRAILER: {
          const nl = buf.indexOf(0x0a, pos);
          const end = nl < 0 ? buf.length : nl + 1;
          this.line += buf.toString('latin1', pos, end);
          pos = end;
          if (this.line.length > MAX_LINE) this.error = 'chunked body line longer than 4096 bytes';
          if (nl < 0) break;
          const line = this.line.replace(/\r?\n$/, '');
          this.line = '';
          if (this.state === DATA_CRLF) {
            if (line !== '') this.error = 'chunk data not followed by CRLF';
            this.state = SIZE;
          } else if (this.state === SIZE) {
            const m = /^([0-9a-fA-F]{1,12})\s*(?:;.*)?$/.exec(line);
            if (!m) {
              this.error = `bad chunk size line ${JSON.stringify(line.slice(0, 40))}`;
              break;
            }
            this.remaining = parseInt(m[1], 16);
            this.state = this.remaining === 0 ? TRAILER : DATA;
          } else if (line === '') {
            this.state = DONE;
            this.done = true;
          }
          break;
        }
      }
    }
    return pos - start;
  }
}
