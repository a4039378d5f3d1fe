// The frame of a long benchmark run (soak, hostile scenarios): everything it
// starts registers a cleanup, and the cleanups run once, in reverse order,
// whether the run ends, throws or is interrupted (SIGINT, SIGTERM), so no
// Slotway or redis-server it started is left behind.

export type Cleanups = (() => Promise<void>)[];

/** Runs `main`, then every cleanup it registered, then exits (clients of a failed run may still hold timers). */
export async function runWithCleanups(
  main: (cleanups: Cleanups) => Promise<void>,
  log: (line: string) => void,
): Promise<never> {
  const cleanups: Cleanups = [];
  let cleaning: Promise<void> | null = null;
  const cleanUp = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const cleanup of cleanups.reverse())
        await cleanup().catch((error: unknown) => log(`cleanup failed: ${String(error)}`));
    })());
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping Slotway and the cluster`);
      void cleanUp().then(() => process.exit(code));
    });
  }
  try {
    await main(cleanups);
  } catch (error) {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  } finally {
    await cleanUp();
  }
  process.exit();
}
