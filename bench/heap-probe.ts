// Preloaded into Slotway by `npm run bench:idle -- --heap` (node --expose-gc
// --import dist/bench/heap-probe.js): on SIGUSR2, two full GCs, then
// process.memoryUsage() written as JSON to $SLOTWAY_HEAP_PROBE_DIR/heap-<n>.json
// (n counts the signals from 0). Slotway's own code is not touched; the
// benchmark reads what is live after a GC, which RSS alone cannot tell apart
// from heap the GC has not returned.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const directory = process.env['SLOTWAY_HEAP_PROBE_DIR'];
const collect = (globalThis as { gc?: () => void }).gc;
let taken = 0;
if (directory !== undefined && collect !== undefined) {
  process.on('SIGUSR2', () => {
    collect();
    collect();
    writeFileSync(join(directory, `heap-${taken++}.json`), JSON.stringify(process.memoryUsage()));
  });
}
