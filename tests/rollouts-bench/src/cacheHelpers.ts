import type { RolloutsCluster } from '@golden-path/plugin-rollouts-backend';
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
// V8 drops the bytecode of functions that have not run for a few garbage
// collections. The process loads far more code (Jest, Backstage, client-node)
// than the cache's sync runs, so with flushing on, the heap before a sync
// holds bytecode the collections during it drop: that hid some 13 MB of the
// 44,000 ReplicaSets' heap. Kept: every delta is then the cache's own.
v8.setFlagsFromString('--no-flush-bytecode');
const gc: () => void = vm.runInNewContext('gc');

/** Heap in use after full garbage collections: what is still referenced. */
export function heapUsed(): number {
  for (let i = 0; i < 3; i += 1) gc();
  return process.memoryUsage().heapUsed;
}

/**
 * {@link heapUsed} once it stopped shrinking: what an earlier benchmark in
 * the same process left behind (closing sockets, stopped caches) is gone.
 */
export async function settledHeapUsed(): Promise<number> {
  let previous = heapUsed();
  for (let i = 0; i < 20; i += 1) {
    await new Promise(r => setTimeout(r, 250));
    const now = heapUsed();
    if (previous - now < 256 * 1024) return now;
    previous = now;
  }
  return previous;
}

export const mib = (bytes: number) => bytes / 1024 / 1024;

/** Waits until the cluster's cache has listed every kind; fails with its health after `timeoutMs`. */
export async function waitForSync(
  cluster: RolloutsCluster,
  timeoutMs = 600_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (cluster.health().state !== 'ok') {
    if (Date.now() > deadline) {
      throw new Error(
        `cache not synced after ${timeoutMs / 1000} s: ${JSON.stringify(
          cluster.health(),
        )}`,
      );
    }
    await new Promise(r => setTimeout(r, 20));
  }
}
