import {
  canonicalEntityRef,
  ENTITY_REF_ANNOTATION,
  KubeLabelSelector,
  KubeObject,
  matchesLabelSelector,
} from '@golden-path/plugin-rollouts-common';
import type { ResourceKind } from '../types';
import { selectorLabelGroups } from './labelTerms';

const namespaceOf = (o: KubeObject) => o.metadata?.namespace ?? '';
const nameOf = (o: KubeObject) => o.metadata?.name ?? '';
const controllerUidOf = (o: KubeObject) =>
  o.metadata?.ownerReferences?.find(r => r.controller)?.uid;
/** Events name the object they are about; other kinds have no such field. */
const involvedUidOf = (o: KubeObject) =>
  (o as { involvedObject?: { uid?: string } }).involvedObject?.uid;
/** The entity the object's ownership annotation names, in canonical form. */
const namedEntityOf = (o: KubeObject) => {
  const value = o.metadata?.annotations?.[ENTITY_REF_ANNOTATION];
  return value === undefined ? undefined : canonicalEntityRef(value);
};

const EMPTY: readonly never[] = [];

/**
 * Members a term keeps in an array before it moves them into a Set. Most
 * terms have a few members (the pods of one ReplicaSet, the ReplicaSets of
 * one Deployment) or one (a Deployment's own labels, kept without an array):
 * an array of five costs ~90 bytes, a Set of five ~230. Arrays are copied on
 * change, which costs little at this size, with `concat`/`slice`: those
 * allocate exactly the length, where a spread (`[...members, obj]`) or
 * `filter` leaves room to grow (~17 slots: 150 bytes more per array, some
 * 3 MB at 20,000 pods).
 */
const ARRAY_LIMIT = 16;

/** A secondary index: term → the objects (cached objects, never arrays) that carry it. */
class TermIndex<T extends object, K = string> {
  private readonly members = new Map<K, T | readonly T[] | Set<T>>();

  add(term: K | undefined, obj: T) {
    if (term === undefined) return;
    const members = this.list(term);
    if (members === undefined) {
      this.members.set(term, obj);
    } else if (members instanceof Set) {
      members.add(obj);
    } else if (!members.includes(obj)) {
      this.members.set(
        term,
        members.length < ARRAY_LIMIT
          ? members.concat([obj])
          : new Set(members).add(obj),
      );
    }
  }

  remove(term: K | undefined, obj: T) {
    if (term === undefined) return;
    const members = this.list(term);
    if (members === undefined) return;
    if (members instanceof Set) {
      if (members.delete(obj) && members.size === 0) this.members.delete(term);
      return;
    }
    const at = members.indexOf(obj);
    if (at < 0) return;
    if (members.length === 1) this.members.delete(term);
    else if (members.length === 2) this.members.set(term, members[1 - at]);
    else {
      this.members.set(
        term,
        members.slice(0, at).concat(members.slice(at + 1)),
      );
    }
  }

  size(term: K): number {
    const members = this.list(term);
    if (members === undefined) return 0;
    return members instanceof Set ? members.size : members.length;
  }

  get(term: K): Iterable<T> {
    return this.list(term) ?? EMPTY;
  }

  private list(term: K): readonly T[] | Set<T> | undefined {
    const members = this.members.get(term);
    return members === undefined ||
      members instanceof Set ||
      Array.isArray(members)
      ? (members as readonly T[] | Set<T> | undefined)
      : [members as T];
  }

  /** Distinct terms held (for tests: an emptied term leaves nothing behind). */
  termCount(): number {
    return this.members.size;
  }
}

type Labels = Readonly<Record<string, string>>;

/** What {@link ObjectIndex} asks of a label index. */
interface LabelLookup<T> {
  add(labels: Labels | undefined, obj: T): void;
  remove(labels: Labels | undefined, obj: T): void;
  /** How many the term's lookup goes through (to pick the narrowest term). */
  size(term: [string, string]): number;
  get(term: [string, string]): Iterable<T>;
  termCount(): number;
}

/**
 * Objects by label: key → value → objects. Two levels rather than one
 * `key=value` term per label: each term would be a string of its own (~50
 * bytes for every pod template hash, app name and entity id).
 */
class LabelIndex<T extends object> implements LabelLookup<T> {
  private readonly byKey = new Map<string, TermIndex<T>>();

  add(labels: Labels | undefined, obj: T) {
    for (const key of Object.keys(labels ?? {})) {
      let values = this.byKey.get(key);
      if (!values) {
        values = new TermIndex<T>();
        this.byKey.set(key, values);
      }
      values.add(labels![key], obj);
    }
  }

  remove(labels: Labels | undefined, obj: T) {
    for (const key of Object.keys(labels ?? {})) {
      const values = this.byKey.get(key);
      values?.remove(labels![key], obj);
      if (values?.termCount() === 0) this.byKey.delete(key);
    }
  }

