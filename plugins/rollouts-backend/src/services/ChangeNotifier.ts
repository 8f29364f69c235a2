import { LoggerService } from '@backstage/backend-plugin-api';
import {
  ENTITY_REF_ANNOTATION,
  rolloutsSignalChannel,
  RolloutsSignal,
} from '@golden-path/plugin-rollouts-common';
import { SignalsService } from '@backstage/plugin-signals-node';
import {
  DEFAULT_KEEPALIVE_SECONDS,
  DEFAULT_SIGNAL_INTERVAL_MS,
} from '../settings';
import { ClusterChange, RolloutsClusterRegistry } from './clusters/types';
import {
  EntitySelection,
  selects,
  selectsKustomization,
} from './entitySelection';
import { WatchedEntityIndex } from './watchedEntityIndex';

interface Watched {
  selection: EntitySelection;
  /** Namespaces the entity has objects in, per cluster. */
  namespaces: Map<string, Set<string>>;
  lastViewed: number;
  /** When the last signal for this entity was sent. */
  lastSentAt: number;
  /** The newest relevant change, which the next signal names. */
  latest?: { cluster: string; resourceVersion?: string };
  /** The trailing signal of a burst, when one is due. */
  pending?: NodeJS.Timeout;
}

/** @public */
export interface ChangeNotifierOptions {
  clusters: RolloutsClusterRegistry;
  signals: SignalsService;
  logger: LoggerService;
  /** Stop notifying for an entity nobody looked at for this long. Default 15 min. */
  ttlMs?: number;
  /**
   * At most one signal per entity per this window. The first change of a burst
   * is signalled at once (a pod turning Ready shows without delay); later
   * changes inside the window are coalesced into one signal at its end.
   * Default: `rollouts.signalIntervalMs`'s default.
   */
  minIntervalMs?: number;
  /**
   * A `keepalive` signal goes to every open page this often, so a page can
   * tell that its connection is up (the signals API does not say). Default:
   * `rollouts.keepaliveSeconds`'s default.
   */
  keepaliveIntervalMs?: number;
}

/**
 * Pushes "something changed" signals to open entity pages. Entities are
 * watched once their status is read; a change to an object in one of their
 * namespaces (or carrying their labels; a Flux Kustomization: carrying their
 * labels or naming them in its ownership annotation) sends a signal on
 * `rollouts:<entityRef>` at once, then at most one per `minIntervalMs`. The
 * signal carries no data but the newest change's cluster and resourceVersion
 * (so a page can drop the copy another portal replica sends): the page
 * fetches the status again, through the permission checks. Open pages also get a `keepalive` signal every
 * `keepaliveIntervalMs`; a page that misses them falls back to polling.
 * A change only looks at the entities filed under its namespace or labels
 * (`WatchedEntityIndex`), never at every watched entity.
 *
 * @public
 */
export class ChangeNotifier {
  private readonly watched = new Map<string, Watched>();
  private readonly index = new WatchedEntityIndex();
  private readonly unsubscribers: (() => void)[] = [];
  private readonly ttlMs: number;
  private readonly minIntervalMs: number;
  private readonly keepaliveIntervalMs: number;
  private keepaliveTimer?: NodeJS.Timeout;

  constructor(private readonly options: ChangeNotifierOptions) {
    this.ttlMs = options.ttlMs ?? 15 * 60 * 1000;
    this.minIntervalMs = options.minIntervalMs ?? DEFAULT_SIGNAL_INTERVAL_MS;
    this.keepaliveIntervalMs =
      options.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_SECONDS * 1000;
  }

  start() {
    for (const cluster of this.options.clusters.list()) {
      this.unsubscribers.push(cluster.subscribe(c => this.onChange(c)));
    }
    this.keepaliveTimer = setInterval(
      () => this.keepalive(),
      this.keepaliveIntervalMs,
    );
    this.keepaliveTimer.unref?.();
  }

  stop() {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.unsubscribers.splice(0).forEach(u => u());
    for (const w of this.watched.values()) {
      if (w.pending) clearTimeout(w.pending);
    }
    for (const entityRef of this.watched.keys()) this.index.delete(entityRef);
    this.watched.clear();
  }

