/**
 * The one table of application-protocol modules (DESIGN.md, "Application protocols inside
 * messages"). Detection asks them in this order, so put a module whose evidence is
 * stricter or more specific before one it could be mistaken for.
 *
 * How to add a protocol:
 * 1. Add its name to ProtocolName in types.ts (DESIGN.md lists the names; add, don't rename).
 * 2. Write `src/protocols/NAME.ts` exporting a ProtocolModule (read types.ts: detection,
 *    AppResult, field conventions `event`/`topic`/`id`/`pair`, violations prefixed with
 *    the protocol name, bounded memory). Helpers: json.ts (strict JSON parsing, short
 *    JSON previews for summaries), packets.ts (per-direction reassembly of packet
 *    protocols, several packets per message).
 * 3. Import it here and put it in MODULES. Only real modules: nothing that claims a
 *    protocol it cannot decode.
 * 4. Test it like test/protocols/*.test.ts (exact fields against known bytes, detection,
 *    every split across messages, the shared fuzz test picks it up from MODULES), add a
 *    sample under samples/ (samples/README.md), and a line in README and docs/design.md.
 */
import { actionCable } from './actioncable';
import { cborModule, msgpackModule } from './binary';
import { engineIo, socketIo } from './engineio';
import { graphqlTransportWs, graphqlWs } from './graphql';
import { jsonRpc } from './jsonrpc';
import { mqtt } from './mqtt';
import { signalr } from './signalr';
import { sockJs } from './sockjs';
import { stomp } from './stomp';
import { wamp } from './wamp';
import type { ProtocolModule, ProtocolName } from './types';

// WAMP before the generic MessagePack/CBOR modules (wamp.2.msgpack names both); those two
// last: they are claimed only by subprotocol, never sniffed.
export const MODULES: readonly ProtocolModule[] = [sockJs, socketIo, engineIo, stomp, mqtt, wamp, signalr, graphqlTransportWs, graphqlWs, actionCable, jsonRpc, msgpackModule, cborModule];

/** The module of that name, or undefined when none is registered. */
export function moduleNamed(name: string): ProtocolModule | undefined {
  return MODULES.find((m) => m.name === name);
}

/** The names `--protocol` accepts. */
export function protocolNames(): string[] {
  return MODULES.map((m) => m.name);
}