  size([key, value]: [string, string]): number {
    return this.byKey.get(key)?.size(value) ?? 0;
  }

  get([key, value]: [string, string]): Iterable<T> {
    return this.byKey.get(key)?.get(value) ?? EMPTY;
  }

  /** Distinct key/value pairs held. */
  termCount(): number {
    let count = 0;
    for (const values of this.byKey.values()) count += values.termCount();
    return count;
  }
}

/**
 * A label index over labels objects rather than objects, for a kind whose
 * objects share them (pods: one frozen labels object per ReplicaSet's pods,
 * see projections.ts): key → value → labels objects, and labels object →
 * the objects that have it. A pod then costs one member of its labels
 * object's list, where a label index costs one member per label (~100 bytes
 * per pod). Sizes count labels objects, not objects: enough to pick the
 * narrowest term.
 */
class LabelSetIndex<T extends object> implements LabelLookup<T> {
  private readonly sets = new LabelIndex<Labels>();
  private readonly members = new TermIndex<T, Labels>();

  add(labels: Labels | undefined, obj: T) {
    if (!labels) return;
    if (this.members.size(labels) === 0) this.sets.add(labels, labels);
    this.members.add(labels, obj);
  }

  remove(labels: Labels | undefined, obj: T) {
    if (!labels) return;
    this.members.remove(labels, obj);
    if (this.members.size(labels) === 0) this.sets.remove(labels, labels);
  }

  size(term: [string, string]): number {
    return this.sets.size(term);
  }

  *get(term: [string, string]): Iterable<T> {
    for (const labels of this.sets.get(term)) yield* this.members.get(labels);
  }

  termCount(): number {
    return this.sets.termCount();
  }
}

/**
 * Read access to one kind's cached objects, each lookup costing work
 * proportional to what it returns rather than to the whole cache.
 *
 * @public
 */
export interface CachedObjects<T extends KubeObject> {
  readonly size: number;
  get(namespace: string, name: string): T | undefined;
  /** Every object (for periodic sweeps, not per request). */
  all(): T[];
  inNamespace(namespace: string): T[];
  /** Objects whose controller owner reference has this uid. */
  ownedBy(uid: string): T[];
  /** Events whose `involvedObject.uid` is this uid. */
  about(uid: string): T[];
  /** Objects whose `rollouts.backstage.io/entity-ref` annotation names this entity. */
  naming(entityRef: string): T[];
  /** Objects the label selector matches, in `namespace` when given. */
  matching(selector: KubeLabelSelector, namespace?: string): T[];
}

/** The secondary indexes an {@link ObjectIndex} can keep. */
export type IndexName =
  | 'namespace'
  | 'label'
  | 'labelSet'
  | 'controller'
  | 'involved'
  | 'entityRef';

/**
 * One kind's objects by namespace/name, with the secondary indexes it is
 * asked to keep: by namespace, label (`key=value`), controller owner uid,
 * (events) involved object uid and the entity the ownership annotation names. Each costs memory per object, so each kind
 * keeps only those its lookups use (`CACHE_INDEXES`); a lookup through an
 * index the kind does not keep is a programming error and throws.
 * The entries of an object are computed from the stored object itself when it
 * is replaced or removed, so a label or owner change moves it between
 * entries. Holds references only: the objects are shared with whoever stored
 * them.
 */
export class ObjectIndex<T extends KubeObject> implements CachedObjects<T> {
  /**
   * Namespace → name → object: keyed by the objects' own strings, where one
   * `namespace/name` key per object would be a string of its own.
   */
  private readonly byName = new Map<string, Map<string, T>>();
  private count = 0;
  private readonly byNamespace?: TermIndex<T>;
  private readonly byLabel?: LabelLookup<T>;
  private readonly byController?: TermIndex<T>;
  private readonly byInvolved?: TermIndex<T>;
  private readonly byNamedEntity?: TermIndex<T>;

  constructor(private readonly kind: string, indexes: readonly IndexName[]) {
    const keep = (name: IndexName) =>
      indexes.includes(name) ? new TermIndex<T>() : undefined;
    this.byNamespace = keep('namespace');
    if (indexes.includes('labelSet')) this.byLabel = new LabelSetIndex<T>();
    else if (indexes.includes('label')) this.byLabel = new LabelIndex<T>();
    this.byController = keep('controller');
    this.byInvolved = keep('involved');
    this.byNamedEntity = keep('entityRef');
  }

  get size() {
    return this.count;
  }

  /** Stores or replaces an object; returns the one it replaced. */
  upsert(obj: T): T | undefined {
    const previous = this.remove(obj);
    const namespace = namespaceOf(obj);
    let names = this.byName.get(namespace);
    if (!names) {
      names = new Map();
      this.byName.set(namespace, names);
    }
    names.set(nameOf(obj), obj);
    this.count += 1;
    this.byNamespace?.add(namespaceOf(obj), obj);
    this.byLabel?.add(obj.metadata?.labels, obj);
    this.byController?.add(controllerUidOf(obj), obj);
    this.byInvolved?.add(involvedUidOf(obj), obj);
    this.byNamedEntity?.add(namedEntityOf(obj), obj);
    return previous;
  }

