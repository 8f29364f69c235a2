import { Entity } from '@backstage/catalog-model';

/** Loads one entity from the catalog; `undefined` when it does not exist. */
export type EntityLoader = (entityRef: string) => Promise<Entity | undefined>;

export interface EntityCacheOptions {
  load: EntityLoader;
  /** How long a loaded entity is served, counted from when its load began. */
  ttlMs: number;
  /** The oldest entries go first beyond this many. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  loaded: Promise<Entity | undefined>;
  expiresAt: number;
}

/** Default of {@link EntityCacheOptions.maxEntries}. */
export const DEFAULT_MAX_CACHED_ENTITIES = 10_000;

/**
 * Catalog entities by ref for the status route, shared by all callers: it
 * holds what the catalog says about an entity, never whether someone may read
 * it, so the caller authorizes every request itself. Concurrent lookups of
 * one ref share one load. The catalog publishes no entity-change events, so
 * an entry is bounded by time alone: a change shows after at most `ttlMs`.
 * Failed loads and unknown refs are not kept (a new entity shows at once).
 */
export class EntityCache {
  private readonly entries = new Map<string, Entry>();
  private readonly load: EntityLoader;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: EntityCacheOptions) {
    if (!(options.ttlMs > 0) || !((options.maxEntries ?? 1) >= 1)) {
      throw new Error(
        `EntityCache needs ttlMs > 0 and maxEntries >= 1, got ${options.ttlMs} and ${options.maxEntries}`,
      );
    }
    this.load = options.load;
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_CACHED_ENTITIES;
    this.now = options.now ?? Date.now;
  }

  get(entityRef: string): Promise<Entity | undefined> {
    const now = this.now();
    const cached = this.entries.get(entityRef);
    if (cached && cached.expiresAt > now) {
      return cached.loaded;
    }
    const entry: Entry = {
      loaded: this.load(entityRef),
      expiresAt: now + this.ttlMs,
    };
    const forget = () => {
      if (this.entries.get(entityRef) === entry) {
        this.entries.delete(entityRef);
      }
    };
    entry.loaded.then(entity => entity ?? forget(), forget);
    // Re-inserted at the end, so the map stays in the order loads began and
    // expired or surplus entries are always the first ones.
    this.entries.delete(entityRef);
    this.entries.set(entityRef, entry);
    this.dropOldest(now);
    return entry.loaded;
  }

  private dropOldest(now: number) {
    for (const [ref, entry] of this.entries) {
      if (entry.expiresAt > now && this.entries.size <= this.maxEntries) {
        return;
      }
      this.entries.delete(ref);
    }
  }

  /** How many refs are held (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }
}
