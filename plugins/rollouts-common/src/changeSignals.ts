import type { RolloutsSignal } from './api';

/** Changes a page remembers: more than a burst of signals holds. */
const DEFAULT_CAPACITY = 256;

/**
 * Decides which signals make an open page reload. Every portal replica that
 * served the entity's status watches the cluster and signals each change over
 * the events bus, so with several replicas the page receives one copy per
 * replica. The copies name the same change (cluster and resourceVersion), so
 * the page reloads once per change. A `changed` signal that names no change
 * (an older backend) always reloads; a keepalive never does.
 *
 * @public
 */
export class ChangeSignalFilter {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** Whether the signal reports a change the page has not reloaded for. */
  isNewChange(signal: RolloutsSignal): boolean {
    if (signal.type !== 'changed') return false;
    if (!signal.resourceVersion) return true;
    const key = `${signal.cluster}\n${signal.resourceVersion}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.seen.size > this.capacity) {
      // A Set iterates in insertion order: forget the oldest change.
      this.seen.delete(this.seen.values().next().value!);
    }
    return true;
  }
}
