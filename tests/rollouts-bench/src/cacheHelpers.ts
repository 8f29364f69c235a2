import type { RolloutsCluster } from '@golden-path/plugin-rollouts-backend';
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc: () => void = vm.runInNewContext('gc');

/** Heap in use after full garbage collections: what is still referenced. */
export function heapUsed(): number {
  for (let i = 0; i < 3; i += 1) gc();
  return process.memoryUsage().heapUsed;
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
