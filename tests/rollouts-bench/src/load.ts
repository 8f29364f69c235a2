export interface LoadResult {
  latenciesMs: number[];
  elapsedMs: number;
  failures: string[];
}

/**
 * Counters that only grow (e.g. CPU ms of the backend and of this process),
 * read before and after each side's round of {@link runInterleaved}.
 */
export type Meters = () => Record<string, number>;

const noMeters: Meters = () => ({});

export interface MeteredLoadResult extends LoadResult {
  /** Each meter's growth during this side's rounds, summed. */
  metered: Record<string, number>;
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

/**
 * Runs several loads in alternating rounds (A B, then B A, ...), each round
 * sending `total / rounds` of one side's requests, and merges each side's
 * rounds. On a shared machine every side then meets the same background load,
 * which runs one after the other would not.
 */
export async function runInterleaved(
  requests: ReadonlyArray<() => Promise<unknown>>,
  options: {
    total: number;
    concurrency: number;
    rounds: number;
    meters?: Meters;
  },
): Promise<MeteredLoadResult[]> {
  const { total, concurrency, rounds, meters = noMeters } = options;
  if (!(Number.isInteger(rounds) && rounds > 0 && total >= rounds)) {
    throw new Error(
      `runInterleaved needs a whole number of rounds from 1 to total, got ${rounds} for ${total}`,
    );
  }
  const merged: MeteredLoadResult[] = requests.map(() => ({
    latenciesMs: [],
    elapsedMs: 0,
    failures: [],
    metered: {},
  }));
  for (let round = 0; round < rounds; round += 1) {
    // Every round's share, the remainder going to the first rounds.
    const share = Math.floor(total / rounds) + (round < total % rounds ? 1 : 0);
    const order = requests.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const side of order) {
      const before = meters();
      const result = await runLoad(requests[side], {
        total: share,
        concurrency,
      });
      const after = meters();
      for (const [name, value] of Object.entries(after)) {
        merged[side].metered[name] =
          (merged[side].metered[name] ?? 0) + value - (before[name] ?? 0);
      }
      merged[side].latenciesMs.push(...result.latenciesMs);
      merged[side].failures.push(...result.failures);
      merged[side].elapsedMs += result.elapsedMs;
    }
  }
  return merged;
}
