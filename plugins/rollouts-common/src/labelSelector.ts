import { KubeLabelSelector } from './kube';

/** One requirement of a label selector. @public */
export type LabelRequirement =
  | { key: string; operator: 'In' | 'NotIn'; values: string[] }
  | { key: string; operator: 'Exists' | 'DoesNotExist' };

function requirementsOf(selector: KubeLabelSelector): LabelRequirement[] {
  const result: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    result.push({ key, operator: 'In', values: [value] });
  }
  for (const expr of selector.matchExpressions ?? []) {
    if (expr.operator === 'In' || expr.operator === 'NotIn') {
      result.push({
        key: expr.key,
        operator: expr.operator,
        values: expr.values ?? [],
      });
    } else if (expr.operator === 'Exists' || expr.operator === 'DoesNotExist') {
      result.push({ key: expr.key, operator: expr.operator });
    } else {
      throw new Error(`Unknown label selector operator '${expr.operator}'`);
    }
  }
  return result;
}

function matchesRequirement(
  labels: Record<string, string>,
  req: LabelRequirement,
): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  switch (req.operator) {
    case 'In':
      return has && req.values.includes(labels[req.key]);
    case 'NotIn':
      return !has || !req.values.includes(labels[req.key]);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      return false;
  }
}

/**
 * Whether labels match a structured label selector. As in Kubernetes, an empty
 * selector (`{}`) matches everything.
 *
 * @public
 */
export function matchesLabelSelector(
  selector: KubeLabelSelector | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector) {
    return false;
  }
  const actual = labels ?? {};
  return requirementsOf(selector).every(r => matchesRequirement(actual, r));
}

/**
 * Whether labels match a Service-style equality selector (`spec.selector`).
 * An empty or missing selector matches nothing, as for Services.
 *
 * @public
 */
export function matchesEqualitySelector(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector || Object.keys(selector).length === 0) {
    return false;
  }
  const actual = labels ?? {};
  return Object.entries(selector).every(([k, v]) => actual[k] === v);
}

const KEY = String.raw`[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?`;
const VALUE = String.raw`([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?`;

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map(p => p.trim()).filter(p => p.length > 0);
}

/**
 * Parses a string label selector, as used by `kubectl -l` and the
 * `backstage.io/kubernetes-label-selector` annotation, into a structured
 * selector: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x,y)`, `a`, `!a`.
 *
 * @throws Error when the selector is not valid.
 * @public
 */
export function parseLabelSelector(text: string): KubeLabelSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: NonNullable<KubeLabelSelector['matchExpressions']> =
    [];
  const patterns: [RegExp, (m: RegExpExecArray) => void][] = [
    [
      new RegExp(`^(${KEY})\\s*(==|=)\\s*(${VALUE})$`),
      m => {
        matchLabels[m[1]] = m[4];
      },
    ],
    [
      new RegExp(`^(${KEY})\\s*!=\\s*(${VALUE})$`),
      m => {
        matchExpressions.push({ key: m[1], operator: 'NotIn', values: [m[3]] });
      },
    ],
    [
      new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`),
      m => {
        const values = m[4]
          .split(',')
          .map(v => v.trim())
          .filter(v => v.length > 0);
        matchExpressions.push({
          key: m[1],
          operator: m[3] === 'in' ? 'In' : 'NotIn',
          values,
        });
      },
    ],
    [
      new RegExp(`^!\\s*(${KEY})$`),
      m => {
        matchExpressions.push({ key: m[1], operator: 'DoesNotExist' });
      },
    ],
    [
      new RegExp(`^(${KEY})$`),
      m => {
        matchExpressions.push({ key: m[1], operator: 'Exists' });
      },
    ],
  ];
  for (const part of splitTopLevel(text)) {
    const matched = patterns.some(([re, apply]) => {
      const m = re.exec(part);
      if (m) {
        apply(m);
        return true;
      }
      return false;
    });
    if (!matched) {
      throw new Error(`Invalid label selector requirement '${part}'`);
    }
  }
  return {
    ...(Object.keys(matchLabels).length > 0 && { matchLabels }),
    ...(matchExpressions.length > 0 && { matchExpressions }),
  };
}

/**
 * Formats a structured selector as the string form the API server accepts in
 * the `labelSelector` query parameter.
 *
 * @public
 */
export function formatLabelSelector(selector: KubeLabelSelector): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    parts.push(`${k}=${v}`);
  }
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'In')
      parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn')
      parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    // Leaving it out would widen the selector: the query would match more objects.
    else throw new Error(`Unknown label selector operator '${e.operator}'`);
  }
  return parts.join(',');
}
