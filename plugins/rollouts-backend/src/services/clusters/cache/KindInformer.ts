import type { KubeObject } from '@golden-path/plugin-rollouts-common';
import type { ObjectIndex } from './ObjectIndex';

/** What a change did to the cache. */
export type CacheVerb = 'add' | 'update' | 'delete';

/** The watch this informer needs: client-node's `Watch` (or ResilientWatch). */
export interface WatchLike {
  watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController>;
}

export interface KindInformerOptions {
  /** The collection's path (one namespace's or all). */
  path: string;
  fieldSelector?: string;
  /** The namespace `path` is limited to; its objects alone are this informer's. */
  namespace?: string;
  watch: WatchLike;
  /** The whole collection (already projected) and the resourceVersion to watch from. */
  list: () => Promise<{ resourceVersion: string; items: KubeObject[] }>;
  /** The kind's cache, shared with the kind's other informers (one per namespace). */
  store: ObjectIndex<KubeObject>;
  /** After the store took a change. */
  onChange: (verb: CacheVerb, obj: KubeObject) => void;
  /** A failed list or watch; the informer stays stopped until `start` again. */
  onError: (err: unknown) => void;
}

const keyOf = (o: KubeObject) =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

const isGone = (e: unknown) =>
  (e as { code?: unknown })?.code === 410 ||
  (e as { statusCode?: unknown })?.statusCode === 410;

/**
 * List + watch of one kind, keeping the objects in the kind's ObjectIndex and
 * nowhere else. Behaves as client-node's ListWatch (lists, then watches from
 * the list's resourceVersion; a watch the server ends resumes from the last
 * resourceVersion seen; 410 Gone or an ERROR event lists again, and objects
 * missing from the new list are deleted; an object whose resourceVersion did
 * not change is not an update), but ListWatch keeps a namespace → name → object
 * map of its own next to the index: some 40 bytes per object, 2.7 MB at
 * 20,000 pods and 44,000 ReplicaSets.
 */
export class KindInformer {
  private resourceVersion = '';
  private stopped = true;
  private request?: AbortController;

  constructor(private readonly options: KindInformerOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.run(null);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort();
  }

  latestResourceVersion(): string {
    return this.resourceVersion;
  }

  private abort() {
    this.request?.abort();
    this.request = undefined;
  }

  /** (Re)starts the watch, listing first when there is no resourceVersion to resume from. */
  private async run(err: unknown): Promise<void> {
    this.abort();
    if (err && isGone(err)) {
      this.resourceVersion = '';
    } else if (err) {
      this.options.onError(err);
      return;
    }
    if (this.stopped) return;
    if (!this.resourceVersion) {
      let list;
      try {
        list = await this.options.list();
      } catch (e) {
        this.options.onError(e);
        return;
      }
      // Stopped while listing (the cluster was removed): no store change, no watch.
      if (this.stopped) return;
      this.replaceAll(list.items);
      this.resourceVersion = list.resourceVersion;
    }
    const request = await this.options.watch.watch(
      this.options.path,
      {
        resourceVersion: this.resourceVersion,
        fieldSelector: this.options.fieldSelector,
      },
      (phase, obj) => this.onEvent(phase, obj),
      e => this.run(e),
    );
    // Stopped while the watch was opening: it would otherwise stay open.
    if (this.stopped) request.abort();
    else this.request = request;
  }

  private onEvent(phase: string, obj: KubeObject) {
    switch (phase) {
      case 'ADDED':
      case 'MODIFIED':
        this.addOrUpdate(obj);
        break;
      case 'DELETED':
        if (this.options.store.remove(obj)) {
          this.options.onChange('delete', obj);
        }
        break;
      default:
      // BOOKMARK: only its resourceVersion; ERROR: a Status, whose empty
      // resourceVersion makes the next start list again.
    }
    this.resourceVersion = obj?.metadata?.resourceVersion ?? '';
  }

  private addOrUpdate(obj: KubeObject) {
    const { store } = this.options;
    const stored = store.get(
      obj.metadata?.namespace ?? '',
      obj.metadata?.name ?? '',
    );
    const version = obj.metadata?.resourceVersion;
    if (stored && version && stored.metadata?.resourceVersion === version) {
      return;
    }
    store.upsert(obj);
    this.options.onChange(stored ? 'update' : 'add', obj);
  }

  /** A fresh list: objects of this informer it no longer has are deleted. */
  private replaceAll(items: KubeObject[]) {
    const { store, namespace } = this.options;
    const listed = new Set<string>();
    for (const item of items) listed.add(keyOf(item));
    for (const stored of store.allIn(namespace)) {
      if (!listed.has(keyOf(stored))) {
        store.remove(stored);
        this.options.onChange('delete', stored);
      }
    }
    for (const item of items) this.addOrUpdate(item);
  }
}
