/**
 * The UI's state and behaviour without a terminal: which pane has the focus, what is
 * selected, following or paused, the detail view, filter, search, prompts; `key()` runs
 * the key table's actions and `screen()` lays out what each pane shows for a given size.
 * app.ts only hands keys in and draws what comes out, so tests drive this class directly.
 */
import type { SessionInfo } from '../session';
import { reachableAddress } from '../address';
import { actionFor, KEYS, type Action, type KeyPress } from './keys';
import { describeFilter, frameViolations, parseFilter, type ConnRecord, type FrameFilter, type FrameList, type FrameRecord, type Store } from './store';
import { bytes, doc, fit, padLine, seg, thousands, width, type Doc, type Line, type Seg } from './text';
import { appSummary } from '../explain/app';
import { connectionRow, connectionsHeader, DETAIL_VIEWS, detailDoc, frameRow, framesHeader, type DetailView } from './views';
import { FrameEditor, type EditorResult } from './editor';
import type { HeldFrame, HoldQueue } from './hold';
import { summarizeFrame } from '../explain';

export type Pane = 'conns' | 'frames' | 'detail';
const PANES: Pane[] = ['conns', 'frames', 'detail'];

export interface Prompt {
  kind: 'search' | 'filter' | 'save' | 'intercept';
  text: string;
}

export type Effect = { kind: 'quit' } | { kind: 'save'; path: string };

export interface PaneOut {
  title: Line;
  lines: Line[];
  focused: boolean;
  /** Outer height in rows, border included; 0 when hidden. */
  height: number;
}

export interface ScreenOut {
  conns: PaneOut;
  frames: PaneOut;
  detail: PaneOut;
  /** The status bar, then the message/prompt line. */
  status: Line;
  message: Line;
  /** The help overlay's lines, when open. */
  help: Line[] | null;
  /** Where the cursor goes when a prompt is open (column on the message line). */
  promptCursor: number | null;
}

export interface ModelOptions {
  info?: () => SessionInfo;
  defaultCapturePath?: string;
  now?: () => number;
  /** Intercepting (a live proxy): held frames, and the connections' stages to inject into. */
  hold?: HoldQueue;
}

const FLASH_MS = 6000;

export class TuiModel {
  focus: Pane = 'frames';
  view: DetailView = 'fields';
  zoom = false;
  help = false;
  prompt: Prompt | null = null;
  /** The frames list follows the newest frame (live) unless the user moved away or paused. */
  follow = true;
  /** The connections list selects the newest WebSocket connection until the user picks one. */
  connFollow = true;
  selectedConn: number | null = null;
  /** The selected frame's sequence number, when not following. */
  selectedN: number | null = null;
  filter: FrameFilter | null = null;
  search: string | null = null;
  rates = { frames: 0, bytes: 0 };
  /** The frame editor, while open (it takes the keys and the detail pane, full screen). */
  editor: FrameEditor | null = null;

  private framesTopN: number | null = null;
  private connsTop = 0;
  private detailTop = 0;
  private flash: { text: string; error: boolean; until: number } | null = null;
  private seenErrors = 0;
  private seenIntercepts = 0;
  private lastTick: { at: number; frames: number; bytes: number } | null = null;
  /** Page sizes from the last layout (keys move by what the user sees). */
  private framesRows = 10;
  private detailRows = 10;
  private connsRows = 3;
  private detailCache: { key: string; doc: Doc } | null = null;
  private readonly now: () => number;

