import { ResourceKind, RolloutsCluster } from '../clusters/types';

/**
 * Resolves true as soon as `predicate` holds on the cluster's cache (checked
 * on every change of the given kinds, no polling), false after the timeout.
 */
export function waitForCache(
  cluster: RolloutsCluster,
  kinds: ResourceKind[],
  predicate: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise(resolve => {
    if (predicate()) {
      resolve(true);
      return;
    }
    let done = false;
    let timer: NodeJS.Timeout | undefined = undefined;
    let unsubscribe: (() => void) | undefined = undefined;
    const finish = (value: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe?.();
      resolve(value);
    };
    unsubscribe = cluster.subscribe(change => {
      if (kinds.includes(change.kind) && predicate()) finish(true);
    });
    timer = setTimeout(() => finish(predicate()), timeoutMs);
  });
}
