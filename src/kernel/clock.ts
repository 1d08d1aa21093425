/** Time comes from a Clock port so the core never reads the wall clock itself. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
