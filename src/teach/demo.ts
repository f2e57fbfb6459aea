/**
 * `wsscope demo`: a scripted client that sends one of each kind of frame, announcing
 * each step, and shows (decoded) what the server sent back. Frames are built byte by byte
 * with buildFrame and written on a raw socket: a library client could not put a ping
 * between two fragments of a message (RFC 6455 §5.4 allows it) or choose the masking key.
 */
import * as crypto from 'crypto';
import { buildFrame, deflateMessage } from '../decoder/build';
import { OPCODES } from '../decoder/constants';
import { ClientError, openWebSocket, type RawConnection, type WsUrl } from './client';
import { EventPrinter, handshakeLines } from './format';

export interface DemoOptions {
  url: WsUrl;
  /** Called before each step; resolves when the step may run (e.g. Enter was pressed). */
  beforeStep?: (index: number, total: number) => Promise<void>;
  /** Offer permessage-deflate on the main connection too, so steps 1-7 are compressed. */
  deflate?: boolean;
  /** A fixed 4-byte masking key (RFC 6455 §5.7 uses 37fa213d); default: a random one per frame (§5.3). */
  mask?: Buffer;
  /** How long to wait for an expected answer. */
  timeoutMs?: number;
  /** How long the server must stay silent when no answer is expected. */
  quietMs?: number;
  verbose?: boolean;
  maxPayload?: number;
  /** wss: accept any certificate. */
  insecure?: boolean;
}

/** The offer of step 8: no parameters, so the server may not shrink our window (RFC 7692 §7.1.2.2). */
const DEFLATE_OFFER = 'permessage-deflate';

/** What a step waits for from the server before the next one: how many of each. */
interface Counts {
  messages?: number;
  pongs?: number;
  closes?: number;
}

interface Step {
  title: string;
  run: () => Promise<void>;
}

/** A connection of the demo: masks and (when negotiated) compresses what it sends. */
class DemoConnection {
  readonly compressed: boolean;
  /** What the server sent so far, counted (not kept: a chatty server must not grow memory). */
  private readonly counts: Required<Counts> = { messages: 0, pongs: 0, closes: 0 };

  constructor(
    readonly conn: RawConnection,
    private readonly out: (line: string) => void,
    private readonly options: DemoOptions,
  ) {
    this.compressed = conn.handshake.deflate;
    const printer = new EventPrinter(out, { verbose: options.verbose });
    conn.onEvent((event) => {
      if (event.event === 'message' && event.dir === 'server') this.counts.messages++;
      if (event.event === 'frame' && event.dir === 'server' && event.opcode === OPCODES.PONG) this.counts.pongs++;
      if (event.event === 'frame' && event.dir === 'server' && event.opcode === OPCODES.CLOSE) this.counts.closes++;
      printer.print(event);
    });
    conn.start();
  }

  private mask(): Buffer {
    return this.options.mask ?? crypto.randomBytes(4);
  }

  /** Client frames are always masked (RFC 6455 §5.3). */
  frame(opcode: number, payload: Buffer, fin = true, rsv1 = false): Buffer {
    return buildFrame({ opcode, payload, fin, rsv1, mask: this.mask() });
  }

  /**
   * A data message in `fragments` frames (§5.4), compressed first when permessage-deflate
   * was negotiated (RSV1 on the first frame only, RFC 7692 §6.1). `between` goes after
   * the first fragment and after each following one but the last.
   */
  message(opcode: number, payload: Buffer, fragments = 1, between?: () => Buffer, compress = this.compressed): Buffer[] {
    const body = compress ? deflateMessage(payload) : payload;
    const size = Math.ceil(body.length / fragments);
    const frames: Buffer[] = [];
    for (let i = 0; i < fragments; i++) {
      const part = body.subarray(i * size, Math.min(body.length, (i + 1) * size));
      const last = i === fragments - 1;
      frames.push(this.frame(i === 0 ? opcode : OPCODES.CONTINUATION, part, last, i === 0 && compress));
      if (!last && between) frames.push(between());
    }
    return frames;
  }

  /** Writes the frames one by one (each one write, so the proxy sees them apart). */
  async send(frames: Buffer[]): Promise<void> {
    for (const frame of frames) await this.conn.send(frame);
  }

  /** Waits until the server has sent what `expect` says (counted from `since`), or times out. */
  async expect(expect: Counts, since: Required<Counts>): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? 5000;
    const met = () =>
      this.counts.messages - since.messages >= (expect.messages ?? 0) &&
      this.counts.pongs - since.pongs >= (expect.pongs ?? 0) &&
      this.counts.closes - since.closes >= (expect.closes ?? 0);
    if (met()) return;
    const ok = await this.conn.waitFor(() => met(), timeoutMs);
    if (!ok && !met()) {
      this.out(this.conn.isClosed ? '  (the server closed the connection)' : `  (no answer within ${timeoutMs} ms)`);
    }
  }

  /** The counts now, to wait for what comes after. */
  get mark(): Required<Counts> {
    return { ...this.counts };
  }

  /** Sends a close frame and waits for the server's close and for it to end TCP (§7.1.1). */
  async close(code: number, reason: string): Promise<void> {
    if (this.conn.isClosed) {
      this.out('  (the connection is already closed)');
      return;
    }
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2, 'utf8');
    const since = this.mark;
    await this.send([this.frame(OPCODES.CLOSE, payload)]);
    await this.expect({ closes: 1 }, since);
    // §7.1.1: the server should close the TCP connection first (so that it, not the
    // client, holds TIME_WAIT); a client waits a little, then closes it itself.
    const waitMs = this.options.timeoutMs ?? 5000;
    let gaveUp = false;
    const timer = setTimeout(() => {
      gaveUp = true;
      this.conn.destroy();
    }, waitMs);
    await this.conn.closed;
    clearTimeout(timer);
    await this.conn.end('closed');
    this.out(
      gaveUp
        ? `  the server did not close the TCP connection within ${waitMs} ms: the client closed it (RFC 6455 §7.1.1)`
        : '  the TCP connection is closed',
    );
  }
}

