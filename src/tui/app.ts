/**
 * The blessed shell around the model: four boxes and two lines, keys in, coalesced
 * redraws out. Everything it shows comes from TuiModel.screen(); everything the user
 * types goes to TuiModel.key(). Loaded lazily (index.ts) so that commands without a UI
 * never load blessed.
 *
 * Responsiveness: events only update the store and mark the screen dirty; a timer draws
 * at most MAX_FPS times a second (less while drawing is slow: DRAW_SHARE_WAIT), and only
 * the visible rows are turned into text, so a flood of frames costs the proxy an O(1)
 * store update per event.
 */
import * as fs from 'fs';
import * as blessed from 'blessed';
import type { Session } from '../session';
import type { HoldQueue } from './hold';
import { TuiModel, type PaneOut } from './model';
import { Store, type StoreLimits } from './store';
import { clipLine, padLine, seg, toMarkup, type Line } from './text';

export const MAX_FPS = 20;
/**
 * While traffic keeps changing the screen, a redraw waits at least this many times as long
 * as the last one took, so that drawing takes at most a twentieth of the proxy's thread (a
 * draw costs milliseconds in blessed; under a flood of small messages drawing 20 times a
 * second was a quarter of the thread's time, --cpu-prof; at a tenth, drawing was still a
 * quarter of the TUI's own work under 64 KiB messages, issue #13). A 10 ms draw then
 * repeats 5 times a second under load, 20 when draws are cheap. A key is answered at MAX_FPS.
 */
const DRAW_SHARE_WAIT = 19;
/** ... but never waits longer than this between two redraws. */
const MAX_DRAW_WAIT_MS = 1000;

export interface AppOptions {
  defaultCapturePath?: string;
  maxPayload?: number;
  limits?: StoreLimits;
  /** Defaults to "NO_COLOR is unset or empty" (https://no-color.org). */
  colour?: boolean;
  hold?: HoldQueue;
}

