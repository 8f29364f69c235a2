/**
 * Kubernetes resource quantities (`resource.Quantity`).
 */

const BINARY_SUFFIXES: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const DECIMAL_SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY_PATTERN =
  /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|n|u|m|k|M|G|T|P|E)?$/;

/**
 * Parses a Kubernetes quantity such as `500m`, `1.5Gi`, `128974848`, `129e6`,
 * `129M` or `123Mi` into a plain number (cores for CPU, bytes for memory).
 *
 * @returns the value, or `undefined` when the string is not a valid quantity.
 * @public
 */
export function parseQuantity(
  quantity: string | number | undefined,
): number | undefined {
  if (quantity === undefined || quantity === null) {
    return undefined;
  }
  if (typeof quantity === 'number') {
    return Number.isFinite(quantity) ? quantity : undefined;
  }
  const match = QUANTITY_PATTERN.exec(quantity.trim());
  if (!match) {
    return undefined;
  }
  const value = Number(match[1]);
  const suffix = match[2] ?? '';
  if (suffix in BINARY_SUFFIXES) {
    return value * BINARY_SUFFIXES[suffix];
  }
  if (/^[eE][+-]?\d+$/.test(suffix)) {
    return value * 10 ** Number(suffix.slice(1));
  }
  return value * DECIMAL_SUFFIXES[suffix];
}

/** What kind of amount a resource name measures. @public */
export type QuantityKind = 'cpu' | 'bytes' | 'count';

/**
 * Tells from a resource name (`cpu`, `requests.memory`, `limits.cpu`,
 * `requests.storage`, `pods`, `count/deployments.apps`...) how to show it.
 *
 * @public
 */
export function quantityKind(resourceName: string): QuantityKind {
  const base = resourceName.replace(/^(requests|limits)\./, '');
  if (base === 'cpu') {
    return 'cpu';
  }
  if (
    base === 'memory' ||
    base === 'storage' ||
    base === 'ephemeral-storage' ||
    base.startsWith('hugepages-')
  ) {
    return 'bytes';
  }
  return 'count';
}

function trimNumber(value: number, digits: number): string {
  return String(Number(value.toFixed(digits)));
}

/**
 * Formats a parsed quantity for humans: CPU as cores or millicores, bytes with
 * binary suffixes, counts as plain numbers.
 *
 * @public
 */
export function formatQuantity(value: number, kind: QuantityKind): string {
  if (kind === 'cpu') {
    if (value !== 0 && Math.abs(value) < 1) {
      return `${trimNumber(value * 1000, 1)}m`;
    }
    return trimNumber(value, 3);
  }
  if (kind === 'bytes') {
    const units = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'];
    for (const unit of units) {
      const size = BINARY_SUFFIXES[unit];
      if (Math.abs(value) >= size) {
        return `${trimNumber(value / size, 2)}${unit}`;
      }
    }
    return `${trimNumber(value, 0)}`;
  }
  return trimNumber(value, 3);
}
