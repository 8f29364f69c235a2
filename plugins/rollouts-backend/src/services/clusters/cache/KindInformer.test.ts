import { KubeObject } from '@golden-path/plugin-rollouts-common';
import { CacheVerb, KindInformer, WatchLike } from './KindInformer';
import { ObjectIndex } from './ObjectIndex';

const pod = (namespace: string, name: string, rv: string): KubeObject => ({
  metadata: { namespace, name, uid: `uid-${name}`, resourceVersion: rv },
});

/** A watch driven by the test: `send` delivers an event, `end` closes the stream. */
class ScriptedWatch implements WatchLike {
  readonly opened: Record<string, unknown>[] = [];
  private callback?: (phase: string, obj: any) => void;
  private done?: (err: any) => void;

  async watch(
    _path: string,
    query: Record<string, unknown>,
    callback: (phase: string, obj: any) => void,
    done: (err: any) => void,
  ) {
    this.opened.push(query);
    this.callback = callback;
    this.done = done;
    return new AbortController();
  }

  send(phase: string, obj: unknown) {
    this.callback!(phase, obj);
  }

  async end(err: unknown = null) {
    await this.done!(err);
  }
}

function setUp(lists: { resourceVersion: string; items: KubeObject[] }[]) {
  const store = new ObjectIndex<KubeObject>('pods', ['controller']);
  const watch = new ScriptedWatch();
  const changes: [CacheVerb, string][] = [];
  const errors: unknown[] = [];
  let listed = 0;
  const informer = (namespace?: string) =>
    new KindInformer({
      path: '/api/v1/pods',
      namespace,
      watch,
      list: async () => lists[Math.min(listed++, lists.length - 1)],
      store,
      onChange: (verb, obj) => {
        // The store already holds the change when listeners hear of it.
        expect(store.get('a', obj.metadata!.name!)).toBe(
          verb === 'delete' ? undefined : obj,
        );
        changes.push([verb, obj.metadata!.name!]);
      },
      onError: e => errors.push(e),
    });
  return { store, watch, changes, errors, informer, lists: () => listed };
}

const names = (store: ObjectIndex<KubeObject>) =>
  store
    .all()
    .map(o => o.metadata!.name)
    .sort();

