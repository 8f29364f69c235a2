import { beyondUpkeep, upkeepAllowance } from './upkeep';

describe('upkeepAllowance', () => {
  it('allows each informer one re-opened watch per 240 s, plus one', () => {
    expect(upkeepAllowance(10, 9)).toBe(9);
    expect(upkeepAllowance(239, 9)).toBe(9);
    expect(upkeepAllowance(240, 9)).toBe(18);
    expect(upkeepAllowance(600, 9)).toBe(27);
  });
});

describe('beyondUpkeep', () => {
  it('accepts watches and relists within the allowance, or nothing at all', () => {
    expect(beyondUpkeep({}, 60, 9)).toEqual([]);
    expect(beyondUpkeep({ watch: 9, list: 2 }, 60, 9)).toEqual([]);
  });

  it('names any other verb: a page read through the API server, a write', () => {
    expect(beyondUpkeep({ watch: 1, get: 1, patch: 2 }, 60, 9)).toEqual([
      '1 get request(s): upkeep only watches and relists',
      '2 patch request(s): upkeep only watches and relists',
    ]);
  });

  it('names more lists or watches than the informers can make: reloads through the API server', () => {
    // One open page listing 3 kinds on each of 6 reloads in a minute.
    expect(beyondUpkeep({ list: 18 }, 60, 9)).toEqual([
      "18 list requests in 60 s: 9 informers' upkeep makes at most 9",
    ]);
    expect(beyondUpkeep({ watch: 10 }, 60, 9)).toEqual([
      "10 watch requests in 60 s: 9 informers' upkeep makes at most 9",
    ]);
  });
});
