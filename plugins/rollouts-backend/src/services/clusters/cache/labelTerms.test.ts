import { labelTerms, selectorTermGroups } from './labelTerms';

describe('labelTerms', () => {
  it('names each label by key and value', () => {
    expect(
      labelTerms({ app: 'api', 'app.kubernetes.io/slot': 'blue' }),
    ).toEqual(['app=api', 'app.kubernetes.io/slot=blue']);
    expect(labelTerms(undefined)).toEqual([]);
  });
});

describe('selectorTermGroups', () => {
  it('gives one group per matchLabels pair and per In expression', () => {
    expect(
      selectorTermGroups({
        matchLabels: { app: 'api', tier: 'web' },
        matchExpressions: [
          { key: 'slot', operator: 'In', values: ['blue', 'green'] },
          { key: 'canary', operator: 'DoesNotExist' },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
        ],
      }),
    ).toEqual([['app=api'], ['tier=web'], ['slot=blue', 'slot=green']]);
  });

  it('gives none for selectors no label term can narrow', () => {
    expect(
      selectorTermGroups({
        matchExpressions: [
          { key: 'app', operator: 'Exists' },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
        ],
      }),
    ).toEqual([]);
  });

  it('gives an empty group for In without values (it matches nothing)', () => {
    expect(
      selectorTermGroups({
        matchExpressions: [{ key: 'app', operator: 'In', values: [] }],
      }),
    ).toEqual([[]]);
  });
});
