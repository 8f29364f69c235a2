import { SharedValues } from './SharedValues';

describe('SharedValues', () => {
  it('gives every equal value the first instance, frozen', () => {
    const labels = new SharedValues<Record<string, string>>();
    const a = labels.share('app=api', { app: 'api' });
    const b = labels.share('app=api', { app: 'api' });
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(labels.share('app=web', { app: 'web' })).not.toBe(a);
  });

  it('forgets values nobody asked for during a whole generation, never more than two generations', () => {
    const names = new SharedValues<string>(3);
    const first = { v: 'node-1' };
    names.share('node-1', first.v);
    for (let i = 0; i < 10; i += 1) names.share(`other-${i}`, `other-${i}`);
    expect(names.size).toBeLessThanOrEqual(6);

    const objects = new SharedValues<object>(3);
    const kept = objects.share('kept', { k: 1 });
    objects.share('a', {});
    objects.share('b', {});
    // 'kept' moves to the old generation; asked for again, it is promoted.
    objects.share('c', {});
    expect(objects.share('kept', { k: 1 })).toBe(kept);
    for (const k of ['d', 'e', 'f', 'g', 'h']) objects.share(k, {});
    // Not asked for during a whole generation: a new instance from now on.
    expect(objects.share('kept', { k: 1 })).not.toBe(kept);
  });
});
