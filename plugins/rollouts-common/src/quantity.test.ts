import { formatQuantity, parseQuantity, quantityKind } from './quantity';

describe('parseQuantity', () => {
  it.each([
    ['500m', 0.5],
    ['2', 2],
    ['1.5', 1.5],
    ['250m', 0.25],
    ['100n', 100e-9],
    ['5u', 5e-6],
    ['128Mi', 128 * 1024 * 1024],
    ['1Gi', 1024 ** 3],
    ['1.5Gi', 1.5 * 1024 ** 3],
    ['64Ki', 64 * 1024],
    ['2Ti', 2 * 1024 ** 4],
    ['1k', 1000],
    ['129M', 129e6],
    ['1G', 1e9],
    ['2E', 2e18],
    ['129e6', 129e6],
    ['1E3', 1000],
    ['12e-3', 0.012],
    ['128974848', 128974848],
    ['.5', 0.5],
    ['.25', 0.25],
    ['1.25Gi', 1.25 * 1024 ** 3],
    ['1.', 1],
    ['1e10', 1e10],
    [' 1Gi ', 1024 ** 3],
    ['+3', 3],
  ])('parses %s', (text, expected) => {
    expect(parseQuantity(text)).toBeCloseTo(expected, 12);
  });

  it('accepts numbers as they are', () => {
    expect(parseQuantity(3)).toBe(3);
  });

  it('has no value for a missing quantity, also a null from JSON', () => {
    expect(parseQuantity(undefined)).toBeUndefined();
    expect(parseQuantity(JSON.parse('null'))).toBeUndefined();
  });

  it.each(['', 'abc', '1Mb', '12 Mi', '1..2', 'Mi'])('rejects %p', text => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});

describe('quantityKind', () => {
  it.each([
    ['cpu', 'cpu'],
    ['requests.cpu', 'cpu'],
    ['limits.memory', 'bytes'],
    ['requests.storage', 'bytes'],
    ['requests.ephemeral-storage', 'bytes'],
    ['hugepages-2Mi', 'bytes'],
    ['pods', 'count'],
    ['count/deployments.apps', 'count'],
  ])('%s is %s', (name, kind) => {
    expect(quantityKind(name)).toBe(kind);
  });
});

describe('formatQuantity', () => {
  it('formats cpu', () => {
    expect(formatQuantity(0.25, 'cpu')).toBe('250m');
    expect(formatQuantity(2, 'cpu')).toBe('2');
    expect(formatQuantity(1.5, 'cpu')).toBe('1.5');
    expect(formatQuantity(1, 'cpu')).toBe('1');
    expect(formatQuantity(0, 'cpu')).toBe('0');
  });
  it('formats bytes with binary suffixes', () => {
    expect(formatQuantity(256 * 1024 ** 2, 'bytes')).toBe('256Mi');
    expect(formatQuantity(1.5 * 1024 ** 3, 'bytes')).toBe('1.5Gi');
    expect(formatQuantity(512, 'bytes')).toBe('512');
    expect(formatQuantity(1024, 'bytes')).toBe('1Ki');
    expect(formatQuantity(3 * 1024 ** 4, 'bytes')).toBe('3Ti');
    expect(formatQuantity(1024 ** 5, 'bytes')).toBe('1Pi');
    expect(formatQuantity(2 * 1024 ** 6, 'bytes')).toBe('2Ei');
  });
});
