// When Slotway read the command at hand, in performance.now() milliseconds.
// Sampled once per socket read, not per command: every command framed from
// one read shares the reading, and a clock call per command would cost more
// than the rest of its accounting (see the latency histogram, admin/metrics.ts).
//
//   read ─ sample ─┬─ GET a  (Request.startedAt = t)
//                  ├─ GET b  (t)
//                  └─ SET c  (t)        flush ─ sample ─> latency = now - t

export const arrivalClock = { now: 0 };

/** Reads the clock and remembers the reading for the Requests made next. */
export function sampleArrivalClock(): number {
  arrivalClock.now = performance.now();
  return arrivalClock.now;
}
