import { runInterleaved, runLoad } from './load';

describe('runLoad', () => {
  it('sends exactly the requested number with the given concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    let calls = 0;
    const result = await runLoad(
      async () => {
        calls += 1;
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise(r => setTimeout(r, 2));
        inFlight -= 1;
      },
      { total: 120, concurrency: 50 },
    );
    expect(calls).toBe(120);
    expect(peak).toBe(50);
    expect(result.latenciesMs).toHaveLength(120);
    expect(result.failures).toEqual([]);
  });

  it('records failures instead of latencies', async () => {
    let calls = 0;
    const result = await runLoad(
      async () => {
        calls += 1;
        if (calls % 2) throw new Error('HTTP 500');
      },
      { total: 4, concurrency: 2 },
    );
    expect(result.latenciesMs).toHaveLength(2);
    expect(result.failures).toEqual(['HTTP 500', 'HTTP 500']);
  });

  it('rejects a load that sends nothing', async () => {
    await expect(
      runLoad(async () => {}, { total: 0, concurrency: 50 }),
    ).rejects.toThrow(/total > 0/);
  });
});

describe('runInterleaved', () => {
  it('alternates the sides round by round and sends each its total', async () => {
    const log: string[] = [];
    const side = (name: string) => async () => {
      log.push(name);
    };
    const [a, b] = await runInterleaved([side('a'), side('b')], {
      total: 5,
      concurrency: 1,
      rounds: 3,
    });
    // Rounds of 2, 2 and 1 requests per side: a b, then b a, then a b.
    expect(log.join('')).toBe('aabbbbaaab');
    expect(a.latenciesMs).toHaveLength(5);
    expect(b.latenciesMs).toHaveLength(5);
    expect(a.elapsedMs).toBeGreaterThan(0);
  });

  it("adds up each meter's growth over the side's own rounds", async () => {
    // A counter every request of side a adds 10 to and of side b adds 1 to.
    let counter = 0;
    const [a, b] = await runInterleaved(
      [
        async () => {
          counter += 10;
        },
        async () => {
          counter += 1;
        },
      ],
      {
        total: 4,
        concurrency: 2,
        rounds: 2,
        meters: () => ({ counter }),
      },
    );
    expect(a.metered).toEqual({ counter: 40 });
    expect(b.metered).toEqual({ counter: 4 });
  });

  it('rejects more rounds than requests', async () => {
    await expect(
      runInterleaved([async () => {}], {
        total: 2,
        concurrency: 1,
        rounds: 3,
      }),
    ).rejects.toThrow(/whole number of rounds from 1 to total, got 3 for 2/);
  });
});
