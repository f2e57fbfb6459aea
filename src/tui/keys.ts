/**
 * THE key table of the terminal UI: every key, what it does and its help line, in one
 * place (like mitmproxy's defaultkeys.py). The help overlay (`?`) is generated from it,
 * so the two can never disagree. Keys are blessed key names (`up`, `S-tab`, `C-c`) or
 * the typed character (`G`, `?`, `/`).
 */

export type Action =
  | 'up'
  | 'down'
  | 'pageUp'
  | 'pageDown'
  | 'first'
  | 'last'
  | 'nextPane'
  | 'prevPane'
  | 'open'
  | 'back'
  | 'viewFields'
  | 'viewHex'
  | 'viewPayload'
  | 'viewHandshake'
  | 'viewViolations'
  | 'search'
  | 'searchNext'
  | 'searchPrev'
  | 'filter'
  | 'linked'
  | 'pause'
  | 'save'
  | 'help'
  | 'quit'
  | 'intercept'
  | 'edit'
  | 'forwardHeld'
  | 'dropHeld'
  | 'forwardAll'
  | 'inject'
  // The frame editor's (context 'editor').
  | 'edPrev'
  | 'edNext'
  | 'edToggle'
  | 'edSend'
  | 'edDrop'
  | 'edClose'
  | 'edBack'
  | 'edClear'
  | 'edErase';

export interface KeyBinding {
  keys: string[];
  /** How the keys are shown in the help overlay. */
  label: string;
  action: Action;
  help: string;
  /** At most 27 columns: the two-column help of small terminals. */
  short: string;
  /** Where the keys act: the main screen (default) or the frame editor (intercept). */
  context?: 'editor';
}

