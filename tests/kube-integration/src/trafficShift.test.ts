/*
 * The definitions behind the blue-green traffic numbers (trafficShift.ts), on made-up
 * samples: no cluster needed.
 */
import { describe, expect, it } from '@jest/globals';
import type { Sample } from './load';
import { lost, measureShift, shiftTable } from './trafficShift';

const PATCH = 10_000;

/** A request sent `at` ms after the PATCH (negative: before), answered 5 ms later. */
function sample(
  at: number,
  version: string | undefined,
  extra: Partial<Sample> = {},
): Sample {
  return {
    mode: 'new connection',
    client: 0,
    connection: at + 100_000,
    sentAt: PATCH + at,
    answeredAt: PATCH + at + 5,
    status: version === undefined ? 0 : 200,
    version,
    ...extra,
  };
}

const keptAlive = (at: number, version: string, client = 1) =>
  sample(at, version, { mode: 'keep-alive', client, connection: client });

function measure(samples: Sample[]) {
  return measureShift({
    phase: 'switch',
    samples,
    patchedAt: PATCH,
    target: '2.0.0',
    actionMs: 1234,
  });
}

describe('measureShift: new connections', () => {
  it('moved: the send time of the last new connection the old version answered after the PATCH', () => {
    const shift = measure([
      sample(-50, '1.0.0'),
      sample(100, '2.0.0'),
      sample(200, '1.0.0'),
      sample(300, '2.0.0'),
      sample(400, '2.0.0'),
    ]);
    expect(shift.newConnectionsMovedMs).toBe(200);
  });

  it('the median request time of new connections: the resolution of that time', () => {
    const shift = measure([
      sample(0, '2.0.0', { answeredAt: PATCH + 10 }),
      sample(1, '2.0.0', { answeredAt: PATCH + 41 }),
      sample(2, '2.0.0', { answeredAt: PATCH + 1002 }),
      keptAlive(3, '2.0.0'),
    ]);
    expect(shift.newConnectionMedianMs).toBe(40);
  });

  it('is 0 when the old version answered no new connection after the PATCH', () => {
    expect(
      measure([sample(-50, '1.0.0'), sample(10, '2.0.0')])
        .newConnectionsMovedMs,
    ).toBe(0);
  });

  it('is undefined when the target never answered after the last old answer', () => {
    expect(
      measure([sample(100, '2.0.0'), sample(200, '1.0.0')])
        .newConnectionsMovedMs,
    ).toBeUndefined();
    expect(
      measure([sample(-50, '1.0.0'), sample(100, '1.0.0')])
        .newConnectionsMovedMs,
    ).toBeUndefined();
  });

  it('ignores kept-alive answers and failed requests', () => {
    const shift = measure([
      sample(100, '2.0.0'),
      keptAlive(500, '1.0.0'),
      sample(600, undefined),
      sample(700, '2.0.0'),
    ]);
    expect(shift.newConnectionsMovedMs).toBe(0);
  });
});

describe('measureShift: kept-alive connections', () => {
  it('a client that stays on the old version: until its last old answer, and still on it at the end', () => {
    const shift = measure([
      keptAlive(-100, '1.0.0'),
      keptAlive(3000, '1.0.0'),
      sample(100, '2.0.0'),
    ]);
    expect(shift.keepAliveOldUntilMs).toBe(3005);
    expect(shift.keepAliveStillOld).toBe(1);
    expect(shift.keepAliveClients).toBe(1);
    expect(shift.observedMs).toBe(3005);
  });

  it('a client that reconnected to the target: until its last old answer, not still on it', () => {
    const shift = measure([
      keptAlive(2000, '1.0.0', 1),
      sample(2500, '2.0.0', { mode: 'keep-alive', client: 1, connection: 7 }),
      keptAlive(100, '2.0.0', 2),
    ]);
    expect(shift.keepAliveOldUntilMs).toBe(2005);
    expect(shift.keepAliveStillOld).toBe(0);
    expect(shift.keepAliveClients).toBe(2);
    expect(shift.keepAliveConnections).toBe(3);
  });

  it('is 0 when no kept-alive connection reached the old version after the PATCH', () => {
    expect(
      measure([keptAlive(-100, '1.0.0'), keptAlive(50, '2.0.0')])
        .keepAliveOldUntilMs,
    ).toBe(0);
  });
});

describe('lost requests', () => {
  it('counts non-2xx answers and connection errors per connection mode', () => {
    const shift = measure([
      sample(1, '2.0.0'),
      sample(2, undefined),
      sample(3, undefined, { status: 503 }),
      sample(4, undefined, { mode: 'keep-alive', client: 1 }),
      keptAlive(5, '2.0.0'),
    ]);
    expect(shift.counts).toEqual({
      'new connection': { requests: 3, non2xx: 1, errors: 1 },
      'keep-alive': { requests: 2, non2xx: 0, errors: 1 },
    });
    expect(lost(shift)).toBe(3);
    expect(lost(measure([sample(1, '2.0.0'), keptAlive(2, '2.0.0')]))).toBe(0);
  });
});

describe('shiftTable', () => {
  it('one aligned row per phase, with the traffic that never moved and the clients left behind', () => {
    const moved = measure([
      sample(-10, '1.0.0'),
      sample(120, '2.0.0'),
      keptAlive(-10, '1.0.0'),
      keptAlive(3995, '1.0.0'),
    ]);
    const stuck = measureShift({
      phase: 'rolling update',
      samples: [sample(50, '1.0.0'), sample(60, undefined)],
      patchedAt: PATCH,
      target: '2.0.0',
      actionMs: 61_000,
    });
    const lines = shiftTable([moved, stuck]);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(
      /^switch \(→ 2\.0\.0\) +\| 1\.23 s +\| 2 \/ 2 +\| 0 +\| 0 +\| 0\.00 s +\| 5 ms +\| 4\.00 s\+ \(1 of 1 clients still on it at the end\)$/,
    );
    expect(lines[2]).toMatch(
      /^rolling update \(→ 2\.0\.0\) \| 61\.00 s +\| 2 \/ 0 +\| 0 +\| 1 +\| never +\| 5 ms +\| 0\.00 s$/,
    );
    const bars = (line: string) => [...line.matchAll(/\|/g)].map(m => m.index);
    expect(bars(lines[1])).toEqual(bars(lines[0]));
    expect(bars(lines[2])).toEqual(bars(lines[0]));
  });
});
