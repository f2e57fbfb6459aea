/**
 * The terminal UI's side of intercepting (pure, no terminal): the intercept filter, the
 * frames held because they matched it, and what the user decides for each. It is a
 * Decider of the intercept stage (src/intercept/engine.ts): a frame that matches is
 * answered with a promise, settled when the user forwards, drops or edits it, so the
 * stage holds that frame (and its direction's later frames, in order) meanwhile. What is
 * held counts against the stage's bounds: past HOLD_LIMIT the direction's reader pauses.
 *
 * Injecting and closing go to the connection's stage directly (`stage(conn)`).
 */
import type { Direction } from '../decoder/events';
import type { Decider, Interceptor } from '../intercept/engine';
import type { HookFrame, HookFrameSpec, HookResult } from '../intercept/types';
import { describeFilter, isEmptyFilter, matchesFilter, type FrameFilter, type FrameRecord } from './store';

export interface HeldFrame {
  /** Counts held frames from 1, per run. */
  id: number;
  conn: number;
  dir: Direction;
  frame: HookFrame;
  since: number;
}

export class HoldQueue {
  /** The intercept filter; null: nothing is held. */
  filter: FrameFilter | null = null;
  private readonly list: HeldFrame[] = [];
  private readonly waiting = new Map<number, (result: HookResult) => void>();
  private readonly stages = new Map<number, Interceptor>();
  private nextId = 1;
  /** Called whenever something changed (the UI redraws). */
  onChange: () => void = () => undefined;
  /**
   * Called when a filter is set: the proxy puts the intercept stage into its connections
   * then (ProxyHandle.intercept; until then the relay has no stage at all).
   */
  onIntercept: () => void = () => undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** The stage's decider: holds what matches the filter. */
  readonly decider: Decider = {
    by: 'tui',
    onFrame: (frame) => {
      const f = this.filter;
      if (!f || !matchesFilter({ ev: frame } as unknown as FrameRecord, f)) return undefined;
      const held: HeldFrame = { id: this.nextId++, conn: frame.conn, dir: frame.dir, frame, since: this.now() };
      this.list.push(held);
      this.onChange();
      return new Promise<HookResult>((resolve) => this.waiting.set(held.id, resolve));
    },
  };

  /** Sets the intercept filter (null or empty words: hold nothing; what is held stays held). */
  setFilter(filter: FrameFilter | null): void {
    this.filter = filter && !isEmptyFilter(filter) ? filter : null;
    if (this.filter) this.onIntercept();
    this.onChange();
  }

  describe(): string {
    return this.filter ? describeFilter(this.filter) : '';
  }

  /** Held frames, oldest first (of one connection when given). */
  held(conn?: number): readonly HeldFrame[] {
    return conn === undefined ? this.list : this.list.filter((h) => h.conn === conn);
  }

  get size(): number {
    return this.list.length;
  }

  /** Lets a held frame go: unchanged (undefined), dropped, or as these frames. */
  settle(id: number, result: HookResult): boolean {
    const i = this.list.findIndex((h) => h.id === id);
    if (i < 0) return false;
    this.list.splice(i, 1);
    const resolve = this.waiting.get(id);
    this.waiting.delete(id);
    resolve?.(result);
    this.onChange();
    return true;
  }

  forward(id: number): boolean {
    return this.settle(id, undefined);
  }

  drop(id: number): boolean {
    return this.settle(id, 'drop');
  }

  replace(id: number, specs: HookFrameSpec[]): boolean {
    return this.settle(id, specs);
  }

  /** Forwards every held frame unchanged; returns how many. */
  forwardAll(): number {
    const ids = this.list.map((h) => h.id);
    for (const id of ids) this.settle(id, undefined);
    return ids.length;
  }

  // Connections: their stages, for injecting and closing.

  register(conn: number, stage: Interceptor): void {
    this.stages.set(conn, stage);
  }

  /** The connection ended: its held frames are gone with it (the stage reported them). */
  unregister(conn: number): void {
    this.stages.delete(conn);
    let changed = false;
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (this.list[i].conn !== conn) continue;
      this.waiting.delete(this.list[i].id);
      this.list.splice(i, 1);
      changed = true;
    }
    if (changed) this.onChange();
  }

  stage(conn: number): Interceptor | undefined {
    return this.stages.get(conn);
  }
}
