// Hooks for docs/lesson.md, "Break it live": the first word of each text the client sends
// picks an edit, made by the proxy on the frame's way to the server.
//   wsscope proxy --target ws://127.0.0.1:8080/json --script samples/hooks/break-it.js
// Any other frame goes on unchanged, byte for byte.

/** @type {Record<string, (frame: import('wsscope').HookFrame) => import('wsscope').HookFrameSpec>} */
const edits = {
  // 1. Rewrite the text: the server answers for a name the client never sent.
  rename: () => ({ opcode: 'text', payload: 'Mallory' }),
  // 2. Set RSV1 although no extension was negotiated (RFC 6455 §5.2: MUST fail the connection).
  rsv1: (frame) => ({ opcode: 'text', rsv1: true, payload: frame.payloadBytes }),
  // 3. Send a client frame unmasked (RFC 6455 §5.1: the server MUST close the connection).
  unmask: (frame) => ({ opcode: 'text', mask: false, payload: frame.payloadBytes }),
};

/** @type {import('wsscope').FrameHook} */
exports.onFrame = (frame) => {
  if (frame.dir !== 'client' || frame.opcode !== 1) return undefined;
  const edit = edits[frame.payloadBytes.toString('utf8').split(' ')[0]];
  return edit ? edit(frame) : undefined;
};
