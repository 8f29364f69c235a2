import { KubeLabelSelector } from '@golden-path/plugin-rollouts-common';

/**
 * One label as an index term. Label keys cannot contain `=`, so `key=value`
 * names exactly one key and value.
 */
export const labelTerm = (key: string, value: string) => `${key}=${value}`;

/** The index terms of an object's labels, one per label. */
export function labelTerms(labels: Record<string, string> | undefined) {
  return Object.entries(labels ?? {}).map(([k, v]) => labelTerm(k, v));
}

/**
 * Ways to narrow a label selector through a label index: an object the
 * selector matches carries at least one term of *every* group (a
 * `matchLabels` pair is a group of one term, an `In` expression a group of
 * one term per value). Any single group is therefore a complete candidate
 * set; the caller picks the smallest. Empty when the selector only has
 * `NotIn`, `Exists` or `DoesNotExist` requirements, which no term can narrow.
 */
export function selectorTermGroups(selector: KubeLabelSelector): string[][] {
  return selectorLabelGroups(selector).map(group =>
    group.map(([k, v]) => labelTerm(k, v)),
  );
}

/** {@link selectorTermGroups} as `[key, value]` pairs. */
export function selectorLabelGroups(
  selector: KubeLabelSelector,
): Array<Array<[string, string]>> {
  const groups: Array<Array<[string, string]>> = Object.entries(
    selector.matchLabels ?? {},
  ).map(pair => [pair]);
  for (const expr of selector.matchExpressions ?? []) {
    if (expr.operator === 'In') {
      groups.push((expr.values ?? []).map(v => [expr.key, v]));
    }
  }
  return groups;
}
