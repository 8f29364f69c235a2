import { KubeEvent, KubeObject } from '@golden-path/plugin-rollouts-common';
import { IndexName, ObjectIndex } from './ObjectIndex';

/** What an index holds once every object is removed: nothing left behind. */
const EMPTY = {
  objects: 0,
  namespaces: 0,
  labels: 0,
  controllers: 0,
  involved: 0,
  namedEntities: 0,
};

const EVERY_INDEX: IndexName[] = [
  'namespace',
  'label',
  'controller',
  'involved',
  'entityRef',
];

function obj(
  namespace: string,
  name: string,
  labels: Record<string, string> = {},
  ownerUid?: string,
): KubeObject {
  return {
    metadata: {
      namespace,
      name,
      uid: `uid-${namespace}-${name}`,
      labels,
      ...(ownerUid && {
        ownerReferences: [
          { kind: 'ReplicaSet', name: 'x', uid: 'not-the-controller' },
          { kind: 'ReplicaSet', name: 'rs', uid: ownerUid, controller: true },
        ],
      }),
    },
  };
}

const names = (objects: KubeObject[]) =>
  objects.map(o => `${o.metadata?.namespace}/${o.metadata?.name}`).sort();

describe('ObjectIndex', () => {
  it('keeps terms of many members (arrays, then a Set) and forgets them once emptied', () => {
    const index = new ObjectIndex<KubeObject>('test', EVERY_INDEX);
    const pods = Array.from({ length: 40 }, (_, i) =>
      obj('a', `api-${String(i).padStart(2, '0')}`, { app: 'api' }, 'rs-1'),
    );
    for (const pod of pods) index.upsert(pod);
    // Stored again: replaced, never listed twice.
    index.upsert(pods[3]);
    expect(index.ownedBy('rs-1')).toHaveLength(40);
    expect(index.matching({ matchLabels: { app: 'api' } })).toHaveLength(40);

    // A few members: one, an array, one again, none.
    const [web1, web2] = [
      obj('b', 'web-1', { app: 'web' }, 'rs-2'),
      obj('b', 'web-2', { app: 'web' }, 'rs-2'),
    ];
    index.upsert(web1);
    expect(names(index.ownedBy('rs-2'))).toEqual(['b/web-1']);
    index.upsert(web2);
    index.upsert(web2);
    expect(names(index.matching({ matchLabels: { app: 'web' } }))).toEqual([
      'b/web-1',
      'b/web-2',
    ]);
    index.remove(web1);
    expect(names(index.ownedBy('rs-2'))).toEqual(['b/web-2']);
    index.upsert(web1);
    expect(names(index.ownedBy('rs-2'))).toEqual(['b/web-1', 'b/web-2']);
    index.remove(web1);
    index.remove(web2);
    expect(index.matching({ matchLabels: { app: 'web' } })).toEqual([]);

    for (const pod of pods.slice(1)) index.remove(pod);
    expect(names(index.ownedBy('rs-1'))).toEqual(['a/api-00']);
    expect(names(index.inNamespace('a'))).toEqual(['a/api-00']);
    index.remove(pods[0]);
    expect(index.ownedBy('rs-1')).toEqual([]);
    expect(index.indexSizes()).toEqual(EMPTY);
  });

  it('removes any member of a small term, first, middle or last, keeping the others', () => {
    const index = new ObjectIndex<KubeObject>('test', ['controller']);
    const pods = Array.from({ length: 5 }, (_, i) =>
      obj('a', `api-${i}`, {}, 'rs-1'),
    );
    for (const pod of pods) index.upsert(pod);
    index.remove(pods[2]);
    expect(names(index.ownedBy('rs-1'))).toEqual([
      'a/api-0',
      'a/api-1',
      'a/api-3',
      'a/api-4',
    ]);
    index.remove(pods[0]);
    index.remove(pods[4]);
    // Not a member (any more): nothing changes.
    index.remove(pods[2]);
    expect(names(index.ownedBy('rs-1'))).toEqual(['a/api-1', 'a/api-3']);
    index.remove(pods[3]);
    expect(names(index.ownedBy('rs-1'))).toEqual(['a/api-1']);
    index.upsert(pods[0]);
    expect(names(index.ownedBy('rs-1'))).toEqual(['a/api-0', 'a/api-1']);
  });

  it('lists one namespace or all from the primary map, without a namespace index', () => {
    const index = new ObjectIndex<KubeObject>('test', []);
    index.upsert(obj('a', 'one'));
    index.upsert(obj('a', 'two'));
    index.upsert(obj('b', 'three'));
    expect(names(index.allIn('a'))).toEqual(['a/one', 'a/two']);
    expect(index.allIn('c')).toEqual([]);
    expect(index.allIn(undefined)).toHaveLength(3);
  });

  it('finds objects by label through their shared labels objects (labelSet)', () => {
    const index = new ObjectIndex<KubeObject>('pods', ['labelSet']);
    const shared = { app: 'api', 'pod-template-hash': 'h1' };
    const pods = [1, 2, 3].map(i => obj('a', `api-h1-${i}`, shared));
    // Equal labels in an object of their own: found all the same.
    const own = obj('b', 'api-own', { app: 'api', 'pod-template-hash': 'h1' });
    const other = obj('a', 'web-1', { app: 'web' });
    for (const p of [...pods, own, other]) index.upsert(p);
    expect(names(index.matching({ matchLabels: { app: 'api' } }))).toEqual([
      'a/api-h1-1',
      'a/api-h1-2',
      'a/api-h1-3',
      'b/api-own',
    ]);
    expect(
      names(
        index.matching(
          {
            matchLabels: { 'pod-template-hash': 'h1' },
            matchExpressions: [
              { key: 'app', operator: 'In', values: ['api', 'web'] },
            ],
          },
          'a',
        ),
      ),
    ).toEqual(['a/api-h1-1', 'a/api-h1-2', 'a/api-h1-3']);

    // A pod relabelled moves to its new labels object.
    index.upsert(obj('a', 'api-h1-2', { app: 'web' }));
    expect(names(index.matching({ matchLabels: { app: 'web' } }))).toEqual([
      'a/api-h1-2',
      'a/web-1',
    ]);
    expect(
      names(index.matching({ matchLabels: { 'pod-template-hash': 'h1' } })),
    ).toEqual(['a/api-h1-1', 'a/api-h1-3', 'b/api-own']);

    for (const o of index.all()) index.remove(o);
    expect(index.indexSizes()).toMatchObject({ objects: 0, labels: 0 });
  });

  it('finds objects by namespace, label, controller and name', () => {
    const index = new ObjectIndex<KubeObject>('test', EVERY_INDEX);
    index.upsert(obj('a', 'api-1', { app: 'api' }, 'rs-1'));
    index.upsert(obj('a', 'api-2', { app: 'api' }, 'rs-1'));
    index.upsert(obj('b', 'api-1', { app: 'api' }, 'rs-2'));
    index.upsert(obj('b', 'web-1', { app: 'web' }));

    expect(index.size).toBe(4);
    expect(names(index.inNamespace('a'))).toEqual(['a/api-1', 'a/api-2']);
    expect(names(index.ownedBy('rs-1'))).toEqual(['a/api-1', 'a/api-2']);
    // Only the controller reference counts.
    expect(index.ownedBy('not-the-controller')).toEqual([]);
    expect(names(index.matching({ matchLabels: { app: 'api' } }))).toEqual([
      'a/api-1',
      'a/api-2',
      'b/api-1',
    ]);
    expect(names(index.matching({ matchLabels: { app: 'api' } }, 'b'))).toEqual(
      ['b/api-1'],
    );
    expect(index.get('b', 'web-1')?.metadata?.labels).toEqual({ app: 'web' });
    expect(index.get('a', 'web-1')).toBeUndefined();
  });

  it('applies the whole selector, not only the term it narrowed by', () => {
    const index = new ObjectIndex<KubeObject>('test', EVERY_INDEX);
    index.upsert(obj('a', 'blue', { app: 'api', slot: 'blue' }));
    index.upsert(obj('a', 'green', { app: 'api', slot: 'green' }));
    index.upsert(obj('a', 'canary', { app: 'api', slot: 'blue', canary: 'y' }));
    index.upsert(obj('a', 'other', { app: 'web', slot: 'blue' }));

    expect(
      names(
        index.matching({
          matchLabels: { app: 'api' },
          matchExpressions: [
            { key: 'slot', operator: 'In', values: ['blue', 'red'] },
            { key: 'canary', operator: 'DoesNotExist' },
          ],
        }),
      ),
    ).toEqual(['a/blue']);
    // Not narrowable by a label term: still correct, from the namespace.
    expect(
      names(
        index.matching(
          { matchExpressions: [{ key: 'canary', operator: 'Exists' }] },
          'a',
        ),
      ),
    ).toEqual(['a/canary']);
    expect(
      index.matching({
        matchExpressions: [{ key: 'app', operator: 'In', values: [] }],
      }),
    ).toEqual([]);
  });

  it('moves an object between entries when its labels change', () => {
    const index = new ObjectIndex<KubeObject>('test', EVERY_INDEX);
    index.upsert(obj('a', 'p', { app: 'api', slot: 'blue' }));
    const previous = index.upsert(obj('a', 'p', { app: 'api', slot: 'green' }));

    expect(previous?.metadata?.labels?.slot).toBe('blue');
    expect(index.matching({ matchLabels: { slot: 'blue' } })).toEqual([]);
    expect(names(index.matching({ matchLabels: { slot: 'green' } }))).toEqual([
      'a/p',
    ]);
    expect(index.size).toBe(1);
    expect(index.indexSizes().labels).toBe(2);
  });

  it('moves an object between owners when its controller changes (adoption, orphaning)', () => {
    const index = new ObjectIndex<KubeObject>('test', EVERY_INDEX);
    index.upsert(obj('a', 'p', {}, 'rs-old'));
    index.upsert(obj('a', 'p', {}, 'rs-new'));
    expect(index.ownedBy('rs-old')).toEqual([]);
    expect(names(index.ownedBy('rs-new'))).toEqual(['a/p']);

    index.upsert(obj('a', 'p', {}));
    expect(index.ownedBy('rs-new')).toEqual([]);
    expect(index.indexSizes().controllers).toBe(0);
  });

  it('removes every entry of a deleted object, whatever the delete event carries', () => {
    const index = new ObjectIndex<KubeObject>('test', EVERY_INDEX);
    index.upsert(obj('a', 'p', { app: 'api' }, 'rs-1'));
    index.upsert(obj('a', 'q', { app: 'api' }, 'rs-1'));
    // A delete after a missed update: the event has other labels than the
    // cache; the stored object's entries are the ones removed.
    const removed = index.remove(obj('a', 'p', { app: 'renamed' }));

    expect(removed?.metadata?.labels).toEqual({ app: 'api' });
    expect(names(index.matching({ matchLabels: { app: 'api' } }))).toEqual([
      'a/q',
    ]);
    expect(index.remove(obj('a', 'p'))).toBeUndefined();
    index.remove(obj('a', 'q'));
    expect(index.indexSizes()).toEqual(EMPTY);
  });

  it('finds events by the uid of the object they are about', () => {
    const index = new ObjectIndex<KubeEvent>('events', ['involved']);
    const event = (name: string, uid: string): KubeEvent => ({
      metadata: { namespace: 'a', name },
      involvedObject: { kind: 'Pod', name: 'p', uid },
      reason: 'BackOff',
    });
    index.upsert(event('e1', 'pod-1'));
    index.upsert(event('e2', 'pod-1'));
    index.upsert(event('e3', 'pod-2'));
    expect(names(index.about('pod-1'))).toEqual(['a/e1', 'a/e2']);
    index.upsert(event('e2', 'pod-2'));
    expect(names(index.about('pod-2'))).toEqual(['a/e2', 'a/e3']);
  });

  it('finds objects by the entity their ownership annotation names, case-insensitively', () => {
    const index = new ObjectIndex<KubeObject>('kustomizations', ['entityRef']);
    const named = (name: string, entityRef?: string): KubeObject => ({
      metadata: {
        namespace: 'flux-system',
        name,
        ...(entityRef && {
          annotations: { 'rollouts.backstage.io/entity-ref': entityRef },
        }),
      },
    });
    index.upsert(named('shop-dev', 'component:default/shop'));
    index.upsert(named('shop-prod', 'Component:default/Shop'));
    index.upsert(named('other-dev', 'component:default/other'));
    index.upsert(named('unnamed'));

    expect(names(index.naming('component:default/shop'))).toEqual([
      'flux-system/shop-dev',
      'flux-system/shop-prod',
    ]);
    expect(index.naming('not a ref')).toEqual([]);
    // Re-annotated for another entity: moved, not kept under both.
    index.upsert(named('shop-prod', 'component:default/other'));
    expect(names(index.naming('component:default/shop'))).toEqual([
      'flux-system/shop-dev',
    ]);
    index.remove(named('shop-dev'));
    index.remove(named('shop-prod'));
    index.remove(named('other-dev'));
    expect(index.indexSizes().namedEntities).toBe(0);
  });

  it('holds and returns more objects than one call can take as arguments (~130k)', () => {
    const count = 200_000;
    const index = new ObjectIndex<KubeObject>('test', EVERY_INDEX);
    for (let i = 0; i < count; i += 1) {
      index.upsert({
        metadata: {
          namespace: `ns-${i % 200}`,
          name: `rs-${i}`,
          labels: { app: 'a' },
        },
      });
    }
    // What the cache did before: one push with every object as an argument.
    expect(() => [].push(...(index.all() as never[]))).toThrow(RangeError);
    expect(index.all()).toHaveLength(count);
    expect(index.matching({ matchLabels: { app: 'a' } })).toHaveLength(count);
    expect(index.inNamespace('ns-7')).toHaveLength(count / 200);
  });

  it('keeps only the indexes it is asked for, and refuses lookups through others', () => {
    const index = new ObjectIndex<KubeObject>('replicasets', ['controller']);
    index.upsert(obj('a', 'rs-1', { app: 'api' }, 'deploy-1'));
    index.upsert(obj('b', 'rs-2', { app: 'api' }, 'deploy-1'));
    expect(names(index.ownedBy('deploy-1'))).toEqual(['a/rs-1', 'b/rs-2']);
    expect(() => index.inNamespace('a')).toThrow(
      'The cache of replicasets keeps no namespace index',
    );
    expect(index.indexSizes()).toMatchObject({ labels: 0, namespaces: 0 });
    // Selectors still match, from every object.
    expect(names(index.matching({ matchLabels: { app: 'api' } }, 'b'))).toEqual(
      ['b/rs-2'],
    );
  });
});