  constructor(
    readonly store: Store,
    private readonly options: ModelOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  // -----------------------------------------------------------------------------------
  // Selection

  /** The connection whose frames are shown. */
  conn(): ConnRecord | undefined {
    const conns = this.store.conns;
    // Paused (or a connection picked by hand): stay where the user is.
    if ((!this.connFollow || !this.follow) && this.selectedConn !== null) {
      const picked = conns.get(this.selectedConn);
      if (picked) return picked;
    }
    // Following: the newest WebSocket connection; an HTTP pass-through one (the demo page,
    // a favicon) only when there is nothing else.
    let newest: ConnRecord | undefined;
    let newestWs: ConnRecord | undefined;
    for (const c of conns.values()) {
      newest = c;
      if (!c.passThrough) newestWs = c;
    }
    const chosen = newestWs ?? newest;
    if (chosen) this.selectConn(chosen.id, true);
    return chosen;
  }

  private selectConn(id: number, keepFollow: boolean): void {
    if (this.selectedConn === id) return;
    this.selectedConn = id;
    this.connFollow = keepFollow;
    this.follow = true;
    this.selectedN = null;
    this.framesTopN = null;
    this.detailTop = 0;
  }

  frames(): FrameList | null {
    const c = this.conn();
    return c ? this.store.frames(c, this.filter) : null;
  }

  /** The selected frame's index in `list`, or -1 when the list is empty. */
  private selectedIndex(list: FrameList): number {
    if (list.length === 0) return -1;
    if (this.follow || this.selectedN === null) return list.length - 1;
    const i = list.indexOfN(this.selectedN);
    return i < 0 ? list.length - 1 : i;
  }

  selectedFrame(): FrameRecord | undefined {
    const list = this.frames();
    if (!list) return undefined;
    const i = this.selectedIndex(list);
    return i < 0 ? undefined : list.at(i);
  }

  private selectIndex(list: FrameList, i: number): void {
    if (list.length === 0) return;
    const clamped = Math.max(0, Math.min(list.length - 1, i));
    this.selectedN = list.at(clamped).n;
    this.follow = false;
    this.detailTop = 0;
  }

  // -----------------------------------------------------------------------------------
  // Keys

  /** Handles one key press; returns what the app must do (quit, save), if anything. */
  key(ch: string | undefined, key: KeyPress): Effect | null {
    if (key.full === 'C-c') return { kind: 'quit' };
    if (this.prompt) return this.promptKey(ch, key);
    if (this.editor) return this.editorDone(this.editor.key(ch, key));
    const action = actionFor(ch, key);
    if (this.help) {
      if (action === 'quit') return { kind: 'quit' };
      this.help = false;
      return null;
    }
    return action ? this.run(action) : null;
  }

  private run(action: Action): Effect | null {
    switch (action) {
      case 'quit':
        return { kind: 'quit' };
      case 'help':
        this.help = true;
        return null;
      case 'up':
        this.move(-1);
        return null;
      case 'down':
        this.move(1);
        return null;
      case 'pageUp':
        this.move(-this.pageSize());
        return null;
      case 'pageDown':
        this.move(this.pageSize());
        return null;
      case 'first':
        this.move(-Infinity);
        return null;
      case 'last':
        this.move(Infinity);
        return null;
      case 'nextPane':
      case 'prevPane': {
        const i = PANES.indexOf(this.focus);
        this.focus = PANES[(i + (action === 'nextPane' ? 1 : PANES.length - 1)) % PANES.length];
        if (this.focus !== 'detail') this.zoom = false;
        return null;
      }
      case 'open':
        if (this.focus === 'conns') this.focus = 'frames';
        else if (this.focus === 'frames') {
          this.focus = 'detail';
          this.zoom = true;
        } else this.zoom = !this.zoom;
        return null;
      case 'back':
        if (this.zoom) {
          this.zoom = false;
          this.focus = 'frames';
        } else if (this.focus === 'detail') this.focus = 'frames';
        else if (this.focus === 'frames') this.focus = 'conns';
        return null;
      case 'viewFields':
      case 'viewHex':
      case 'viewPayload':
      case 'viewHandshake':
      case 'viewViolations':
        this.view = ({ viewFields: 'fields', viewHex: 'hex', viewPayload: 'payload', viewHandshake: 'handshake', viewViolations: 'violations' } as const)[action];
        this.detailTop = 0;
        return null;
      case 'search':
        this.prompt = { kind: 'search', text: this.search ?? '' };
        return null;
      case 'searchNext':
      case 'searchPrev':
        if (this.search) this.find(this.search, action === 'searchNext' ? 1 : -1);
        else this.say('no search yet: press / to search', true);
        return null;
      case 'filter':
        // The current filter, then a space: typed words add to it (C-u clears it).
        this.prompt = { kind: 'filter', text: this.filter ? `${describeFilter(this.filter)} ` : '' };
        return null;
      case 'linked':
        this.goLinked();
        return null;
      case 'pause':
        if (this.follow) {
          const f = this.selectedFrame();
          this.follow = false;
          this.selectedN = f ? f.n : null;
        } else {
          this.follow = true;
          this.selectedN = null;
        }
        return null;
      case 'save':
        this.prompt = { kind: 'save', text: this.options.defaultCapturePath ?? defaultCaptureName(this.now()) };
        return null;
      case 'intercept':
        if (!this.options.hold) this.say('intercepting works on a live proxy, not on a replay', true);
        else this.prompt = { kind: 'intercept', text: this.options.hold.filter ? `${this.options.hold.describe()} ` : '' };
        return null;
      case 'edit':
      case 'forwardHeld':
      case 'dropHeld': {
        const held = this.oldestHeld();
        if (!held) {
          this.say(this.options.hold ? `nothing is held${this.options.hold.filter ? '' : ': press i to set an intercept filter'}` : 'intercepting works on a live proxy', true);
          return null;
        }
        const hold = this.options.hold!;
        if (action === 'forwardHeld') this.say(hold.forward(held.id) ? `forwarded held frame ${held.id} unchanged` : 'it was gone already', false);
        else if (action === 'dropHeld') this.say(hold.drop(held.id) ? `dropped held frame ${held.id}` : 'it was gone already', false);
        else this.openEditor(new FrameEditor(held.conn, held.id, held.frame, held.dir, this.store.conns.get(held.conn)?.handshake?.extensions ?? undefined));
        return null;
      }
      case 'forwardAll': {
        const n = this.options.hold?.forwardAll() ?? 0;
        this.say(n ? `forwarded ${n} held frame${n === 1 ? '' : 's'} unchanged` : 'nothing is held', n === 0);
        return null;
      }
      case 'inject': {
        const c = this.conn();
        if (!this.options.hold || !c || !this.options.hold.stage(c.id) || c.state === 'closed') {
          this.say(this.options.hold ? 'no open WebSocket connection selected to inject into' : 'injecting works on a live proxy', true);
          return null;
        }
        this.openEditor(new FrameEditor(c.id, null, null, 'client', c.handshake?.extensions ?? undefined));
        return null;
      }
      case 'edPrev':
      case 'edNext':
      case 'edToggle':
      case 'edSend':
      case 'edDrop':
      case 'edClose':
      case 'edBack':
      case 'edClear':
      case 'edErase':
        return null; // the editor's own keys (handled while it is open)
    }
  }

  /** The oldest held frame: of the selected connection first, else of any. */
  private oldestHeld(): HeldFrame | undefined {
    const hold = this.options.hold;
    if (!hold) return undefined;
    const c = this.conn();
    return (c ? hold.held(c.id)[0] : undefined) ?? hold.held()[0];
  }

  private openEditor(editor: FrameEditor): void {
    this.editor = editor;
    this.focus = 'detail';
    this.zoom = true;
  }

  private closeEditor(): void {
    this.editor = null;
    this.zoom = false;
    this.focus = 'frames';
  }

  /** Carries out what the editor asked for. */
  private editorDone(result: EditorResult | null): Effect | null {
    const editor = this.editor!;
    const hold = this.options.hold;
    if (!result || !hold) return null;
    const id = editor.heldId;
    switch (result.kind) {
      case 'back':
        this.closeEditor();
        if (id !== null) this.say(`held frame ${id} stays held: e edits it, F forwards, X drops, A forwards all`, false);
        return null;
      case 'error':
        this.say(result.message, true);
        return null;
      case 'drop':
        this.closeEditor();
        this.say(hold.drop(id!) ? `dropped held frame ${id}` : `held frame ${id} is gone (its connection ended)`, false);
        return null;
      case 'close': {
        const stage = hold.stage(editor.conn);
        this.closeEditor();
        if (!stage) {
          this.say(`conn ${editor.conn} has ended`, true);
          return null;
        }
        stage.close(result.code, '', 'tui');
        if (id !== null) hold.drop(id);
        this.say(`closed conn ${editor.conn} with ${result.code}: a close frame to each side`, false);
        return null;
      }
      case 'send': {
        if (id !== null) {
          const ok = result.spec ? hold.replace(id, [result.spec]) : hold.forward(id);
          this.closeEditor();
          this.say(ok ? (result.spec ? `sent the edited frame instead of held frame ${id}` : `forwarded held frame ${id} unchanged`) : `held frame ${id} is gone (its connection ended)`, !ok);
          return null;
        }
        const stage = hold.stage(editor.conn);
        this.closeEditor();
        if (!stage) this.say(`conn ${editor.conn} has ended: nothing injected`, true);
        else {
          stage.inject(editor.values.dir, result.spec!, 'tui');
          this.say(`injected a frame as if from the ${editor.values.dir} of conn ${editor.conn}`, false);
        }
        return null;
      }
    }
  }

  private pageSize(): number {
    return Math.max(1, this.focus === 'detail' ? this.detailRows - 1 : this.focus === 'conns' ? this.connsRows : this.framesRows - 1);
  }

  private move(delta: number): void {
    if (this.focus === 'detail') {
      if (delta === -Infinity) this.detailTop = 0;
      else if (delta === Infinity) this.detailTop = Number.MAX_SAFE_INTEGER;
      else this.detailTop = Math.max(0, this.detailTop + delta);
      return; // clamped in screen()
    }
    if (this.focus === 'conns') {
      const conns = this.store.connections();
      if (conns.length === 0) return;
      const current = this.conn();
      const i = current ? conns.indexOf(current) : conns.length - 1;
      const next = delta === Infinity ? conns.length - 1 : delta === -Infinity ? 0 : Math.max(0, Math.min(conns.length - 1, i + delta));
      this.selectConn(conns[next].id, false);
      // End (or moving onto the newest) resumes following new connections.
      this.connFollow = delta === Infinity;
      return;
    }
    const list = this.frames();
    if (!list || list.length === 0) return;
    if (delta === Infinity) {
      this.follow = true;
      this.selectedN = null;
      this.detailTop = 0;
      return;
    }
    const i = this.selectedIndex(list);
    const target = delta === -Infinity ? 0 : i + delta;
    if (target >= list.length - 1 && delta > 0) {
      // Moving down onto the newest frame resumes following (live).
      this.follow = true;
      this.selectedN = null;
      this.detailTop = 0;
      return;
    }
    this.selectIndex(list, target);
  }

  private promptKey(ch: string | undefined, key: KeyPress): Effect | null {
    const prompt = this.prompt!;
    switch (key.full) {
      case 'escape':
        this.prompt = null;
        return null;
      case 'enter':
        this.prompt = null;
        return this.submit(prompt);
      case 'backspace':
        prompt.text = prompt.text.slice(0, -1);
        return null;
      case 'C-u':
        prompt.text = '';
        return null;
    }
    // Printable characters only: a pasted escape sequence must not end up in a file name.
    if (ch !== undefined && ch.length === 1 && ch >= ' ' && ch !== '\x7f' && prompt.text.length < 1000) prompt.text += ch;
    return null;
  }

  private submit(prompt: Prompt): Effect | null {
    const text = prompt.text.trim();
    if (prompt.kind === 'save') {
      if (!text) return null;
      return { kind: 'save', path: text };
    }
    if (prompt.kind === 'filter') {
      const parsed = parseFilter(text);
      if ('error' in parsed) {
        this.say(parsed.error, true);
        return null;
      }
      this.filter = describeFilter(parsed) ? parsed : null;
      this.say(this.filter ? `filter: ${describeFilter(parsed)}` : 'filter cleared', false);
      this.framesTopN = null;
      // The row shown selected in the new list becomes the selection: a row the filter hides
      // must not come back selected when the filter is cleared.
      const list = this.frames();
      if (!this.follow && list && list.length) this.selectIndex(list, this.selectedIndex(list));
      return null;
    }
    if (prompt.kind === 'intercept') {
      const parsed = parseFilter(text);
      if ('error' in parsed) {
        this.say(parsed.error, true);
        return null;
      }
      this.options.hold?.setFilter(parsed);
      const words = this.options.hold?.describe();
      this.say(words ? `intercepting: ${words} frames are held (e edit, F forward, X drop, A forward all)` : 'intercepting off (held frames stay held: A forwards them)', false);
      return null;
    }
    this.search = text || null;
    if (this.search) this.find(this.search, 1);
    return null;
  }

  /** Selects the message the selected one answers, or else the one that answered it (app.replyTo / app.answeredBy). */
  goLinked(): boolean {
    const list = this.frames();
    const r = list && list.length ? list.at(this.selectedIndex(list)) : undefined;
    const app = r?.group?.message?.app;
    const packets = app ? (Array.isArray(app) ? app : [app]) : [];
    const ref = packets.map((p) => (p.replyTo ?? p.answeredBy) as { dir: string; message: number } | undefined).find((x) => x);
    if (!list || !ref) {
      this.say('this message is not linked to a request or an answer', true);
      return false;
    }
    for (let i = 0; i < list.length; i++) {
      const f = list.at(i);
      if (f.ev.dir === ref.dir && f.messageIndex === ref.message) {
        this.selectIndex(list, i);
        this.say(`${ref.dir} message ${ref.message}`, false);
        return true;
      }
    }
    this.say(`${ref.dir} message ${ref.message} is not in this list (dropped or filtered out)`, true);
    return false;
  }

  /** Selects the next (dir 1) or previous (-1) frame whose payload contains `query`. */
  find(query: string, dir: 1 | -1): boolean {
    const list = this.frames();
    if (!list || list.length === 0) {
      this.say(`no frames to search`, true);
      return false;
    }
    const needle = query.toLowerCase();
    const hexNeedle = needle.replace(/\s+/g, '');
    const start = this.selectedIndex(list);
    for (let step = 1; step <= list.length; step++) {
      const i = (((start + dir * step) % list.length) + list.length) % list.length;
      if (matchesSearch(list.at(i), needle, hexNeedle)) {
        this.selectIndex(list, i);
        this.say(`"${query}": frame ${i + 1} of ${list.length}${step > list.length - start - 1 && dir === 1 ? ' (wrapped)' : ''}`, false);
        return true;
      }
    }
    this.say(`no frame of this connection contains "${query}"`, true);
    return false;
  }

  /** A one-line message on the message line for a few seconds. */
  say(text: string, error = false): void {
    this.flash = { text, error, until: this.now() + FLASH_MS };
  }

  /** Called about once a second: frames and bytes per second from the store's counters. */
  tick(): void {
    const now = this.now();
    const last = this.lastTick;
    // Live, the bytes relayed; a replay relays no chunks, so the wire bytes of its frames.
    const bytes = this.replaying() ? this.store.totalFrameBytes : this.store.totalBytes;
    if (last && now > last.at) {
      const secs = (now - last.at) / 1000;
      this.rates = { frames: (this.store.totalFrames - last.frames) / secs, bytes: (bytes - last.bytes) / secs };
    }
    this.lastTick = { at: now, frames: this.store.totalFrames, bytes };
  }

  private replaying(): boolean {
    return Boolean(this.options.info?.().replay);
  }

  /** Following the newest frame: LIVE on a proxy, REPLAY on a capture being replayed; else PAUSED. */
  private followSeg(pad: string): Seg {
    if (!this.follow) return seg(`${pad}PAUSED `, 'yellow', { bold: true });
    return this.replaying() ? seg(`${pad}REPLAY `, 'cyan', { bold: true }) : seg(`${pad}LIVE `, 'green', { bold: true });
  }

  // -----------------------------------------------------------------------------------
  // Layout

  /** Pane heights (borders included) for a terminal of `rows` rows. */
  layout(rows: number): { conns: number; frames: number; detail: number } {
    const avail = Math.max(6, rows - 2); // status bar + message line
    if (this.zoom) return { conns: 0, frames: 0, detail: avail };
    const wanted = this.store.conns.size + 3; // border, header, rows
    const conns = Math.max(4, Math.min(wanted, Math.round(avail * 0.22), 12));
    const frames = Math.max(5, Math.round((avail - conns) * 0.45));
    return { conns, frames, detail: Math.max(3, avail - conns - frames) };
  }

  screen(cols: number, rows: number): ScreenOut {
    const inner = Math.max(10, cols - 2);
    const sizes = this.layout(rows);
    const conn = this.conn();
    this.connsRows = Math.max(1, sizes.conns - 3);
    this.framesRows = Math.max(1, sizes.frames - 3);
    this.detailRows = Math.max(1, sizes.detail - 2);

    // Connections
    const connLines: Line[] = [];
    if (sizes.conns > 0) {
      const conns = this.store.connections();
      const sel = conn ? conns.indexOf(conn) : -1;
      if (sel >= 0 && sel < this.connsTop) this.connsTop = sel;
      if (sel >= this.connsTop + this.connsRows) this.connsTop = sel - this.connsRows + 1;
      this.connsTop = Math.max(0, Math.min(this.connsTop, conns.length - this.connsRows));
      connLines.push(connectionsHeader(inner));
      for (const c of conns.slice(this.connsTop, this.connsTop + this.connsRows)) {
        const selected = c === conn;
        connLines.push(selected ? padLine(connectionRow(c, true, inner), inner, { inverse: true }) : connectionRow(c, false, inner));
      }
      if (conns.length === 0) connLines.push([seg(this.waitingText())]);
    }
    const dropped = this.store.droppedConnections ? `, ${thousands(this.store.droppedConnections)} old dropped` : '';
    const connsTitle: Line = [seg(` Connections (${this.store.conns.size}${dropped}) `)];

    // Frames: only the visible window is turned into lines.
    const list = conn ? this.store.frames(conn, this.filter) : null;
    const frameLines: Line[] = [];
    let selected: FrameRecord | undefined;
    let position = '';
    if (list) {
      const n = list.length;
      const sel = this.selectedIndex(list);
      selected = sel >= 0 ? list.at(sel) : undefined;
      let top = this.framesTopN === null ? 0 : Math.max(0, list.indexOfN(this.framesTopN));
      if (this.framesTopN !== null && list.indexOfN(this.framesTopN) < 0) top = n;
      const heldHere = conn && this.options.hold ? this.options.hold.held(conn.id) : [];
      const heldRows = Math.min(heldHere.length, Math.max(0, this.framesRows - 2), 3);
      const visible = this.framesRows - heldRows;
      if (this.follow) top = n - visible;
      if (sel < top) top = sel;
      if (sel >= top + visible) top = sel - visible + 1;
      top = Math.max(0, Math.min(top, n - visible));
      this.framesTopN = n > 0 ? list.at(top).n : null;
      if (sizes.frames > 0) {
        frameLines.push(framesHeader());
        for (let i = top; i < Math.min(n, top + visible); i++) {
          const r = list.at(i);
          frameLines.push(i === sel ? padLine(frameRow(r, true), inner, { inverse: true }) : frameRow(r, false));
        }
        for (const h of heldHere.slice(0, heldRows)) frameLines.push(heldRow(h, heldHere.length > heldRows && h === heldHere[heldRows - 1] ? heldHere.length - heldRows : 0));
        if (n === 0 && heldRows === 0) {
          const why = this.filter ? 'no frame matches the filter'
            : conn!.passThrough ? 'no frames: an HTTP exchange without a WebSocket upgrade (4 shows it)'
            : conn!.state === 'closed' ? 'no frames' : 'no frames yet';
          frameLines.push([seg(`  ${why}`)]);
        }
      }
      position = n > 0 ? `${thousands(sel + 1)}/${thousands(n)}` : '0/0';
    }
    const framesTitle: Line = [
      seg(` ${conn?.messagesOnly ? 'Messages' : 'Frames'}${conn ? ` of conn ${conn.id}` : ''}${position ? ` ${position}` : ''} `),
      ...(this.filter ? [seg(`[filter: ${describeFilter(this.filter)}] `, 'yellow')] : []),
      this.followSeg(''),
    ];

    // Detail: cached lines, sliced to the visible window (the editor's while it is open).
    const all = this.editor ? doc(this.editor.lines()) : this.detail(selected, conn, inner);
    this.detailTop = Math.max(0, Math.min(this.detailTop, all.length - this.detailRows));
    const detailLines: Line[] = [];
    for (let i = this.detailTop; i < Math.min(all.length, this.detailTop + this.detailRows); i++) detailLines.push(all.line(i));
    const detailTitle: Line = [seg(' ')];
    for (const v of DETAIL_VIEWS) {
      const on = v.view === this.view;
      detailTitle.push(seg(`${v.key} ${v.title}`, on ? 'yellow' : undefined, { bold: on, inverse: on }), seg(' '));
    }
    if (selected && frameViolations(selected).length) detailTitle.push(seg('! ', 'red', { bold: true }));
    if (all.length > this.detailRows) detailTitle.push(seg(`${this.detailTop + 1}-${this.detailTop + detailLines.length}/${all.length} `));

    return {
      conns: { title: connsTitle, lines: connLines, focused: this.focus === 'conns', height: sizes.conns },
      frames: { title: framesTitle, lines: frameLines, focused: this.focus === 'frames', height: sizes.frames },
      detail: { title: detailTitle, lines: detailLines, focused: this.focus === 'detail', height: sizes.detail },
      status: this.statusLine(),
      message: this.messageLine(cols),
      help: this.help ? helpLines(cols, rows) : null,
      promptCursor: this.prompt ? promptLabel(this.prompt).length + this.prompt.text.length : null,
    };
  }

  private detail(r: FrameRecord | undefined, c: ConnRecord | undefined, cols: number): Doc {
    const key = [
      this.view,
      cols,
      c?.id,
      r ? `${r.ev.conn}/${r.n}` : '-',
      r?.group?.message ? 'm' : '',
      c?.handshake ? 'h' : '',
      c?.http.length,
      c?.errors.length,
      c?.state,
    ].join('|');
    if (this.detailCache?.key !== key) this.detailCache = { key, doc: detailDoc(this.view, r, c, cols) };
    return this.detailCache.doc;
  }

  /**
   * The empty connections pane says where to connect: the "open the demo page" line the CLI
   * prints on stderr is hidden behind the UI's screen, and the demo page is where a class starts.
   */
  private waitingText(): string {
    const info = this.options.info?.() ?? {};
    const listen = info.proxy ?? this.store.listening?.proxy;
    // Where a client connects: on 0.0.0.0 or ::, the loopback address.
    const proxy = listen && reachableAddress(listen);
    if (info.replay || !proxy) return '  waiting for a client to connect to the proxy...';
    // Short enough for 80 columns with a 5-digit port.
    if (info.backend ?? this.store.listening?.backend) return `  waiting: demo page http://${proxy}/  WebSocket ws://${proxy}/`;
    return `  waiting for a client to connect to ws://${proxy}/ ...`;
  }

  /** The status bar: live (or replay) or paused, connections, rates, where the proxy listens and forwards. */
  statusLine(): Line {
    const store = this.store;
    const info = this.options.info?.() ?? {};
    const listening = store.listening;
    const where = info.replay
      ? `replay ${info.replay}`
      : `${info.proxy ?? listening?.proxy ?? '?'} → ${info.target ?? listening?.target ?? (listening?.backend ? `ws://${listening.backend}` : '?')}`;
    let open = 0;
    for (const c of store.conns.values()) if (c.state !== 'closed') open++;
    return [
      this.followSeg(' '),
      seg(`│ ${store.conns.size} conn${store.conns.size === 1 ? '' : 's'} (${open} open) │ `),
      seg(`${thousands(this.rates.frames)} fr/s ${bytes(Math.round(this.rates.bytes))}/s`),
      ...this.interceptSegs(),
      seg(` │ ${where}`),
    ];
  }

  /** "│ intercept: client text, 2 held" while intercepting or holding. */
  private interceptSegs(): Seg[] {
    const hold = this.options.hold;
    if (!hold || (!hold.filter && hold.size === 0)) return [];
    const words = hold.describe();
    return [seg(' │ '), seg(`intercept: ${words || 'off'}${hold.size ? `, ${hold.size} held` : ''}`, 'magenta', { bold: true })];
  }

  /** The store's fill: shown at the right of the message line. */
  storeFill(): Line {
    const store = this.store;
    return [
      seg(`store ${thousands(store.frameCount)}/${thousands(store.maxFrames)}, `),
      seg(`${thousands(store.droppedFrames)} dropped`, store.droppedFrames ? 'yellow' : undefined, { bold: store.droppedFrames > 0 }),
    ];
  }

  /** The prompt, a flash message or the key hints on the left; the store's fill on the right. */
  messageLine(cols: number): Line {
    if (this.prompt) return [seg(promptLabel(this.prompt), 'yellow', { bold: true }), seg(this.prompt.text)];
    const now = this.now();
    // A new error from the session (upstream down, bad capture line...) is worth a flash.
    if (this.store.errors.length && this.store.errors.length !== this.seenErrors) {
      this.seenErrors = this.store.errors.length;
      this.say(this.store.errors[this.store.errors.length - 1], true);
    }
    // What a hook or the editor changed (e.g. "the proxy re-encodes ... from here on"): one line.
    if (this.store.interceptCount !== this.seenIntercepts) {
      this.seenIntercepts = this.store.interceptCount;
      this.say(this.store.intercepts[this.store.intercepts.length - 1], false);
    }
    const right = this.storeFill();
    const rightWidth = width(right.map((x) => x.t).join(''));
    let left: Line;
    if (this.flash && now < this.flash.until) left = [seg(this.flash.text, this.flash.error ? 'red' : 'green', { bold: true })];
    else {
      const hints: [string, string][] = [['?', 'help'], ['Tab', 'pane'], ['Enter', 'open'], ['1-5', 'views'], ['/', 'search'], ['f', 'filter'], ['p', 'pause'], ['s', 'save'], ['q', 'quit']];
      const essential = new Set(['?', '/', 'f', 'p', 'q']);
      const all = hints.reduce((n, [k, t]) => n + k.length + t.length + 3, 0);
      const shown = all + rightWidth + 1 <= cols ? hints : hints.filter(([k]) => essential.has(k));
      left = shown.flatMap(([k, t]): Line => [seg(k, 'yellow', { bold: true }), seg(` ${t}  `)]);
    }
    const leftWidth = width(left.map((x) => x.t).join(''));
    if (leftWidth + rightWidth + 1 > cols) return left;
    return [...left, seg(' '.repeat(cols - leftWidth - rightWidth)), ...right];
  }
}

function promptLabel(p: Prompt): string {
  if (p.kind === 'intercept') return 'intercept (hold frames like: client text; C-u and Enter: off): ';
  return p.kind === 'search' ? 'search: ' : p.kind === 'filter' ? 'filter (e.g. client text !; C-u and Enter clears): ' : 'save capture to: ';
}

/** A held frame's row at the bottom of the frames list; `more`: how many more are held. */
function heldRow(h: HeldFrame, more: number): Line {
  const arrow = h.dir === 'client' ? 'C ──▶ S' : 'C ◀── S';
  return [
    seg(' HELD ', 'magenta', { bold: true, inverse: true }),
    seg(` ${String(h.id).padStart(3)} `),
    seg(arrow, h.dir === 'client' ? 'green' : 'cyan', { bold: true }),
    seg(`  ${summarizeFrame(h.frame)}`),
    seg(more ? `   (+${more} more held)` : '   e edit  F forward  X drop', 'yellow'),
  ];
}

function matchesSearch(r: FrameRecord, needle: string, hexNeedle: string): boolean {
  const ev = r.ev;
  if (hexNeedle && /^[0-9a-f]+$/.test(hexNeedle) && ev.payload.includes(hexNeedle)) return true;
  if (Buffer.from(ev.payload, 'hex').toString('utf8').toLowerCase().includes(needle)) return true;
  if (ev.closeReason?.toLowerCase().includes(needle)) return true;
  const m = r.group?.message;
  if (!m || (r.groupPos !== 'last' && r.groupPos !== 'only')) return false;
  if (m.text?.toLowerCase().includes(needle)) return true;
  // What the message carries: its packets' summaries (event names, topics, types).
  return !!m.app && (appSummary(m.app, (t) => t) ?? '').toLowerCase().includes(needle);
}

/**
 * The help overlay: the key table, then the legend. One column with the long texts when
 * the terminal is tall enough, else two columns with the short ones (fits 80x24).
 */
export function helpLines(cols = 110, rows = 40): Line[] {
  const lines: Line[] = [[seg('Keys (one table for the whole UI)', undefined, { bold: true }), seg('   any key closes this help')]];
  const legend: Line[] = [
    [seg('C ──▶ S', 'green', { bold: true }), seg(' client to server  '), seg('C ◀── S', 'cyan', { bold: true }), seg(' server to client')],
    [seg('!', 'red', { bold: true }), seg(' violation  '), seg('┌ ├ └', 'yellow', { bold: true }), seg(' fragments of one message  '), seg('│', 'yellow', { bold: true }), seg(' control frame between')],
  ];
  const main = KEYS.filter((k) => !k.context);
  const editor = editorKeyLines(Math.min(cols, 110) - 4);
  if (main.length + editor.length + legend.length + 4 <= rows - 2) {
    for (const k of main) lines.push([seg(`  ${k.label.padEnd(10)}`, 'yellow', { bold: true }), seg(k.help)]);
  } else {
    const half = Math.ceil(main.length / 2);
    const colWidth = Math.max(20, Math.floor((Math.min(cols, 110) - 4) / 2));
    for (let i = 0; i < half; i++) {
      const line: Line = [];
      for (const k of [main[i], main[i + half]]) {
        if (!k) continue;
        line.push(seg(`${k.label.padEnd(9)}`, 'yellow', { bold: true }), seg(fit(k.short, colWidth - 10) + ' '));
      }
      lines.push(line);
    }
  }
  lines.push(...editor, [], ...legend);
  return lines;
}

/** The frame editor's keys (context 'editor' of the key table), packed into lines of `cols`. */
function editorKeyLines(cols: number): Line[] {
  const out: Line[] = [[seg('Frame editor (e, I): ', undefined, { bold: true })]];
  let used = width(out[0][0].t);
  for (const k of KEYS.filter((b) => b.context === 'editor')) {
    const label = k.label;
    const text = ` ${k.short.replace(/^editor: /, '')}  `;
    const w = width(label + text);
    if (used + w > cols) {
      out.push([seg('  ')]);
      used = 2;
    }
    out[out.length - 1].push(seg(label, 'yellow', { bold: true }), seg(text));
    used += w;
  }
  return out;
}

export function defaultCaptureName(now: number): string {
  const d = new Date(now);
  const p = (n: number) => String(n).padStart(2, '0');
  return `wsscope-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}.capture.ndjson`;
}