describe('KindInformer', () => {
  it('lists into the store, then watches from the list’s resourceVersion', async () => {
    const t = setUp([
      {
        resourceVersion: '10',
        items: [pod('a', 'p1', '5'), pod('a', 'p2', '6')],
      },
    ]);
    await t.informer().start();
    expect(names(t.store)).toEqual(['p1', 'p2']);
    expect(t.watch.opened).toEqual([
      { resourceVersion: '10', fieldSelector: undefined },
    ]);
    t.watch.send('MODIFIED', pod('a', 'p1', '11'));
    t.watch.send('ADDED', pod('a', 'p3', '12'));
    t.watch.send('DELETED', pod('a', 'p2', '13'));
    expect(names(t.store)).toEqual(['p1', 'p3']);
    expect(t.store.get('a', 'p1')!.metadata!.resourceVersion).toBe('11');
    expect(t.changes).toEqual([
      ['add', 'p1'],
      ['add', 'p2'],
      ['update', 'p1'],
      ['add', 'p3'],
      ['delete', 'p2'],
    ]);
  });

  it('takes an unchanged resourceVersion for no change', async () => {
    const t = setUp([{ resourceVersion: '10', items: [pod('a', 'p1', '5')] }]);
    await t.informer().start();
    const stored = t.store.get('a', 'p1');
    t.watch.send('MODIFIED', pod('a', 'p1', '5'));
    expect(t.store.get('a', 'p1')).toBe(stored);
    expect(t.changes).toEqual([['add', 'p1']]);
  });

  it('resumes an ended watch from the last resourceVersion it saw, bookmarks included', async () => {
    const t = setUp([{ resourceVersion: '10', items: [] }]);
    await t.informer().start();
    t.watch.send('ADDED', pod('a', 'p1', '11'));
    t.watch.send('BOOKMARK', { metadata: { resourceVersion: '15' } });
    await t.watch.end();
    expect(t.watch.opened.map(q => q.resourceVersion)).toEqual(['10', '15']);
    expect(t.lists()).toBe(1);
  });

  it('lists again after 410 Gone or an ERROR event, deleting what the new list lacks', async () => {
    const t = setUp([
      {
        resourceVersion: '10',
        items: [pod('a', 'p1', '5'), pod('a', 'p2', '6')],
      },
      {
        resourceVersion: '20',
        items: [pod('a', 'p2', '6'), pod('a', 'p3', '19')],
      },
      { resourceVersion: '30', items: [pod('a', 'p3', '25')] },
    ]);
    await t.informer().start();
    await t.watch.end({ statusCode: 410 });
    expect(names(t.store)).toEqual(['p2', 'p3']);
    t.watch.send('ERROR', { kind: 'Status', code: 410 });
    await t.watch.end();
    expect(names(t.store)).toEqual(['p3']);
    expect(t.watch.opened.map(q => q.resourceVersion)).toEqual([
      '10',
      '20',
      '30',
    ]);
    expect(t.changes).toEqual([
      ['add', 'p1'],
      ['add', 'p2'],
      ['delete', 'p1'],
      ['add', 'p3'],
      ['delete', 'p2'],
      ['update', 'p3'],
    ]);
    expect(t.errors).toEqual([]);
  });

  it("deletes on a new list only its own namespace's objects (the kind's store is shared)", async () => {
    const t = setUp([{ resourceVersion: '10', items: [] }]);
    t.store.upsert(pod('b', 'other', '1'));
    t.store.upsert(pod('a', 'gone', '2'));
    await t.informer('a').start();
    expect(names(t.store)).toEqual(['other']);
  });

  it('reports a failed list or watch and stays stopped', async () => {
    const t = setUp([{ resourceVersion: '10', items: [] }]);
    const failing = new KindInformer({
      path: '/api/v1/pods',
      watch: t.watch,
      list: async () => {
        throw Object.assign(new Error('forbidden'), { code: 403 });
      },
      store: t.store,
      onChange: () => {},
      onError: e => t.errors.push(e),
    });
    await failing.start();
    expect(t.errors).toHaveLength(1);
    expect(t.watch.opened).toEqual([]);

    const informer = t.informer();
    await informer.start();
    await t.watch.end(new Error('connection reset'));
    expect(t.errors).toHaveLength(2);
    expect(t.watch.opened).toHaveLength(1);
  });

  it('stopped while listing: keeps nothing of the list and opens no watch', async () => {
    const t = setUp([{ resourceVersion: '10', items: [pod('a', 'p1', '5')] }]);
    let finishList: () => void = () => {};
    const informer = new KindInformer({
      path: '/api/v1/pods',
      watch: t.watch,
      list: () =>
        new Promise(resolve => {
          finishList = () =>
            resolve({ resourceVersion: '10', items: [pod('a', 'p1', '5')] });
        }),
      store: t.store,
      onChange: () => {},
      onError: e => t.errors.push(e),
    });
    const started = informer.start();
    await informer.stop();
    finishList();
    await started;
    expect(names(t.store)).toEqual([]);
    expect(t.watch.opened).toEqual([]);
  });

  it('stopped while the watch opens: that watch is aborted', async () => {
    const controllers: AbortController[] = [];
    const started: { informer?: KindInformer } = {};
    const watch: WatchLike = {
      async watch() {
        await started.informer!.stop();
        const controller = new AbortController();
        controllers.push(controller);
        return controller;
      },
    };
    const t = setUp([{ resourceVersion: '10', items: [] }]);
    const informer = new KindInformer({
      path: '/api/v1/pods',
      watch,
      list: async () => ({ resourceVersion: '10', items: [] }),
      store: t.store,
      onChange: () => {},
      onError: () => {},
    });
    started.informer = informer;
    await informer.start();
    expect(controllers).toHaveLength(1);
    expect(controllers[0].signal.aborted).toBe(true);
  });
});