  /** Removes the stored object with this one's namespace and name; returns it. */
  remove(obj: KubeObject): T | undefined {
    const names = this.byName.get(namespaceOf(obj));
    const stored = names?.get(nameOf(obj));
    if (!names || !stored) return undefined;
    names.delete(nameOf(obj));
    if (names.size === 0) this.byName.delete(namespaceOf(obj));
    this.count -= 1;
    this.byNamespace?.remove(namespaceOf(stored), stored);
    this.byLabel?.remove(stored.metadata?.labels, stored);
    this.byController?.remove(controllerUidOf(stored), stored);
    this.byInvolved?.remove(involvedUidOf(stored), stored);
    this.byNamedEntity?.remove(namedEntityOf(stored), stored);
    return stored;
  }

  get(namespace: string, name: string): T | undefined {
    return this.byName.get(namespace)?.get(name);
  }

  all(): T[] {
    // One push per object, never push(...values): ~130k arguments throw RangeError.
    const result: T[] = [];
    for (const names of this.byName.values()) {
      for (const obj of names.values()) result.push(obj);
    }
    return result;
  }

  /** Every object in `namespace`, or every object when it is undefined (from the primary map: needs no index). */
  allIn(namespace: string | undefined): T[] {
    if (namespace === undefined) return this.all();
    return Array.from(this.byName.get(namespace)?.values() ?? EMPTY);
  }

  inNamespace(namespace: string): T[] {
    return Array.from(this.kept(this.byNamespace, 'namespace').get(namespace));
  }

  ownedBy(uid: string): T[] {
    return Array.from(this.kept(this.byController, 'controller').get(uid));
  }

  about(uid: string): T[] {
    return Array.from(this.kept(this.byInvolved, 'involved').get(uid));
  }

  naming(entityRef: string): T[] {
    const term = canonicalEntityRef(entityRef);
    const index = this.kept(this.byNamedEntity, 'entityRef');
    return term === undefined ? [] : Array.from(index.get(term));
  }

  matching(selector: KubeLabelSelector, namespace?: string): T[] {
    const candidates = this.candidates(selector, namespace);
    const result: T[] = [];
    for (const obj of candidates) {
      if (
        (namespace === undefined || namespaceOf(obj) === namespace) &&
        matchesLabelSelector(selector, obj.metadata?.labels)
      ) {
        result.push(obj);
      }
    }
    return result;
  }

  /** Distinct index entries (tests check that removals leave none behind). */
  indexSizes() {
    return {
      objects: this.count,
      namespaces: this.byNamespace?.termCount() ?? 0,
      labels: this.byLabel?.termCount() ?? 0,
      controllers: this.byController?.termCount() ?? 0,
      involved: this.byInvolved?.termCount() ?? 0,
      namedEntities: this.byNamedEntity?.termCount() ?? 0,
    };
  }

  private kept(index: TermIndex<T> | undefined, name: IndexName) {
    if (!index) {
      throw new Error(
        `The cache of ${this.kind} keeps no ${name} index; add it to CACHE_INDEXES`,
      );
    }
    return index;
  }

  /** The smallest set the index can narrow the selector to. */
  private candidates(
    selector: KubeLabelSelector,
    namespace: string | undefined,
  ): Iterable<T> {
    // Without a usable index: every object (correct, but not fast).
    let best: Iterable<T> | undefined;
    let bestSize = this.count;
    const byNamespace = this.byNamespace;
    if (byNamespace && namespace !== undefined) {
      if (byNamespace.size(namespace) < bestSize) {
        best = byNamespace.get(namespace);
        bestSize = byNamespace.size(namespace);
      }
    }
    const byLabel = this.byLabel;
    if (byLabel) {
      for (const group of selectorLabelGroups(selector)) {
        const size = group.reduce((n, t) => n + byLabel.size(t), 0);
        if (size < bestSize) {
          bestSize = size;
          best = group.flatMap(t => Array.from(byLabel.get(t)));
        }
      }
    }
    return best ?? this.all();
  }
}

/**
 * The indexes each kind's cache keeps: those its lookups use (status,
 * switch guards, scheduled scale-down), nothing more.
 */
export const CACHE_INDEXES: Record<ResourceKind, readonly IndexName[]> = {
  deployments: ['namespace', 'label'],
  replicasets: ['controller'],
  // Pods of one ReplicaSet share their labels object (projections.ts).
  pods: ['labelSet', 'controller'],
  services: ['namespace', 'label'],
  endpointslices: ['label'],
  resourcequotas: ['namespace'],
  limitranges: ['namespace'],
  horizontalpodautoscalers: ['namespace', 'label'],
  events: ['involved'],
  kustomizations: ['label', 'entityRef'],
};
