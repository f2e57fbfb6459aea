/** The proxy's parts alone, without a listener: relay.Pipe, the front's sniff and HeadReader, head.ts's forward parsing. */
import { Duplex, PassThrough } from 'stream';
import { HeadReader, sniff, type FrontAnswer } from '../../src/proxy/front';
import { parseAbsoluteTarget, parseAuthority, parseHead, rewriteHead } from '../../src/proxy/head';
import { Pipe } from '../../src/proxy/relay';
import { Tee } from '../../src/proxy/tee';
import { recordingSession } from './helpers';

function sink(highWaterMark = 16 * 1024): Duplex & { got: Buffer[]; release(): void } {
  const held: (() => void)[] = [];
  let hold = false;
  const w = new Duplex({
    writableHighWaterMark: highWaterMark,
    read() {},
    write(chunk: Buffer, _enc, cb) {
      w.got.push(chunk);
      if (hold) held.push(cb);
      else cb();
    },
  }) as Duplex & { got: Buffer[]; release(): void };
  w.got = [];
  w.release = () => {
    hold = false;
    for (const cb of held.splice(0)) cb();
  };
  Object.defineProperty(w, 'holding', { set: (v: boolean) => (hold = v) });
  return w;
}

test('Pipe: writes then tees each chunk; a stage sees the reads and writes what it wants; null puts the plain path back', () => {
  const rec = recordingSession();
  const tee = new Tee(1, rec.session, false, undefined);
  const from = new PassThrough();
  const to = sink();
  const pipe = new Pipe(from, to, 'client', tee);
  pipe.start();
  expect(from.listeners('data')).toEqual([pipe.write]); // no stage: the listener is write itself
  from.write(Buffer.from('ab'));
  const seen: Buffer[] = [];
  pipe.setStage((chunk) => {
    seen.push(chunk);
    pipe.write(Buffer.from(chunk.toString().toUpperCase()));
  });
  from.write(Buffer.from('cd'));
  pipe.setStage(null);
  expect(from.listeners('data')).toEqual([pipe.write]);
  from.write(Buffer.from('ef'));
  expect(Buffer.concat(to.got).toString()).toBe('abCDef');
  expect(seen.map(String)).toEqual(['cd']);
  expect(rec.data.map((d) => d.chunk.toString())).toEqual(['ab', 'CD', 'ef']);
  expect(tee.bytes).toEqual({ client: 6, server: 0 });
});

test('Pipe: the reader pauses while the writer is full and resumes on drain', async () => {
  const tee = new Tee(1, recordingSession().session, false, undefined);
  const from = new PassThrough();
  const to = sink(4);
  (to as unknown as { holding: boolean }).holding = true;
  new Pipe(from, to, 'server', tee).start();
  from.write(Buffer.from('0123456789'));
  expect(from.isPaused()).toBe(true);
  to.release();
  await new Promise((r) => setImmediate(r));
  expect(from.isPaused()).toBe(false);
});

test('sniff: TLS by the first byte (RFC 8446 §5.1 handshake record), the bytes put back for the next reader', async () => {
  for (const [bytes, tls] of [[Buffer.from('160301', 'hex'), true], [Buffer.from('GET / HTTP/1.1\r\n'), false]] as const) {
    const s = new PassThrough();
    const decided = new Promise<boolean>((resolve) => sniff(s, resolve));
    s.write(bytes);
    expect(await decided).toBe(tls);
    expect(s.read()).toEqual(bytes);
  }
});

test('HeadReader: the head and what came after it, or the answer for what is not HTTP', () => {
  const s = new PassThrough();
  const heads: [string, string][] = [];
  new HeadReader(s, (h, rest) => heads.push([h.target, rest.toString()]), () => undefined);
  s.write('CONNECT example.test:443 HTTP/1.1\r\nHo');
  s.write('st: example.test:443\r\n\r\n\x16\x03');
  expect(heads).toEqual([['example.test:443', '\x16\x03']]);
  const bad = new PassThrough();
  const answers: FrontAnswer[] = [];
  new HeadReader(bad, () => undefined, (a) => answers.push(a));
  bad.write('SSH-2.0-x\r\n');
  expect(answers.map((a) => a.status)).toEqual([400]);
});

test('forward parsing: CONNECT authority-form, absolute-form, and the rewrite to origin-form without Proxy-* fields', () => {
  expect(parseAuthority('example.test:443')).toEqual({ host: 'example.test', port: 443 });
  expect(parseAuthority('[::1]:8443')).toEqual({ host: '::1', port: 8443 });
  for (const bad of ['example.test', 'example.test:0', 'example.test:70000', '/path', 'a b:1', 'http://x:1']) expect(parseAuthority(bad)).toBeNull();
  expect(parseAbsoluteTarget('ws://127.0.0.1:9/chat?x=1')).toMatchObject({ secure: false, host: '127.0.0.1', port: 9, path: '/chat?x=1', hostHeader: '127.0.0.1:9' });
  expect(parseAbsoluteTarget('https://[::1]/')).toMatchObject({ secure: true, host: '::1', port: 443, hostHeader: '[::1]' });
  for (const no of ['/json', 'ftp://x/', 'http://user:pw@x/', '*']) expect(parseAbsoluteTarget(no)).toBeNull();
  const head = parseHead(Buffer.from('GET http://h:8/p HTTP/1.1\r\nHost: h:8\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic eA==\r\nAccept: */*\r\n\r\n'))!;
  expect(rewriteHead(head, parseAbsoluteTarget(head.target)!, { path: '/p' }).toString()).toBe('GET /p HTTP/1.1\r\nHost: h:8\r\nAccept: */*\r\nConnection: close\r\n\r\n');
});
