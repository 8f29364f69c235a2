import { WatchedEntityIndex } from './watchedEntityIndex';

const byId = (id: string) => ({
  labelSelector: { matchLabels: { 'backstage.io/kubernetes-id': id } },
});
const sorted = (s: Set<string>) => [...s].sort();

describe('WatchedEntityIndex', () => {
  it('finds entities by the namespace of the change, per cluster', () => {
    const index = new WatchedEntityIndex();
    index.set('a', byId('a'), new Map([['local', new Set(['ns-a'])]]));
    index.set(
      'b',
      byId('b'),
      new Map([
        ['local', new Set(['ns-b'])],
        ['other', new Set(['ns-a'])],
      ]),
    );

    expect(sorted(index.candidates('local', 'ns-a', {}))).toEqual(['a']);
    expect(sorted(index.candidates('other', 'ns-a', {}))).toEqual(['b']);
    expect(sorted(index.candidates('local', 'kube-system', {}))).toEqual([]);
  });

  it('finds entities by the labels of the changed object, in any namespace', () => {
    const index = new WatchedEntityIndex();
    index.set('a', byId('a'), new Map());
    index.set(
      'slots',
      {
        labelSelector: {
          matchLabels: { app: 'api', team: 'x' },
          matchExpressions: [
            { key: 'slot', operator: 'In', values: ['blue', 'green'] },
          ],
        },
      },
      new Map(),
    );
    expect(
      sorted(
        index.candidates('local', 'anywhere', {
          'backstage.io/kubernetes-id': 'a',
        }),
      ),
    ).toEqual(['a']);
    // Filed under one term of one group: an object with that term is a candidate.
    expect(sorted(index.candidates('local', 'x', { app: 'api' }))).toEqual([
      'slots',
    ]);
    expect(sorted(index.candidates('local', 'x', { other: 'api' }))).toEqual(
      [],
    );
  });

  it("finds entities named by the changed object's ownership annotation", () => {
    const index = new WatchedEntityIndex();
    index.set('component:default/shop', byId('shop'), new Map());
    index.set('component:default/other', byId('other'), new Map());
    expect(
      sorted(
        index.candidates('local', 'flux-system', {}, 'Component:default/Shop'),
      ),
    ).toEqual(['component:default/shop']);
    expect(
      sorted(index.candidates('local', 'flux-system', {}, 'not a ref')),
    ).toEqual([]);
    index.delete('component:default/shop');
    expect(
      sorted(
        index.candidates('local', 'flux-system', {}, 'component:default/shop'),
      ),
    ).toEqual([]);
  });

  it('makes an entity no term can narrow a candidate for every change', () => {
    const index = new WatchedEntityIndex();
    index.set(
      'wide',
      {
        labelSelector: {
          matchExpressions: [{ key: 'app', operator: 'Exists' }],
        },
      },
      new Map(),
    );
    expect(sorted(index.candidates('local', 'x', {}))).toEqual(['wide']);
  });

  it('re-files an entity whose namespaces or selector changed, and forgets deleted ones', () => {
    const index = new WatchedEntityIndex();
    index.set('a', byId('a'), new Map([['local', new Set(['old'])]]));
    index.set('a', byId('renamed'), new Map([['local', new Set(['new'])]]));
    expect(
      sorted(
        index.candidates('local', 'old', { 'backstage.io/kubernetes-id': 'a' }),
      ),
    ).toEqual([]);
    expect(sorted(index.candidates('local', 'new', {}))).toEqual(['a']);

    index.delete('a');
    expect(
      sorted(
        index.candidates('local', 'new', {
          'backstage.io/kubernetes-id': 'renamed',
        }),
      ),
    ).toEqual([]);
    expect(index.sizes()).toEqual({
      entities: 0,
      namespaces: 0,
      labels: 0,
      unindexed: 0,
      namedEntities: 0,
    });
  });

  it('looks at no entity of other namespaces and labels, however many are watched', () => {
    const index = new WatchedEntityIndex();
    for (let i = 0; i < 4000; i += 1) {
      index.set(
        `e${i}`,
        byId(`e${i}`),
        new Map([['local', new Set([`ns-${i % 200}`])]]),
      );
    }
    expect(
      index.candidates('local', 'ns-7', { 'backstage.io/kubernetes-id': 'e7' })
        .size,
    ).toBe(20);
    expect(index.candidates('local', 'elsewhere', { app: 'x' }).size).toBe(0);
  });
});
