import { Entity } from '@backstage/catalog-model';
import { EntityCache } from './EntityCache';

const entity = (name: string, owner = 'group:default/a'): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default' },
  spec: { owner },
});

/** A catalog whose entities the test changes, counting the loads. */
function fakeCatalog() {
  const entities = new Map<string, Entity>();
  const load = jest.fn(async (ref: string) => entities.get(ref));
  return { entities, load };
}

describe('EntityCache', () => {
  it('serves an entity for the TTL from when its load began, then reads it again', async () => {
    const catalog = fakeCatalog();
    catalog.entities.set(
      'component:default/a',
      entity('a', 'group:default/old'),
    );
    let now = 1_000;
    const cache = new EntityCache({
      load: catalog.load,
      ttlMs: 5_000,
      now: () => now,
    });
    expect((await cache.get('component:default/a'))?.spec?.owner).toBe(
      'group:default/old',
    );
    catalog.entities.set(
      'component:default/a',
      entity('a', 'group:default/new'),
    );
    now = 5_999;
    expect((await cache.get('component:default/a'))?.spec?.owner).toBe(
      'group:default/old',
    );
    now = 6_000;
    expect((await cache.get('component:default/a'))?.spec?.owner).toBe(
      'group:default/new',
    );
    expect(catalog.load).toHaveBeenCalledTimes(2);
  });

  it('shares one load among concurrent lookups of a ref', async () => {
    const catalog = fakeCatalog();
    catalog.entities.set('component:default/a', entity('a'));
    const cache = new EntityCache({ load: catalog.load, ttlMs: 5_000 });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => cache.get('component:default/a')),
    );
    expect(new Set(results).size).toBe(1);
    expect(results[0]?.metadata.name).toBe('a');
    expect(catalog.load).toHaveBeenCalledTimes(1);
  });

  it('keeps neither unknown refs nor failed loads', async () => {
    const catalog = fakeCatalog();
    const cache = new EntityCache({ load: catalog.load, ttlMs: 5_000 });
    expect(await cache.get('component:default/new')).toBeUndefined();
    catalog.entities.set('component:default/new', entity('new'));
    expect((await cache.get('component:default/new'))?.metadata.name).toBe(
      'new',
    );

    catalog.load.mockRejectedValueOnce(new Error('catalog down'));
    await expect(cache.get('component:default/other')).rejects.toThrow(
      'catalog down',
    );
    catalog.entities.set('component:default/other', entity('other'));
    expect((await cache.get('component:default/other'))?.metadata.name).toBe(
      'other',
    );
    expect(cache.size).toBe(2);
  });

  it('holds at most maxEntries refs and drops expired ones as it fills', async () => {
    const catalog = fakeCatalog();
    for (const name of ['a', 'b', 'c', 'd']) {
      catalog.entities.set(`component:default/${name}`, entity(name));
    }
    let now = 0;
    const cache = new EntityCache({
      load: catalog.load,
      ttlMs: 1_000,
      maxEntries: 2,
      now: () => now,
    });
    await cache.get('component:default/a');
    await cache.get('component:default/b');
    await cache.get('component:default/c');
    expect(cache.size).toBe(2);
    catalog.load.mockClear();
    await cache.get('component:default/b');
    expect(catalog.load).not.toHaveBeenCalled();
    await cache.get('component:default/a');
    expect(catalog.load).toHaveBeenCalledTimes(1);
    now = 5_000;
    await cache.get('component:default/d');
    expect(cache.size).toBe(1);
  });

  it('refuses a TTL that would not cache', () => {
    const load = fakeCatalog().load;
    expect(() => new EntityCache({ load, ttlMs: 0 })).toThrow(
      'EntityCache needs ttlMs > 0 and maxEntries >= 1, got 0 and undefined',
    );
    expect(() => new EntityCache({ load, ttlMs: 1, maxEntries: 0 })).toThrow(
      /maxEntries >= 1/,
    );
  });
});
