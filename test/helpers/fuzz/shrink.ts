// Makes a failing input small enough to read: fewer reads first, then byte
// ranges deleted (halves, quarters ... single bytes) while the check still
// fails the same way (the same message, numbers and quoted bytes aside: a
// smaller input must not wander off to another bug). Cheap because inputs are small and a check is a few microseconds;
// bounded by a number of checks all the same.

export interface Shrunk {
  readonly bytes: Buffer;
  readonly cuts: readonly number[];
  readonly message: string;
}

type Check = (bytes: Buffer, cuts: readonly number[]) => string | null;

const BUDGET = 20_000;

export function shrink(bytes: Buffer, cuts: readonly number[], check: Check): Shrunk {
  const first = check(bytes, cuts);
  let best: Shrunk = { bytes, cuts, message: first ?? '(passed when run again)' };
  if (first === null) return best;
  const shape = shapeOf(first);
  let checks = 0;
  const attempt = (candidate: Buffer, candidateCuts: readonly number[]): boolean => {
    if (checks++ >= BUDGET) return false;
    const message = check(candidate, candidateCuts);
    if (message === null || shapeOf(message) !== shape) return false;
    best = { bytes: candidate, cuts: candidateCuts, message };
    return true;
  };
  const fewerReads = (): void => {
    if (best.cuts.length > 0) attempt(best.bytes, []);
    for (let i = best.cuts.length - 1; i >= 0; i--)
      attempt(
        best.bytes,
        best.cuts.filter((_, j) => j !== i),
      );
  };
  fewerReads();
  // Whole lines first (RESP is made of lines), several at a time, then bytes.
  for (let span = 16; span >= 1; span = Math.floor(span / 2)) {
    for (let i = 0; ;) {
      const starts = lineStarts(best.bytes);
      if (i + span >= starts.length) break;
      const from = starts[i] as number;
      const to = starts[i + span] as number;
      const candidate = Buffer.concat([best.bytes.subarray(0, from), best.bytes.subarray(to)]);
      if (!attempt(candidate, moveCuts(best.cuts, from, to - from))) i++;
    }
  }
  let size = 1;
  while (size * 2 <= best.bytes.length) size *= 2;
  for (; size >= 1; size = Math.floor(size / 2)) {
    for (let at = 0; at + size <= best.bytes.length;) {
      const candidate = Buffer.concat([best.bytes.subarray(0, at), best.bytes.subarray(at + size)]);
      if (!attempt(candidate, moveCuts(best.cuts, at, size))) at += size >= 64 ? size : 1;
    }
  }
  fewerReads();
  return best;
}

/** 0, every offset just after a '\n', and the end. */
function lineStarts(bytes: Buffer): number[] {
  const starts = [0];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10 && i + 1 < bytes.length) starts.push(i + 1);
  starts.push(bytes.length);
  return starts;
}

/** A failure message with its numbers and quoted bytes blanked out. */
function shapeOf(message: string): string {
  return message.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\d+/g, '#');
}

/** The cuts after deleting [at, at + size): those inside move to `at`, later ones back by `size`. */
function moveCuts(cuts: readonly number[], at: number, size: number): number[] {
  const out: number[] = [];
  for (const cut of cuts) {
    const moved = cut < at ? cut : cut < at + size ? at : cut - size;
    if (out[out.length - 1] !== moved) out.push(moved);
  }
  return out;
}
