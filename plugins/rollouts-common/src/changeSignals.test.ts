import { ChangeSignalFilter } from './changeSignals';

describe('ChangeSignalFilter', () => {
  it('reloads once for a change that two replicas both signal', () => {
    const filter = new ChangeSignalFilter();
    const change = {
      type: 'changed',
      cluster: 'local',
      resourceVersion: '4711',
    } as const;
    expect(filter.isNewChange(change)).toBe(true);
    expect(filter.isNewChange({ ...change })).toBe(false);
    expect(filter.isNewChange({ ...change, resourceVersion: '4712' })).toBe(
      true,
    );
  });

  it('tells the same resourceVersion in two clusters apart', () => {
    const filter = new ChangeSignalFilter();
    expect(
      filter.isNewChange({
        type: 'changed',
        cluster: 'a',
        resourceVersion: '9',
      }),
    ).toBe(true);
    expect(
      filter.isNewChange({
        type: 'changed',
        cluster: 'b',
        resourceVersion: '9',
      }),
    ).toBe(true);
  });

  it('always reloads for a change that names no resourceVersion, never for a keepalive', () => {
    const filter = new ChangeSignalFilter();
    const unnamed = { type: 'changed', cluster: 'local' } as const;
    expect(filter.isNewChange(unnamed)).toBe(true);
    expect(filter.isNewChange(unnamed)).toBe(true);
    expect(filter.isNewChange({ type: 'keepalive' })).toBe(false);
  });

  it('forgets the oldest change beyond its capacity', () => {
    const filter = new ChangeSignalFilter(2);
    const change = (rv: string) =>
      ({ type: 'changed', cluster: 'local', resourceVersion: rv } as const);
    filter.isNewChange(change('1'));
    filter.isNewChange(change('2'));
    filter.isNewChange(change('3'));
    expect(filter.isNewChange(change('2'))).toBe(false);
    expect(filter.isNewChange(change('1'))).toBe(true);
  });
});
