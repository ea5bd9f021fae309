// The clock port: the use cases ask it for the time, so a test can set it.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
