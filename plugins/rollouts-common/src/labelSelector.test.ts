import {
  formatLabelSelector,
  matchesEqualitySelector,
  matchesLabelSelector,
  parseLabelSelector,
} from './labelSelector';

const labels = {
  'app.kubernetes.io/name': 'demo-api',
  'app.kubernetes.io/slot': 'blue',
  tier: 'web',
};

describe('parseLabelSelector', () => {
  it('parses equality, inequality, set and existence requirements', () => {
    expect(
      parseLabelSelector(
        'app.kubernetes.io/name=demo-api, tier==web,env!=prod,slot in (blue, green),zone notin (a),team,!legacy',
      ),
    ).toEqual({
      matchLabels: { 'app.kubernetes.io/name': 'demo-api', tier: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'slot', operator: 'In', values: ['blue', 'green'] },
        { key: 'zone', operator: 'NotIn', values: ['a'] },
        { key: 'team', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
  });

  it('rejects garbage', () => {
    expect(() => parseLabelSelector('a=b,=c')).toThrow(
      "Invalid label selector requirement '=c'",
    );
    expect(() => parseLabelSelector('a in b')).toThrow();
  });

  it('leaves out the half of the selector it has nothing for', () => {
    expect(parseLabelSelector('a=b')).toEqual({ matchLabels: { a: 'b' } });
    expect(parseLabelSelector('!a')).toEqual({
      matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }],
    });
  });

  it('round-trips through formatLabelSelector', () => {
    const text = 'a=b,c notin (x,y),d,!e';
    expect(formatLabelSelector(parseLabelSelector(text))).toBe(text);
  });
});

describe('matchesLabelSelector', () => {
  it('matches matchLabels and expressions together', () => {
    expect(
      matchesLabelSelector(
        {
          matchLabels: { 'app.kubernetes.io/name': 'demo-api' },
          matchExpressions: [
            { key: 'app.kubernetes.io/slot', operator: 'In', values: ['blue'] },
            { key: 'legacy', operator: 'DoesNotExist' },
          ],
        },
        labels,
      ),
    ).toBe(true);
    expect(
      matchesLabelSelector(
        parseLabelSelector('app.kubernetes.io/slot in (green)'),
        labels,
      ),
    ).toBe(false);
    expect(matchesLabelSelector(parseLabelSelector('tier!=web'), labels)).toBe(
      false,
    );
    expect(matchesLabelSelector(parseLabelSelector('!tier'), labels)).toBe(
      false,
    );
  });

  it('needs every matchLabels entry', () => {
    expect(matchesLabelSelector({ matchLabels: { tier: 'db' } }, labels)).toBe(
      false,
    );
  });

  it('gives each operator its Kubernetes meaning', () => {
    const matches = (
      operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist',
      key: string,
      values?: string[],
    ) =>
      matchesLabelSelector(
        { matchExpressions: [{ key, operator, values }] },
        labels,
      );
    expect(matches('In', 'tier', ['db', 'web'])).toBe(true);
    expect(matches('In', 'tier', ['db'])).toBe(false);
    expect(matches('In', 'zone', ['web'])).toBe(false);
    expect(matches('NotIn', 'tier', ['db'])).toBe(true);
    expect(matches('NotIn', 'zone', ['a'])).toBe(true);
    expect(matches('NotIn', 'tier', ['web'])).toBe(false);
    expect(matches('Exists', 'tier')).toBe(true);
    expect(matches('Exists', 'zone')).toBe(false);
    expect(matches('DoesNotExist', 'zone')).toBe(true);
  });

  it('refuses an operator Kubernetes does not know', () => {
    expect(() =>
      matchesLabelSelector(
        { matchExpressions: [{ key: 'tier', operator: 'Equals' }] },
        labels,
      ),
    ).toThrow("Unknown label selector operator 'Equals'");
  });

  it('treats an empty selector as match-all and a missing one as match-nothing', () => {
    expect(matchesLabelSelector({}, labels)).toBe(true);
    expect(matchesLabelSelector(undefined, labels)).toBe(false);
  });
});

describe('formatLabelSelector', () => {
  it('writes set requirements the way the API server reads them', () => {
    expect(
      formatLabelSelector({
        matchLabels: { app: 'demo' },
        matchExpressions: [
          { key: 'slot', operator: 'In', values: ['blue', 'green'] },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=demo,slot in (blue,green),!legacy');
  });

  it('writes set requirements without values as empty sets', () => {
    expect(
      formatLabelSelector({
        matchExpressions: [
          { key: 'a', operator: 'In' },
          { key: 'b', operator: 'NotIn' },
        ],
      }),
    ).toBe('a in (),b notin ()');
    expect(formatLabelSelector({ matchLabels: { a: 'b' } })).toBe('a=b');
  });

  it('refuses to drop a requirement it cannot write', () => {
    expect(() =>
      formatLabelSelector({
        matchExpressions: [{ key: 'tier', operator: 'Equals' }],
      }),
    ).toThrow("Unknown label selector operator 'Equals'");
  });
});

describe('matchesEqualitySelector', () => {
  it('needs every key to be equal, and an empty selector matches nothing', () => {
    expect(
      matchesEqualitySelector({ 'app.kubernetes.io/slot': 'blue' }, labels),
    ).toBe(true);
    expect(
      matchesEqualitySelector(
        { 'app.kubernetes.io/slot': 'blue', tier: 'db' },
        labels,
      ),
    ).toBe(false);
    expect(matchesEqualitySelector({}, labels)).toBe(false);
  });
});
