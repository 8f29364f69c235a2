import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { EntityRolloutsResponse } from '@golden-path/plugin-rollouts-common';
import { RolloutsCluster, RolloutsClusterRegistry } from '../clusters/types';
import { EntitySelection } from '../entitySelection';
import { StatusService } from './StatusService';

/** One entity's status answer, ready to send. @internal */
export interface StatusAnswer {
  /** The answer as JSON. */
  json: Buffer;
  /** The same JSON gzip-compressed; compressed once, when first asked for. */
  gzip(): Buffer;
  /** A weak ETag of the JSON: a page that has this answer gets a 304. */
  etag: string;
  /** The namespaces the entity has objects in, per cluster (for the change notifier). */
  namespaces: Map<string, Set<string>>;
}

interface Entry {
  /** What the answer was computed from (see `stampOf`). */
  stamp: string;
  answer: StatusAnswer;
  bytes: number;
}

/** @internal */
export interface StatusAnswerCacheOptions {
  /** Bytes of answers kept, JSON and gzip together; the least recently read go first. */
  maxBytes?: number;
}

export const DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** The namespaces an answer's objects are in, per cluster. */
export function namespacesOf(
  response: EntityRolloutsResponse,
): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const c of response.clusters) {
    map.set(
      c.cluster,
      new Set([
        ...c.deployments.map(d => d.namespace),
        ...c.blueGreen.map(b => b.namespace),
      ]),
    );
  }
  return map;
}

/**
 * Status answers, serialized once per state of the caches they come from.
 *
 * Under load most status requests ask for entities whose objects did not
 * change since the last request; deriving the answer again, writing its JSON,
 * hashing it for an ETag and compressing it are then the same work with the
 * same result. An answer is kept with a stamp of what it was computed from:
 * the entity's selection and, per cluster, a count of the cache's changes,
 * its health and write access. Any change to a cluster's cache moves its
 * count, so a kept answer is never older than the cache (a busy cluster makes
 * answers short-lived, and costs what computing them always cost). Only
 * status derivation is skipped: the route authorizes every request first.
 */
export class StatusAnswerCache {
  private readonly changeCounts = new Map<string, number>();
  private readonly unsubscribers = new Map<string, () => void>();
  private readonly entries = new Map<string, Entry>();
  private readonly maxBytes: number;
  private bytes = 0;

  constructor(
    private readonly status: StatusService,
    private readonly clusters: RolloutsClusterRegistry,
    options: StatusAnswerCacheOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_ANSWER_BYTES;
  }

  /** The entity's answer: the kept one if nothing it came from changed. */
  answer(entityRef: string, selection: EntitySelection): StatusAnswer {
    const stamp = this.stampOf(selection);
    const kept = this.entries.get(entityRef);
    if (kept) {
      // Re-inserted: the Map's order is the order of last use.
      this.entries.delete(entityRef);
      if (kept.stamp === stamp) {
        this.entries.set(entityRef, kept);
        return kept.answer;
      }
      this.bytes -= kept.bytes;
    }
    const entry = this.compute(entityRef, selection, stamp);
    this.entries.set(entityRef, entry);
    this.bytes += entry.bytes;
    this.evict();
    return entry.answer;
  }

  /** Stops counting changes. */
  stop() {
    for (const unsubscribe of this.unsubscribers.values()) unsubscribe();
    this.unsubscribers.clear();
    this.entries.clear();
    this.bytes = 0;
  }

  /** Bytes held, for tests and diagnostics. */
  heldBytes(): number {
    return this.bytes;
  }

  private compute(
    entityRef: string,
    selection: EntitySelection,
    stamp: string,
  ): Entry {
    const response = this.status.getStatus(entityRef, selection);
    const json = Buffer.from(JSON.stringify(response));
    let gzip: Buffer | undefined;
    const entry: Entry = {
      stamp,
      bytes: json.length,
      answer: {
        json,
        gzip: () => {
          if (!gzip) {
            gzip = gzipSync(json);
            // Counted once compressed; eviction catches up on the next miss.
            entry.bytes += gzip.length;
            if (this.entries.get(entityRef) === entry) {
              this.bytes += gzip.length;
            }
          }
          return gzip;
        },
        etag: `W/"${createHash('sha1').update(json).digest('base64url')}"`,
        namespaces: namespacesOf(response),
      },
    };
    return entry;
  }

  private evict() {
    for (const [entityRef, entry] of this.entries) {
      if (this.bytes <= this.maxBytes || this.entries.size === 1) return;
      this.entries.delete(entityRef);
      this.bytes -= entry.bytes;
    }
  }

  /** What an entity's answer depends on besides the entity's own ref. */
  private stampOf(selection: EntitySelection): string {
    const parts: unknown[] = [selection, this.clusters.skipped()];
    for (const cluster of this.status.clustersFor(selection)) {
      parts.push(
        cluster.name,
        this.changeCount(cluster),
        cluster.health(),
        cluster.writeAccess(),
      );
    }
    return JSON.stringify(parts);
  }

  private changeCount(cluster: RolloutsCluster): number {
    if (!this.unsubscribers.has(cluster.name)) {
      this.changeCounts.set(cluster.name, 0);
      this.unsubscribers.set(
        cluster.name,
        cluster.subscribe(() => {
          this.changeCounts.set(
            cluster.name,
            (this.changeCounts.get(cluster.name) ?? 0) + 1,
          );
        }),
      );
    }
    return this.changeCounts.get(cluster.name)!;
  }
}
