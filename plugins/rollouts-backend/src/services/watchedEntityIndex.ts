import { canonicalEntityRef } from '@golden-path/plugin-rollouts-common';
import { labelTerms, selectorTermGroups } from './clusters/cache/labelTerms';
import { EntitySelection } from './entitySelection';

const namespaceKey = (cluster: string, namespace: string) =>
  `${cluster}\u0000${namespace}`;

interface Entry {
  namespaceKeys: string[];
  labelTerms: string[];
  unindexed: boolean;
  /** The entity ref as an ownership annotation names it (canonical form). */
  named?: string;
}

/**
 * Which watched entities a cluster change may concern, without looking at
 * every watched entity: each entity is filed under the namespaces it has
 * objects in (per cluster) and under the label terms of one group of its
 * selector (an object the selector matches carries one of them, see
 * `selectorTermGroups`), and under its own ref, for the objects whose
 * ownership annotation names it (Flux Kustomizations without its labels). Entities whose selector no term can narrow (only
 * NotIn/Exists/DoesNotExist) are candidates for every change. The result is
 * a superset: the caller still checks the change against the entity.
 */
export class WatchedEntityIndex {
  private readonly entries = new Map<string, Entry>();
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly byLabel = new Map<string, Set<string>>();
  private readonly byNamedEntity = new Map<string, Set<string>>();
  private readonly unindexed = new Set<string>();

  /** Files (or re-files) an entity under its namespaces and selector. */
  set(
    entityRef: string,
    selection: EntitySelection,
    namespaces: ReadonlyMap<string, ReadonlySet<string>>,
  ) {
    this.delete(entityRef);
    const groups = selectorTermGroups(selection.labelSelector);
    const entry: Entry = {
      namespaceKeys: [...namespaces].flatMap(([cluster, names]) =>
        [...names].map(n => namespaceKey(cluster, n)),
      ),
      // The smallest group: fewest entries to keep, all equally complete.
      labelTerms:
        groups.reduce<string[] | undefined>(
          (best, g) =>
            best === undefined || g.length < best.length ? g : best,
          undefined,
        ) ?? [],
      unindexed: groups.length === 0,
      named: canonicalEntityRef(entityRef),
    };
    this.entries.set(entityRef, entry);
    for (const key of entry.namespaceKeys)
      add(this.byNamespace, key, entityRef);
    for (const term of entry.labelTerms) add(this.byLabel, term, entityRef);
    if (entry.unindexed) this.unindexed.add(entityRef);
    if (entry.named) add(this.byNamedEntity, entry.named, entityRef);
  }

  delete(entityRef: string) {
    const entry = this.entries.get(entityRef);
    if (!entry) return;
    this.entries.delete(entityRef);
    for (const key of entry.namespaceKeys)
      remove(this.byNamespace, key, entityRef);
    for (const term of entry.labelTerms) remove(this.byLabel, term, entityRef);
    this.unindexed.delete(entityRef);
    if (entry.named) remove(this.byNamedEntity, entry.named, entityRef);
  }

  /**
   * The entities a change of an object in `namespace` with `labels` (and
   * naming `namedEntity` in its ownership annotation) may concern.
   */
  candidates(
    cluster: string,
    namespace: string,
    labels: Record<string, string> | undefined,
    namedEntity?: string,
  ): Set<string> {
    const result = new Set<string>(this.unindexed);
    for (const ref of this.byNamespace.get(namespaceKey(cluster, namespace)) ??
      []) {
      result.add(ref);
    }
    for (const term of labelTerms(labels)) {
      for (const ref of this.byLabel.get(term) ?? []) result.add(ref);
    }
    const named = namedEntity && canonicalEntityRef(namedEntity);
    for (const ref of (named && this.byNamedEntity.get(named)) || []) {
      result.add(ref);
    }
    return result;
  }

  /** Index entries held (tests check that removals leave none behind). */
  sizes() {
    return {
      entities: this.entries.size,
      namespaces: this.byNamespace.size,
      labels: this.byLabel.size,
      unindexed: this.unindexed.size,
      namedEntities: this.byNamedEntity.size,
    };
  }
}

function add(map: Map<string, Set<string>>, key: string, ref: string) {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(ref);
}

function remove(map: Map<string, Set<string>>, key: string, ref: string) {
  const set = map.get(key);
  if (set?.delete(ref) && set.size === 0) map.delete(key);
}
