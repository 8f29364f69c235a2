import { runLoad } from './load';

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