/**
 * Runs the nine steps against `options.url`, writing each announcement and every decoded
 * frame to `out`. Throws ClientError when the first connection cannot be made.
 */
export async function runDemo(options: DemoOptions, out: (line: string) => void): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const quietMs = options.quietMs ?? 300;
  const connect = async (conn: number, extensions?: string) => {
    const raw = await openWebSocket({ url: options.url, extensions, timeoutMs, insecure: options.insecure }, conn, options.maxPayload);
    out(`connection ${conn} to ${options.url.href}`);
    for (const line of handshakeLines(raw.handshake, options.verbose)) out(line);
    return new DemoConnection(raw, out, options);
  };

  const main = await connect(1, options.deflate ? DEFLATE_OFFER : undefined);
  const text = (s: string) => Buffer.from(s, 'utf8');
  const fill = (n: number) => Buffer.alloc(n, 'a');
  /**
   * The length-form steps show the wire length, which compression would shrink (125 'a'
   * deflate to 6 bytes): they go uncompressed, which permessage-deflate allows per
   * message (RSV1 clear, RFC 7692 §6).
   */
  const sized = async (n: number) => {
    if (main.compressed) out('  (sent uncompressed, RSV1 = 0, so that the length form shows: RFC 7692 §6 lets each message choose)');
    const since = main.mark;
    await main.send(main.message(OPCODES.TEXT, fill(n), 1, undefined, false));
    await main.expect({ messages: 1 }, since);
  };

  const steps: Step[] = [
    {
      title: 'a text message "Hello" — expect a User JSON answer',
      run: async () => {
        const since = main.mark;
        await main.send(main.message(OPCODES.TEXT, text('Hello')));
        await main.expect({ messages: 1 }, since);
      },
    },
    {
      title: 'a binary message of 4 bytes (de ad be ef) — expect no answer: the backend ignores binary messages',
      run: async () => {
        await main.send(main.message(OPCODES.BINARY, Buffer.from('deadbeef', 'hex')));
        await main.conn.waitQuiet(quietMs, timeoutMs);
      },
    },
    {
      title: "a ping with payload 'hello' — expect a pong with the same payload",
      run: async () => {
        const since = main.mark;
        await main.send([main.frame(OPCODES.PING, text('hello'))]);
        await main.expect({ pongs: 1 }, since);
      },
    },
    {
      title: 'a text in three fragments with a ping between them — expect two pongs, then one answer',
      run: async () => {
        const since = main.mark;
        let pings = 0;
        const ping = () => main.frame(OPCODES.PING, text(`between ${++pings}`));
        await main.send(main.message(OPCODES.TEXT, text('Hello, fragments'), 3, ping));
        await main.expect({ pongs: 2, messages: 1 }, since);
      },
    },
    {
      title: 'a message of 125 bytes: the longest in the 7-bit length form — expect an answer',
      run: () => sized(125),
    },
    {
      title: 'a message of 126 bytes: the 16-bit length form (126, then 2 bytes of length) — expect an answer',
      run: () => sized(126),
    },
    {
      title: 'a message of 65,536 bytes: the 64-bit length form (127, then 8 bytes of length) — expect an answer',
      run: () => sized(65536),
    },
    {
      title: 'a second connection offering permessage-deflate, and a compressed text message — expect a compressed answer',
      run: async () => {
        const second = await connect(2, DEFLATE_OFFER);
        if (!second.compressed) {
          out('  the server declined permessage-deflate (no Sec-WebSocket-Extensions in its answer): no compressed message to show');
        } else {
          const since = second.mark;
          await second.send(second.message(OPCODES.TEXT, text('Hello, compression! Hello, compression!')));
          await second.expect({ messages: 1 }, since);
        }
        out('  closing connection 2 with code 1000');
        await second.close(1000, '');
      },
    },
    {
      title: 'a close with code 1000 and reason "bye" — expect the server to answer with a close',
      run: async () => {
        await main.close(1000, 'bye');
      },
    },
  ];

  try {
    for (const [i, step] of steps.entries()) {
      await options.beforeStep?.(i + 1, steps.length);
      out('');
      out(`Step ${i + 1}/${steps.length}: ${step.title}`);
      try {
        await step.run();
      } catch (err) {
        // The server closed on us (or refused the second connection): say so, go on.
        if (!(err instanceof ClientError)) throw err;
        out(`  (${err.message})`);
      }
    }
  } finally {
    main.conn.destroy();
  }
}
