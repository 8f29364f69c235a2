import {
  isNotUpYet,
  postgresStartLock,
  startOneAtATime,
  StartLock,
} from './startOneAtATime';

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
  const env = { POSTGRES_HOST: 'db', POSTGRES_USER: 'backstage' };

  /** Clients that refuse to connect `failures` times, then work. */
  function clients(failures: number) {
    const queries: string[] = [];
    let made = 0;
    const newClient = () => {
      made += 1;
      const refuse = made <= failures;
      return {
        connect: async () => {
          if (refuse) throw new Error('getaddrinfo ENOTFOUND db');
        },
        query: async (text: string) => {
          queries.push(text);
        },
        end: async () => undefined,
      };
    };
    return { newClient, queries, made: () => made };
  }

  it('has no lock without PostgreSQL (SQLite, make start)', () => {
    expect(postgresStartLock({})).toBeUndefined();
  });

  it('waits for PostgreSQL to accept connections, then locks and unlocks', async () => {
    const fake = clients(2);
    const log = jest.fn();
    const lock = postgresStartLock(env, {
      newClient: fake.newClient,
      retryDelayMs: 1,
      log,
    })!;
    await lock.acquire();
    await lock.release();
    expect(fake.made()).toBe(3);
    expect(fake.queries).toEqual([
      'select pg_advisory_lock($1)',
      'select pg_advisory_unlock($1)',
    ]);
    expect(log).toHaveBeenCalledWith(
      expect.stringContaining('waiting for PostgreSQL at db'),
    );
  });

  it('gives up when PostgreSQL stays unreachable', async () => {
    const fake = clients(Infinity);
    const lock = postgresStartLock(env, {
      newClient: fake.newClient,
      retryDelayMs: 5,
      connectTimeoutMs: 30,
      log: () => {},
    })!;
    await expect(lock.acquire()).rejects.toThrow('ENOTFOUND');
    expect(fake.made()).toBeGreaterThan(1);
    expect(fake.queries).toEqual([]);
  });

  it('locks in the maintenance database, which every server has', async () => {
    const configs: { database?: string }[] = [];
    const fake = clients(0);
    const lock = postgresStartLock(env, {
      newClient: config => {
        configs.push(config);
        return fake.newClient();
      },
      log: () => {},
    })!;
    await lock.acquire();
    await lock.release();
    expect(configs.map(c => c.database)).toEqual(['postgres']);
  });

  it('fails at once when the server refuses for good (no waiting)', async () => {
    let made = 0;
    const lock = postgresStartLock(env, {
      newClient: () => {
        made += 1;
        return {
          connect: async () => {
            throw Object.assign(new Error('database "x" does not exist'), {
              code: '3D000',
            });
          },
          query: async () => undefined,
          end: async () => undefined,
        };
      },
      retryDelayMs: 1,
      log: () => {},
    })!;
    await expect(lock.acquire()).rejects.toThrow('does not exist');
    expect(made).toBe(1);
  });
});

describe('isNotUpYet', () => {
  it.each([
    [new Error('connect ECONNREFUSED 10.0.0.1:5432'), true],
    [Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }), true],
    [Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), true],
    [Object.assign(new Error('starting up'), { code: '57P03' }), true],
    [Object.assign(new Error('no database'), { code: '3D000' }), false],
    [Object.assign(new Error('bad password'), { code: '28P01' }), false],
  ])('%s -> %s', (error, expected) => {
    expect(isNotUpYet(error)).toBe(expected);
  });
});
