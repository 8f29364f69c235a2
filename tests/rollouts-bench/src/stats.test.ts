import { markdownTable, percentile, ratio, summarize } from './stats';

describe('percentile', () => {
  it('picks a measured value by nearest rank', () => {
    const values = Array.from({ length: 20 }, (_, i) => 20 - i); // 20..1
    expect(percentile(values, 50)).toBe(10);
    expect(percentile(values, 95)).toBe(19);
    expect(percentile(values, 100)).toBe(20);
    expect(percentile([7], 95)).toBe(7);
  });

  it('refuses to summarize nothing or a percentile out of range', () => {
    expect(() => percentile([], 95)).toThrow(/measured nothing/);
    expect(() => percentile([1], 0)).toThrow(/\(0, 100\]/);
    expect(() => percentile([1], 101)).toThrow(/\(0, 100\]/);
  });
});

describe('summarize', () => {
  it('gives percentiles, max and mean', () => {
    expect(summarize([4, 1, 3, 2])).toEqual({
      n: 4,
      p50: 2,
      p95: 4,
      p99: 4,
      max: 4,
      mean: 2.5,
    });
  });

  it('rejects values that cannot be latencies', () => {
    expect(() => summarize([1, NaN])).toThrow(/NaN ms is not a measurement/);
    expect(() => summarize([1, -3])).toThrow(/-3 ms/);
  });
});

describe('ratio and markdownTable', () => {
  it('prints ratios against the baseline', () => {
    expect(ratio(1, 4)).toBe('0.25');
    expect(ratio(3, 0)).toBe('n/a');
  });

  it('renders rows and rejects a row that does not fit the header', () => {
    expect(markdownTable(['a', 'b'], [['x', 1.26]])).toBe(
      '| a | b |\n| --- | ---: |\n| x | 1.3 |',
    );
    expect(() => markdownTable(['a', 'b'], [['x']])).toThrow(
      /row has 1 cells, the header 2/,
    );
  });
});
