/** Time comes from a Clock port so the core never reads the wall clock itself. */
export interface Clock {
  now(): Date;
  /** The same instant as epoch milliseconds, without allocating a Date (hot paths); optional for test clocks. */
  nowMs?(): number;
}

export const systemClock: Clock = { now: () => new Date(), nowMs: Date.now };

/** Epoch milliseconds from any Clock: `nowMs()` when it has one, else `now().getTime()`. */
export function epochMs(clock: Clock): number {
  return clock.nowMs !== undefined ? clock.nowMs() : clock.now().getTime();
}
