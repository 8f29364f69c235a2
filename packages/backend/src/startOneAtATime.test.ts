import { postgresStartLock, startOneAtATime, StartLock } from './startOneAtATime';

/** An in-memory lock: one holder, others queue. */
function memoryLock(events: string[]) {
  let held: Promise<void> = Promise.resolve();
  return (name: string): StartLock => {
    let release: () => void = () => {};
    return {
      async acquire() {
        const previous = held;
        held = new Promise<void>(resolve => {
          release = resolve;
        });
        await previous;
        events.push(`${name} acquired`);
      },
      async release() {
        events.push(`${name} released`);
        release();
      },
    };
  };
}

const tick = () => new Promise(resolve => setTimeout(resolve, 5));

describe('startOneAtATime', () => {
  it('runs the starts of two replicas one after the other', async () => {
    const events: string[] = [];
    const lockFor = memoryLock(events);
    const start = (name: string) => async () => {
      events.push(`${name} starts`);
      await tick();
      events.push(`${name} started`);
    };
    await Promise.all([
      startOneAtATime(start('a'), lockFor('a')),
      startOneAtATime(start('b'), lockFor('b')),
    ]);
    expect(events).toEqual([
      'a acquired',
      'a starts',
      'a started',
      'a released',
      'b acquired',
      'b starts',
      'b started',
      'b released',
    ]);
  });

  it('releases the lock when the start fails, and still fails', async () => {
    const events: string[] = [];
    const lock = memoryLock(events)('a');
    await expect(
      startOneAtATime(() => Promise.reject(new Error('migration')), lock),
    ).rejects.toThrow('migration');
    expect(events).toEqual(['a acquired', 'a released']);
  });

  it('starts at once without a lock', async () => {
    await expect(startOneAtATime(async () => 'up', undefined)).resolves.toBe(
      'up',
    );
  });
});

describe('postgresStartLock', () => {
  it('has no lock without PostgreSQL (SQLite, make start)', () => {
    expect(postgresStartLock({})).toBeUndefined();
  });

  it('makes a lock when the production config has a PostgreSQL host', () => {
    const lock = postgresStartLock({
      POSTGRES_HOST: '127.0.0.1',
      POSTGRES_USER: 'backstage',
    });
    expect(lock).toBeDefined();
  });
});
