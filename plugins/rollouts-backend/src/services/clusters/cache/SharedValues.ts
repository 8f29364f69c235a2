/**
 * One shared instance per distinct value, for values many cached objects
 * repeat (the labels of a ReplicaSet's pods, an owner reference, a node
 * name): each parsed object otherwise brings its own copy. Shared values are
 * frozen, since every holder sees a change.
 *
 * Bounded without reference counting: values live in two generations; a
 * lookup promotes a value from the old generation into the current one, and
 * once the current generation reaches `generationSize` the old one is
 * dropped. A value nobody asked for during a whole generation is forgotten
 * (its holders keep it; only later copies stop sharing it), so churn (new
 * ReplicaSets at every rollout) never grows the table.
 */
export class SharedValues<T> {
  private current = new Map<string, T>();
  private previous = new Map<string, T>();

  constructor(private readonly generationSize = 100_000) {}

  /** The shared instance equal to `value` (by `key`), `value` itself the first time. */
  share(key: string, value: T): T {
    const existing = this.current.get(key);
    if (existing !== undefined) return existing;
    const promoted = this.previous.get(key);
    const shared =
      promoted ??
      (typeof value === 'object' && value !== null
        ? (Object.freeze(value) as T)
        : value);
    if (this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, shared);
    return shared;
  }

  /** Values remembered, for tests. */
  get size() {
    return this.current.size + this.previous.size;
  }
}
