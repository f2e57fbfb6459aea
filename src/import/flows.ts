/**
 * From captured packets to wsscope capture records (src/capture.ts): every TCP
 * connection is reassembled per direction (./tcp.ts), and a connection whose client
 * starts with an HTTP request asking for a WebSocket upgrade (RFC 6455 §4.1: Upgrade:
 * websocket or a Sec-WebSocket-Key) becomes a wsscope connection, on any port. Its
 * records are what the live proxy would have recorded: `open`, the raw bytes of each
 * direction in capture order, `error` for a gap, `end`. The CaptureReplayer then decodes
 * them exactly as it decodes a `--save` capture. Sans-IO: packets in, records out.
 *
 * Which side is the client: the one that sent the SYN; when the capture began after the
 * SYN, the side whose bytes start with an HTTP request line.
 *
 * Memory: until a connection is recognised its bytes are held, up to MAX_UNDECIDED (an
 * upgrade request comes first and is small: the decoder's MAX_HEAD is 64 KiB); each
 * direction holds at most `reassemblyCap` bytes of out-of-order segments; connections
 * that are not WebSocket are forgotten when they close.
 */
import type { CaptureRecord } from '../capture';
import type { Direction, ErrorEvent } from '../decoder/events';
import { isUpgradeRequest, parseRequestHead } from '../decoder/handshake';
import { MAX_HEAD } from '../decoder';
import { IPPROTO_TCP, parseIp } from './ip';
import { LINK_TYPE_NAMES, linkToIp } from './link';
import type { CapturedPacket } from './packets';
import { DEFAULT_REASSEMBLY_CAP, parseTcp, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TcpReassembler, type StreamOutput } from './tcp';

/** Bytes of a connection held before deciding whether it is a WebSocket connection. */
export const MAX_UNDECIDED = MAX_HEAD + 4096;

/** How many first bytes of a side tell whether it starts with an HTTP request line. */
const METHOD_PREFIX = /^[A-Z]{3,7} /;

interface Half {
  endpoint: string;
  stream: TcpReassembler;
  bytes: number;
  /** The first bytes of this side, while undecided (to find the request head in). */
  head: Buffer[];
  headLength: number;
  finished: boolean;
}

type FlowState = 'undecided' | 'websocket' | 'ignored';

interface Flow {
  state: FlowState;
  halves: [Half, Half];
  /** Index of the client half, once known. */
  client: 0 | 1 | null;
  conn: number;
  openTs: number;
  /** While undecided: the stream bytes in capture order. */
  held: { side: 0 | 1; ts: number; bytes: Buffer; number: number }[];
  heldBytes: number;
  reset: boolean;
  ended: boolean;
  /** Sides that sent a FIN (for forgetting ignored connections). */
  fins: number;
}

export interface FlowOptions {
  reassemblyCap?: number;
}

/** Turns captured packets into capture records of the WebSocket connections among them. */
export class FlowTracker {
  private readonly flows = new Map<string, Flow>();
  private nextConn = 1;
  private lastTs = 0;
  private tcpConnections = 0;
  /** Connections that could not be checked for an upgrade: their start is not in the capture. */
  private startless = 0;
  private readonly reported = new Set<string>();
  private readonly cap: number;

  constructor(options: FlowOptions = {}) {
    this.cap = options.reassemblyCap ?? DEFAULT_REASSEMBLY_CAP;
  }

  /** WebSocket connections found so far. */
  get connections(): number {
    return this.nextConn - 1;
  }