  /** Records that an entity's page is open. */
  track(
    entityRef: string,
    selection: EntitySelection,
    namespaces: Map<string, Set<string>>,
  ) {
    const existing = this.watched.get(entityRef);
    // Re-filed only when what it is filed under changed: track runs on every status read.
    if (
      !existing ||
      !sameSelection(existing.selection, selection) ||
      !sameNamespaces(existing.namespaces, namespaces)
    ) {
      this.index.set(entityRef, selection, namespaces);
    }
    if (existing) {
      existing.selection = selection;
      existing.namespaces = namespaces;
      existing.lastViewed = Date.now();
    } else {
      this.watched.set(entityRef, {
        selection,
        namespaces,
        lastViewed: Date.now(),
        lastSentAt: 0,
      });
    }
  }

  /** Entity refs currently watched (for tests and diagnostics). */
  watchedEntities(): string[] {
    return [...this.watched.keys()];
  }

  private onChange(change: ClusterChange) {
    const now = Date.now();
    const namespace = change.object.metadata?.namespace ?? '';
    const candidates = this.index.candidates(
      change.cluster,
      namespace,
      change.object.metadata?.labels,
      change.object.metadata?.annotations?.[ENTITY_REF_ANNOTATION],
    );
    for (const entityRef of candidates) {
      const w = this.watched.get(entityRef)!;
      if (now - w.lastViewed > this.ttlMs) {
        this.forget(entityRef, w);
        continue;
      }
      if (w.selection.cluster && w.selection.cluster !== change.cluster) {
        continue;
      }
      const relevant =
        change.kind === 'kustomizations'
          ? selectsKustomization(w.selection, entityRef, change.object)
          : w.namespaces.get(change.cluster)?.has(namespace) ||
            selects(w.selection, change.object);
      if (!relevant) {
        continue;
      }
      w.latest = {
        cluster: change.cluster,
        resourceVersion: change.object.metadata?.resourceVersion,
      };
      if (w.pending) {
        continue;
      }
      const wait = w.lastSentAt + this.minIntervalMs - now;
      if (wait <= 0) {
        this.send(entityRef, w);
        continue;
      }
      w.pending = setTimeout(() => {
        w.pending = undefined;
        this.send(entityRef, w);
      }, wait);
      w.pending.unref?.();
    }
  }

  private keepalive() {
    const now = Date.now();
    for (const [entityRef, w] of this.watched) {
      if (now - w.lastViewed > this.ttlMs) {
        this.forget(entityRef, w);
        continue;
      }
      this.publish(entityRef, { type: 'keepalive' });
    }
  }

  private forget(entityRef: string, w: Watched) {
    if (w.pending) clearTimeout(w.pending);
    this.watched.delete(entityRef);
    this.index.delete(entityRef);
  }

  /**
   * Names the newest change: every replica watching the entity sends the same
   * change (and the page reloads for each copy: see RolloutsSignal).
   */
  private send(entityRef: string, w: Watched) {
    w.lastSentAt = Date.now();
    const { cluster, resourceVersion } = w.latest!;
    this.publish(entityRef, {
      type: 'changed',
      cluster,
      ...(resourceVersion && { resourceVersion }),
    });
  }

  private publish(entityRef: string, message: RolloutsSignal) {
    this.options.signals
      .publish<RolloutsSignal>({
        recipients: { type: 'broadcast' },
        channel: rolloutsSignalChannel(entityRef),
        message,
      })
      .catch(e =>
        this.options.logger.warn('failed to publish signal', {
          entityRef,
          error: String(e),
        }),
      );
  }
}

function sameSelection(a: EntitySelection, b: EntitySelection): boolean {
  return (
    a.cluster === b.cluster &&
    a.namespace === b.namespace &&
    JSON.stringify(a.labelSelector) === JSON.stringify(b.labelSelector)
  );
}

function sameNamespaces(
  a: ReadonlyMap<string, ReadonlySet<string>>,
  b: ReadonlyMap<string, ReadonlySet<string>>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [cluster, names] of a) {
    const other = b.get(cluster);
    if (!other || other.size !== names.size) return false;
    for (const n of names) if (!other.has(n)) return false;
  }
  return true;
}
