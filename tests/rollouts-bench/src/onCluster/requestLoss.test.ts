import {
  lossReason,
  missingSends,
  RequestOutcome,
  summarizeLoss,
} from './requestLoss';

const ok = (startedAt: number, ms = 10): RequestOutcome => ({
  kind: 'readiness',
  startedAt,
  endedAt: startedAt + ms,
  status: 200,
});

describe('lossReason', () => {
  it('accepts only the expected status', () => {
    expect(lossReason(ok(0))).toBeUndefined();
    expect(lossReason({ ...ok(0), status: 503 })).toBe('HTTP 503');
    expect(lossReason({ ...ok(0), status: 204 }, 204)).toBeUndefined();
    expect(lossReason(ok(0), 204)).toBe('HTTP 200');
  });

  it('names the network error of a request without an answer', () => {
    expect(
      lossReason({ kind: 'x', startedAt: 0, endedAt: 5, error: 'ECONNRESET' }),
    ).toBe('ECONNRESET');
    expect(lossReason({ kind: 'x', startedAt: 0, endedAt: 5 })).toBe(
      'no answer',
    );
  });
});

describe('summarizeLoss', () => {
  it('counts every request and every loss by reason', () => {
    const summary = summarizeLoss([
      ok(0, 12),
      { kind: 'status', startedAt: 100, endedAt: 130, status: 503 },
      ok(200, 40),
      { kind: 'readiness', startedAt: 300, endedAt: 301, error: 'ECONNRESET' },
      { kind: 'readiness', startedAt: 400, endedAt: 402, error: 'ECONNRESET' },
    ]);
    expect(summary).toEqual({
      sent: 5,
      lost: 3,
      lostBy: { 'HTTP 503': 1, ECONNRESET: 2 },
      firstLostAt: 100,
      lastLostAt: 400,
      slowestMs: 40,
    });
  });

  it('reports no loss when every request was answered', () => {
    const summary = summarizeLoss([ok(0), ok(50, 25)]);
    expect(summary.lost).toBe(0);
    expect(summary.lostBy).toEqual({});
    expect(summary.firstLostAt).toBeUndefined();
    expect(summary.slowestMs).toBe(25);
  });

  it('refuses an outcome that ends before it starts (a clock or recording bug)', () => {
    expect(() =>
      summarizeLoss([{ kind: 'x', startedAt: 10, endedAt: 5, status: 200 }]),
    ).toThrow(/ended before it started/);
    expect(() =>
      summarizeLoss([{ kind: 'x', startedAt: 10, endedAt: NaN, status: 200 }]),
    ).toThrow(/ended before it started/);
  });
});

describe('missingSends', () => {
  it('counts the requests a stalled generator did not send', () => {
    // 10 s at 20/s = 200 expected, 5 % (10) may be lost to timer drift.
    expect(missingSends(200, 10_000, 20)).toBe(0);
    expect(missingSends(190, 10_000, 20)).toBe(0);
    expect(missingSends(189, 10_000, 20)).toBe(1);
    expect(missingSends(150, 10_000, 20)).toBe(40);
    expect(missingSends(150, 10_000, 20, 0)).toBe(49); // one tick of jitter
  });

  it('refuses a load without a rate or a window', () => {
    expect(() => missingSends(1, 1000, 0)).toThrow(/bad load shape/);
    expect(() => missingSends(1, -1, 5)).toThrow(/bad load shape/);
    expect(() => missingSends(1, 1000, 5, -0.1)).toThrow(/bad load shape/);
  });
});