  /** One packet; returns the records it completes. */
  packet(p: CapturedPacket): CaptureRecord[] {
    const out: CaptureRecord[] = [];
    this.lastTs = p.ts;
    const link = linkToIp(p.linkType, p.data);
    if ('unsupported' in link) {
      const name = LINK_TYPE_NAMES[p.linkType];
      this.reportOnce(out, p, `unsupported:${p.linkType}`, `packets of ${name ?? link.unsupported} are not read (wsscope reads Ethernet, Linux cooked v1/v2, BSD/OpenBSD loopback and raw IP); skipped them`);
      return out;
    }
    if ('skip' in link) return out; // not IP (ARP, ...): nothing of ours
    const ip = parseIp(link.ip);
    if ('problem' in ip) return out;
    if (ip.protocol !== IPPROTO_TCP) return out;
    if (ip.fragment) {
      this.reportOnce(out, p, 'fragment', `packet ${p.number} is an IP fragment; fragments are not reassembled, so a TCP connection that needs it will show a gap`);
      return out;
    }
    const tcp = parseTcp(ip.payload);
    if (!tcp) return out;
    const src = endpoint(ip.src, ip.version, tcp.srcPort);
    const dst = endpoint(ip.dst, ip.version, tcp.dstPort);
    const key = src < dst ? `${src} ${dst}` : `${dst} ${src}`;
    const syn = (tcp.flags & TCP_SYN) !== 0;
    const ack = (tcp.flags & TCP_ACK) !== 0;
    let flow = this.flows.get(key);
    // A SYN on a finished pair is a new connection on reused ports.
    if (flow && syn && !ack && (flow.ended || flow.reset)) {
      this.flows.delete(key);
      flow = undefined;
    }
    if (!flow && !syn && tcp.payload.length === 0) return out; // the tail of a connection already forgotten
    if (!flow) {
      // A connection first seen without its SYN (the capture began later) is still read:
      // it is recognised only if its client's bytes in the capture start with the upgrade.
      flow = {
        state: 'undecided',
        halves: [this.half(src), this.half(dst)],
        client: syn && !ack ? 0 : syn && ack ? 1 : null,
        conn: 0,
        openTs: p.ts,
        held: [],
        heldBytes: 0,
        reset: false,
        ended: false,
        fins: 0,
      };
      this.flows.set(key, flow);
      this.tcpConnections++;
    }
    const side: 0 | 1 = flow.halves[0].endpoint === src ? 0 : 1;
    if (flow.state === 'ignored') {
      if (tcp.flags & TCP_FIN) flow.fins |= 1 << side;
      if (tcp.flags & TCP_RST || flow.fins === 3) this.flows.delete(key);
      return out;
    }
    const me = flow.halves[side];
    const peer = flow.halves[1 - side];
    if (syn) me.stream.syn(tcp.seq);
    const outputs: [0 | 1, StreamOutput][] = [];
    const dataSeq = syn ? (tcp.seq + 1) >>> 0 : tcp.seq;
    if (tcp.payload.length || tcp.flags & TCP_FIN) {
      for (const o of me.stream.segment(dataSeq, tcp.payload, (tcp.flags & TCP_FIN) !== 0, p.ts)) outputs.push([side, o]);
    }
    if (ack) for (const o of peer.stream.ack(tcp.ack, p.ts)) outputs.push([(1 - side) as 0 | 1, o]);
    if (tcp.flags & TCP_RST) {
      flow.reset = true;
      for (const i of [0, 1] as const) for (const o of flow.halves[i].stream.end(p.ts)) outputs.push([i, o]);
    }
    for (const [s, o] of outputs) this.output(flow, s, o, p, out);
    if ((flow.state as FlowState) === 'ignored') {
      this.ignore(flow);
      if (flow.reset) this.flows.delete(key);
    } else if (!flow.ended && (flow.reset || (closedHalf(flow.halves[0]) && closedHalf(flow.halves[1])))) {
      this.close(flow, flow.reset ? `reset by the ${this.dirOf(flow, side)}` : 'closed', p.ts, out, p.number);
      this.flows.delete(key);
    }
    return out;
  }

  /** How many WebSocket connections were recognised so far. */
  get found(): number {
    return this.connections;
  }

  /** When no WebSocket connection was recognised: what was seen instead; else null. */
  nothingFound(): string | null {
    if (this.connections > 0) return null;
    return this.tcpConnections === 0 ? 'no TCP connections at all' : `${this.tcpConnections} TCP connection${this.tcpConnections === 1 ? '' : 's'}, none starting with an HTTP upgrade request`;
  }

  /**
   * The capture ended: gaps, then the end of every connection still open. `reportNone`
   * (default true): an `error` record when no connection was found (a file reader that
   * fails instead, as replayImport does, passes false).
   */
  finish(reportNone = true): CaptureRecord[] {
    const out: CaptureRecord[] = [];
    const p = { number: 0, ts: this.lastTs } as CapturedPacket;
    for (const flow of this.flows.values()) {
      if (flow.state === 'ignored' || flow.ended) continue;
      for (const i of [0, 1] as const) for (const o of flow.halves[i].stream.end(this.lastTs)) this.output(flow, i, o, p, out);
      if (flow.state === 'websocket') this.close(flow, 'the capture ended with the connection open', this.lastTs, out, 0);
    }
    this.flows.clear();
    if (this.startless > 0 && this.connections > 0) {
      const n = this.startless;
      out.push(this.errorRecord(0, { event: 'error', ts: this.lastTs, message: `${n} TCP connection${n === 1 ? '' : 's'} in the capture could not be checked for a WebSocket upgrade: ${n === 1 ? 'its' : 'their'} first bytes are not in the capture (begun before it, or packets lost)` }));
    }
    const seen = this.nothingFound();
    if (seen !== null && reportNone) {
      out.push(this.errorRecord(0, { event: 'error', ts: this.lastTs, message: `no WebSocket connection found in the capture: ${seen} (a connection is found by its upgrade request, so the capture must include the start of the connection)` }));
    }
    return out;
  }

  /** Lets go of what an ignored connection held. */
  private ignore(flow: Flow): void {
    flow.state = 'ignored';
    flow.held = [];
    flow.heldBytes = 0;
    for (const h of flow.halves) h.head = [];
  }

  private half(endpoint: string): Half {
    return { endpoint, stream: new TcpReassembler(this.cap), bytes: 0, head: [], headLength: 0, finished: false };
  }

  private dirOf(flow: Flow, side: 0 | 1): Direction {
    return flow.client === null || flow.client === side ? 'client' : 'server';
  }

