/**
 * One upgraded connection: the seed's read loop
 *
 *     for {
 *         messageType, p, err := ws.ReadMessage()
 *         if err != nil { break }
 *         if messageType == websocket.TextMessage { ws.WriteJSON(User{...}) }
 *     }
 *
 * on top of GorillaReader (what ReadMessage does) and the frame writer (what WriteJSON and
 * gorilla's control handlers write).
 */
import type { Socket } from 'net';
import { OP_PONG, OP_CLOSE, OP_TEXT, controlFrame, deflateMessage, formatCloseMessage, gorillaMessageFrames } from './frames';
import { encodeUserReply, GoJsonEra } from './gojson';
import { GorillaReader } from './reader';

export interface ConnectionOptions {
  maxMessageSize: number;
  deflate: boolean;
  era?: GoJsonEra;
  log?: (line: string) => void;
}

/** Pause reading while this many bytes wait to be written (Go's writes block instead). */
const HIGH_WATER = 1 << 20;
/** After our close frame: how long the client gets to close the TCP connection itself. */
const CLOSE_LINGER_MS = 5000;

export function serveConnection(socket: Socket, head: Buffer, options: ConnectionOptions): void {
  const reader = new GorillaReader({ maxMessageSize: options.maxMessageSize, deflate: options.deflate });
  let closing = false;

  const write = (bytes: Buffer): void => {
    if (!socket.destroyed && socket.writable) socket.write(bytes);
  };

  // The seed's handler returns after the loop without calling ws.Close(); Go closes the
  // socket only when the garbage collector finalizes it. We end our side right away
  // (RFC 6455 §7.1.1: the server should close the TCP connection first) and destroy it if
  // the client does not close its side in time.
  const endConnection = (): void => {
    if (closing) return;
    closing = true;
    socket.end();
    const timer = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };

  const onData = (chunk: Buffer): void => {
    for (const action of reader.push(chunk)) {
      switch (action.kind) {
        case 'message':
          if (action.opcode === OP_TEXT) {
            // WriteJSON: NextWriter(TextMessage) [+ flate writer], Encode, Close.
            const json = encodeUserReply(action.payload, options.era);
            const frames = options.deflate
              ? gorillaMessageFrames(OP_TEXT, deflateMessage(json), { compressed: true })
              : gorillaMessageFrames(OP_TEXT, json);
            for (const frame of frames) write(frame);
          }
          // Binary messages: the seed ignores them.
          break;
        case 'ping':
          // Default ping handler: WriteControl(PongMessage, []byte(message), ...).
          write(controlFrame(OP_PONG, action.payload));
          break;
        case 'pong':
          break; // default pong handler: nothing
        case 'close':
          // Default close handler: WriteControl(CloseMessage, FormatCloseMessage(code, "")).
          write(controlFrame(OP_CLOSE, formatCloseMessage(action.code)));
          endConnection();
          break;
        case 'fail':
          options.log?.(`read loop ended: ${action.error}`);
          if (action.closeCode !== null) {
            write(controlFrame(OP_CLOSE, formatCloseMessage(action.closeCode, action.closeReason)));
          }
          endConnection(); // replies already written still go out first
          break;
      }
    }
    // Backpressure: gorilla's writes block the read loop; here we stop reading instead.
    if (!reader.done && socket.writableLength > HIGH_WATER && !socket.isPaused()) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  };

  socket.setNoDelay(true); // Go's net package turns Nagle off on every TCP connection
  socket.on('error', () => socket.destroy()); // a reset client must not take the server down
  socket.on('data', onData);
  // The client closed its side (mid-frame or not): ReadMessage fails, the loop ends.
  socket.on('end', endConnection);
  if (head.length > 0) onData(head);
}
