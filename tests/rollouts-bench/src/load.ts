export interface LoadResult {
  latenciesMs: number[];
  elapsedMs: number;
  failures: string[];
}

/**
 * Sends `total` requests with `concurrency` in flight at any time (each worker
 * starts its next request when the previous one answered) and records each
 * request's latency. Failures are collected, not retried.
 */
export async function runLoad(
  request: () => Promise<unknown>,
  options: { total: number; concurrency: number },
): Promise<LoadResult> {
  const { total, concurrency } = options;
  if (!(total > 0 && concurrency > 0)) {
    throw new Error(
      `runLoad needs total > 0 and concurrency > 0, got ${total} and ${concurrency}`,
    );
  }
  const latenciesMs: number[] = [];
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next += 1;
      const start = performance.now();
      try {
        await request();
        latenciesMs.push(performance.now() - start);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  };
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, worker),
  );
  return { latenciesMs, elapsedMs: performance.now() - start, failures };
}