  private output(flow: Flow, side: 0 | 1, o: StreamOutput, p: CapturedPacket, out: CaptureRecord[]): void {
    const half = flow.halves[side];
    if (o.kind === 'fin') {
      half.finished = true;
      return;
    }
    if (o.kind === 'gap') {
      if (flow.state === 'websocket') {
        const dir = this.dirOf(flow, side);
        const size = o.length === null ? 'bytes' : `${o.length} byte${o.length === 1 ? '' : 's'}`;
        out.push(
          this.errorRecord(p.number, {
            event: 'error',
            ts: o.ts,
            conn: flow.conn,
            dir,
            gap: { offset: o.offset, length: o.length },
            message: `${dir} → ${dir === 'client' ? 'server' : 'client'}: ${size} missing from the capture at byte ${o.offset} of the ${dir}'s stream, handshake included (${o.why}); decoding of this direction stops here`,
          }),
        );
      } else {
        // The start of the connection is incomplete: it cannot be recognised honestly.
        flow.state = 'ignored';
        this.startless++;
      }
      return;
    }
    half.bytes += o.bytes.length;
    if (flow.state === 'websocket') {
      out.push({ kind: 'data', line: p.number, conn: flow.conn, dir: this.dirOf(flow, side), ts: o.ts, bytes: o.bytes });
      return;
    }
    if (flow.state !== 'undecided') return;
    flow.held.push({ side, ts: o.ts, bytes: o.bytes, number: p.number });
    flow.heldBytes += o.bytes.length;
    if (half.headLength < MAX_UNDECIDED) {
      half.head.push(o.bytes);
      half.headLength += o.bytes.length;
    }
    this.decide(flow, side, out);
  }

  /** Recognises (or gives up on) a connection from the first bytes of its sides. */
  private decide(flow: Flow, side: 0 | 1, out: CaptureRecord[]): void {
    const half = flow.halves[side];
    const head = Buffer.concat(half.head);
    half.head = [head];
    const prefix = head.subarray(0, 8).toString('latin1');
    const looksHttp = METHOD_PREFIX.test(prefix) || (head.length < 8 && /^[A-Z]*$/.test(prefix));
    if (flow.client === null) {
      if (!looksHttp) {
        this.startless++;
        // The first side to speak is not an HTTP client: the server spoke first (not
        // HTTP), or it is the response of a connection whose request came before the capture.
        flow.state = 'ignored';
        return;
      }
      flow.client = side;
    }
    if (side !== flow.client) {
      if (flow.halves[flow.client].headLength === 0) flow.state = 'ignored'; // the server spoke first
      else if (flow.heldBytes > MAX_UNDECIDED) flow.state = 'ignored';
      return;
    }
    if (!looksHttp) {
      flow.state = 'ignored';
      return;
    }
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length >= MAX_UNDECIDED || flow.heldBytes > MAX_UNDECIDED) flow.state = 'ignored';
      return;
    }
    const request = parseRequestHead(head.subarray(0, end).toString('latin1'));
    if (!request || !isUpgradeRequest(request.head)) {
      flow.state = 'ignored';
      return;
    }
    this.recognise(flow, request.head.target, out);
  }

  private recognise(flow: Flow, requestTarget: string, out: CaptureRecord[]): void {
    flow.state = 'websocket';
    flow.conn = this.nextConn++;
    const client = flow.halves[flow.client!].endpoint;
    const server = flow.halves[1 - flow.client!].endpoint;
    // The target the client dialled: the server's address, and the request's path (an
    // absolute-form target gives its own).
    let path = requestTarget;
    const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(requestTarget);
    if (absolute) path = absolute[1] ?? '/';
    out.push({ kind: 'open', line: flow.held[0]?.number ?? 0, event: { event: 'open', ts: flow.openTs, conn: flow.conn, client, target: `ws://${server}${path}` } });
    for (const h of flow.held) out.push({ kind: 'data', line: h.number, conn: flow.conn, dir: this.dirOf(flow, h.side), ts: h.ts, bytes: h.bytes });
    flow.held = [];
    flow.heldBytes = 0;
    for (const h of flow.halves) h.head = [];
  }

  private close(flow: Flow, reason: string, ts: number, out: CaptureRecord[], number: number): void {
    flow.ended = true;
    if (flow.state !== 'websocket') {
      flow.state = 'ignored';
      return;
    }
    const c = flow.halves[flow.client!];
    const s = flow.halves[1 - flow.client!];
    out.push({ kind: 'end', line: number, event: { event: 'end', ts, conn: flow.conn, reason, bytes: { client: c.bytes, server: s.bytes } } });
  }

  private errorRecord(line: number, event: ErrorEvent): CaptureRecord {
    return { kind: 'error', line, event };
  }

  private reportOnce(out: CaptureRecord[], p: CapturedPacket, key: string, message: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    out.push(this.errorRecord(p.number, { event: 'error', ts: p.ts, message }));
  }
}

/** A direction that is over: its FIN reached in order, or seen after a gap stopped it. */
function closedHalf(h: Half): boolean {
  return h.finished || (h.stream.stopped && h.stream.finSeen);
}

/** "ip:port", IPv6 in brackets (RFC 3986 §3.2.2), as open events name addresses. */
function endpoint(ip: string, version: 4 | 6, port: number): string {
  return version === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}