export const KEYS: readonly KeyBinding[] = [
  { keys: ['up', 'k'], label: '↑ k', action: 'up', help: 'move up (in the frames list: stop following)', short: 'up (frames: stop following)' },
  { keys: ['down', 'j'], label: '↓ j', action: 'down', help: 'move down (onto the newest frame: follow again)', short: 'down (at the end: follow)' },
  { keys: ['pageup', 'C-b'], label: 'PgUp C-b', action: 'pageUp', help: 'page up', short: 'page up' },
  { keys: ['pagedown', 'C-f', 'space'], label: 'PgDn C-f', action: 'pageDown', help: 'page down', short: 'page down' },
  { keys: ['home', 'g'], label: 'Home g', action: 'first', help: 'first row', short: 'first row' },
  { keys: ['end', 'G'], label: 'End G', action: 'last', help: 'last row, and follow new frames live', short: 'last row, follow live' },
  { keys: ['tab'], label: 'Tab', action: 'nextPane', help: 'next pane: connections → frames → detail', short: 'next pane' },
  { keys: ['S-tab'], label: 'S-Tab', action: 'prevPane', help: 'previous pane', short: 'previous pane' },
  { keys: ['enter'], label: 'Enter', action: 'open', help: "open: a connection's frames, a frame's detail full screen", short: 'open frames / detail' },
  { keys: ['escape', 'backspace'], label: 'Esc', action: 'back', help: 'back: close the full-screen detail, the help, a prompt', short: 'back: close detail, prompt' },
  { keys: ['1'], label: '1', action: 'viewFields', help: 'detail: Fields (the §5.2 diagram with real bits, field table, XOR unmasking)', short: 'Fields: bits, table, XOR' },
  { keys: ['2'], label: '2', action: 'viewHex', help: 'detail: Hex dump coloured by field', short: 'Hex dump coloured by field' },
  { keys: ['3'], label: '3', action: 'viewPayload', help: 'detail: Payload (text, JSON, hex; reassembled and inflated messages)', short: 'Payload: text/JSON/message' },
  { keys: ['4'], label: '4', action: 'viewHandshake', help: 'detail: Handshake (request, response, accept key step by step)', short: 'Handshake, accept key steps' },
  { keys: ['5'], label: '5', action: 'viewViolations', help: 'detail: Violations (rule id, RFC section and sentence)', short: 'Violations: rule, RFC text' },
  { keys: ['/'], label: '/', action: 'search', help: 'search payloads (text or hex) of this connection', short: 'search payloads (text, hex)' },
  { keys: ['n'], label: 'n', action: 'searchNext', help: 'next search match', short: 'next match' },
  { keys: ['N'], label: 'N', action: 'searchPrev', help: 'previous search match', short: 'previous match' },
  { keys: ['f'], label: 'f', action: 'filter', help: 'filter: client server text binary close ping pong cont data control 0x3 ! (violations); app stomp event:chat topic:t/1 type:SEND id:1', short: 'filter (client text ! ...)' },
  { keys: ['a'], label: 'a', action: 'linked', help: 'go to the linked request or answer (Socket.IO ack, JSON-RPC id, GraphQL operation)', short: 'go to linked request/answer' },
  { keys: ['p'], label: 'p', action: 'pause', help: 'pause / resume following new frames', short: 'pause / resume following' },
  { keys: ['s'], label: 's', action: 'save', help: 'save the session as a capture file (wsscope replay FILE opens it)', short: 'save session as capture' },
  { keys: ['i'], label: 'i', action: 'intercept', help: 'intercept filter (the words of f): matching frames are held before they go on', short: 'intercept: hold matching' },
  { keys: ['e'], label: 'e', action: 'edit', help: 'edit the oldest held frame (of this connection) in the frame editor', short: 'edit the oldest held frame' },
  { keys: ['F'], label: 'F', action: 'forwardHeld', help: 'forward the oldest held frame unchanged', short: 'forward oldest held' },
  { keys: ['X'], label: 'X', action: 'dropHeld', help: 'drop the oldest held frame', short: 'drop oldest held' },
  { keys: ['A'], label: 'A', action: 'forwardAll', help: 'forward every held frame unchanged', short: 'forward all held' },
  { keys: ['I'], label: 'I', action: 'inject', help: 'inject a new frame into this connection (the frame editor)', short: 'inject a new frame' },
  { keys: ['?', 'h'], label: '? h', action: 'help', help: 'this help', short: 'this help' },
  { keys: ['q', 'C-c'], label: 'q C-c', action: 'quit', help: 'quit (the terminal is restored)', short: 'quit, terminal restored' },
  { keys: ['up', 'S-tab'], label: '↑ S-Tab', action: 'edPrev', help: 'editor: previous field', short: 'editor: prev field', context: 'editor' },
  { keys: ['down', 'tab'], label: '↓ Tab', action: 'edNext', help: 'editor: next field', short: 'editor: next field', context: 'editor' },
  { keys: ['space', 'left', 'right'], label: 'Space ←→', action: 'edToggle', help: 'editor: flip a bit, cycle a choice (typing edits a text field)', short: 'editor: flip, cycle', context: 'editor' },
  { keys: ['enter'], label: 'Enter', action: 'edSend', help: 'editor: send the frame as shown (a held one unchanged if untouched)', short: 'editor: send', context: 'editor' },
  { keys: ['C-d'], label: 'C-d', action: 'edDrop', help: 'editor: drop the held frame', short: 'editor: drop', context: 'editor' },
  { keys: ['C-x'], label: 'C-x', action: 'edClose', help: 'editor: close both sides with the close code field', short: 'editor: close with code', context: 'editor' },
  { keys: ['C-u'], label: 'C-u', action: 'edClear', help: 'editor: clear the text field', short: 'editor: clear', context: 'editor' },
  { keys: ['backspace'], label: 'Bksp', action: 'edErase', help: 'editor: delete the last character', short: 'editor: delete', context: 'editor' },
  { keys: ['escape'], label: 'Esc', action: 'edBack', help: 'editor: leave it (a held frame stays held)', short: 'editor: leave', context: 'editor' },
];

/** What blessed passes to a keypress handler. */
export interface KeyPress {
  full?: string;
  name?: string;
}

const BY_KEY = new Map<string, Action>();
const BY_EDITOR_KEY = new Map<string, Action>();
for (const binding of KEYS) for (const key of binding.keys) (binding.context === 'editor' ? BY_EDITOR_KEY : BY_KEY).set(key, binding.action);

/**
 * The action of a key press: by blessed's full key name first (`C-c`, `S-tab`, `up`),
 * then by the typed character (`G` arrives as full name `S-g` with ch `G`).
 */
export function actionFor(ch: string | undefined, key: KeyPress, context?: 'editor'): Action | undefined {
  const table = context === 'editor' ? BY_EDITOR_KEY : BY_KEY;
  // In the editor a typed character is text: only named keys (enter, C-d, ...) are actions.
  if (context === 'editor') return key.full !== undefined && (key.full.length > 1 || key.full === ' ') ? table.get(key.full) : undefined;
  return (key.full !== undefined ? table.get(key.full) : undefined) ?? (ch !== undefined ? table.get(ch) : undefined);
}