export function runApp(session: Session, options: AppOptions = {}): Promise<void> {
  const colour = options.colour ?? !process.env.NO_COLOR;
  const store = new Store({ maxPayload: options.maxPayload, ...options.limits });
  // `--save FILE` is already being written by the proxy: `s` then proposes a fresh name.
  const defaultPath = options.defaultCapturePath && !fs.existsSync(options.defaultCapturePath) ? options.defaultCapturePath : undefined;
  const model = new TuiModel(store, { info: () => session.info, defaultCapturePath: defaultPath, hold: options.hold });

  // On a UTF-8 terminal, draw box lines and arrows as UTF-8 rather than through the VT100
  // alternate character set (ncurses' documented switch; blessed honours it too): the
  // text then reads the same on screen, in `tmux capture-pane` and in copy-paste.
  const locale = `${process.env.LC_ALL ?? ''}:${process.env.LC_CTYPE ?? ''}:${process.env.LANG ?? ''}`;
  if (process.env.NCURSES_NO_UTF8_ACS === undefined && /utf-?8/i.test(locale)) process.env.NCURSES_NO_UTF8_ACS = '1';
  const screen = blessed.screen({
    smartCSR: true,
    fullUnicode: true,
    title: 'wsscope',
    warnings: false,
    autoPadding: false,
  });

  const box = (top: number) =>
    blessed.box({
      parent: screen,
      top,
      left: 0,
      width: '100%',
      height: 3,
      tags: true,
      wrap: false,
      border: { type: 'line' },
      style: { border: {} },
    });
  const connsBox = box(0);
  const framesBox = box(3);
  const detailBox = box(6);
  const statusBox = blessed.box({ parent: screen, bottom: 1, left: 0, width: '100%', height: 1, tags: true, wrap: false });
  const messageBox = blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, tags: true, wrap: false });
  const helpBox = blessed.box({
    parent: screen,
    top: 'center',
    left: 'center',
    width: 100,
    height: 10,
    tags: true,
    wrap: false,
    hidden: true,
    border: { type: 'line' },
    label: ' Help ',
    style: colour ? { border: { fg: 'yellow' } } : {},
  });

  const markup = (line: Line, cols: number) => toMarkup(clipLine(line, cols), colour);

  let top = 0;
  const place = (el: blessed.Widgets.BoxElement, pane: PaneOut, cols: number) => {
    if (pane.height === 0) {
      el.hide();
      return;
    }
    el.show();
    el.top = top;
    el.height = pane.height;
    top += pane.height;
    const inner = cols - 2;
    const title: Line = [seg(pane.focused ? '▶' : ' ', 'yellow', { bold: true }), ...pane.title];
    el.setLabel(markup(title, inner - 2));
    el.setContent(pane.lines.map((l) => markup(l, inner)).join('\n'));
    if (colour) el.style.border = pane.focused ? { fg: 'yellow' } : {};
  };

  const draw = () => {
    const cols = Math.max(20, Number(screen.width) || 80);
    const rows = Math.max(8, Number(screen.height) || 24);
    const out = model.screen(cols, rows);
    top = 0;
    place(connsBox, out.conns, cols);
    place(framesBox, out.frames, cols);
    place(detailBox, out.detail, cols);
    statusBox.setContent(markup(padLine(out.status, cols).map((s) => ({ ...s, inverse: true })), cols));
    messageBox.setContent(markup(out.message, cols));
    if (out.help) {
      const width = Math.min(cols - 2, 110);
      helpBox.width = width;
      helpBox.height = Math.min(rows - 2, out.help.length + 2);
      helpBox.setContent(out.help.map((l) => markup(l, width - 2)).join('\n'));
      helpBox.show();
      helpBox.setFront();
    } else helpBox.hide();
    if (out.promptCursor !== null) {
      screen.program.showCursor();
      screen.program.cup(rows - 1, Math.min(cols - 1, out.promptCursor));
    } else screen.program.hideCursor();
    screen.render();
    if (out.promptCursor !== null) screen.program.cup(rows - 1, Math.min(cols - 1, out.promptCursor));
  };

  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    let lastDraw = 0;
    let lastDrawMs = 0;
    let done = false;

    const flush = () => {
      timer = null;
      lastDraw = Date.now();
      try {
        draw();
      } catch (err) {
        finish(err);
      }
      lastDrawMs = Date.now() - lastDraw;
    };
    /**
     * Coalesces redraws: none while nothing changed, at most one per 1000/MAX_FPS ms, and
     * (unless `urgent`: a key) none sooner than DRAW_SHARE_WAIT times the last draw's time.
     */
    const schedule = (urgent = false) => {
      // Called for every event (hundreds of thousands a second under a flood of small
      // messages): a redraw already due answers at once, before reading the clock.
      if (done || (timer && !urgent)) return;
      const wait = urgent ? 1000 / MAX_FPS : Math.max(1000 / MAX_FPS, Math.min(MAX_DRAW_WAIT_MS, DRAW_SHARE_WAIT * lastDrawMs));
      const at = Math.max(0, lastDraw + wait - Date.now());
      if (timer) clearTimeout(timer);
      timer = setTimeout(flush, at);
    };

    const offEvent = session.onEvent((event) => {
      store.add(event);
      schedule();
    });
    const offData = session.onData((conn, dir, ts, chunk) => {
      store.addData(conn, dir, ts, chunk);
      schedule();
    });
    if (options.hold) options.hold.onChange = schedule;
    const ticker = setInterval(() => {
      model.tick();
      schedule();
    }, 1000);

    const save = (path: string) => {
      const replayed = session.info.replay;
      if (replayed && store.dataChunks === 0) {
        // A replay publishes events, not raw chunks: the file being replayed is the capture.
        fs.promises.copyFile(replayed, path, fs.constants.COPYFILE_EXCL).then(
          () => {
            model.say(`saved a copy of the replayed capture ${replayed} to ${path}`);
            schedule();
          },
          (err: NodeJS.ErrnoException) => {
            const why = err.code === 'EEXIST' ? 'the file exists; press s and type another name' : err.message;
            model.say(`not saved to ${path}: ${why}`.replace(/\s+/g, ' '), true);
            schedule();
          },
        );
        return;
      }
      const { text, connections, chunks, skipped } = store.captureText();
      // 'wx': never overwrite a file (it could be the capture the proxy is streaming to).
      fs.promises.writeFile(path, text, { flag: 'wx' }).then(
        () => {
          const note = skipped ? `; ${skipped} connection${skipped > 1 ? 's' : ''} left out (their start was dropped from the bounded store)` : '';
          model.say(`saved ${connections} connection${connections === 1 ? '' : 's'} (${chunks} chunks) to ${path}${note}`);
          schedule();
        },
        (err: NodeJS.ErrnoException) => {
          const why = err.code === 'EEXIST' ? 'the file exists; press s and type another name' : err.message;
          model.say(`not saved to ${path}: ${why}`.replace(/\s+/g, ' '), true);
          schedule();
        },
      );
    };

    screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => {
      if (done) return;
      const effect = model.key(ch, key ?? {});
      if (effect?.kind === 'quit') return finish();
      if (effect?.kind === 'save') save(effect.path);
      schedule(true);
    });
    screen.on('resize', () => schedule(true));
    const onSignal = () => finish();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    process.once('SIGHUP', onSignal);

    function finish(err?: unknown) {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      clearInterval(ticker);
      offEvent();
      offData();
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGHUP', onSignal);
      // Restores the terminal: normal screen buffer, cursor, cooked mode.
      screen.destroy();
      if (err) reject(err);
      else resolve();
    }

    model.tick();
    flush();
  });
}
