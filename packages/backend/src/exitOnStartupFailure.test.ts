import { exitOnStartupFailure } from './exitOnStartupFailure';

describe('exitOnStartupFailure', () => {
  it('exits with 1 and says why when the start fails', async () => {
    const exit = jest.fn();
    const report = jest.fn();
    await exitOnStartupFailure(
      () => Promise.reject(new Error('Migration table is already locked')),
      exit,
      report,
    );
    expect(exit).toHaveBeenCalledWith(1);
    expect(report).toHaveBeenCalledWith(
      expect.stringContaining('Migration table is already locked'),
    );
  });

  it('names a failure that is not an Error too', async () => {
    const exit = jest.fn();
    const report = jest.fn();
    await exitOnStartupFailure(() => Promise.reject('boom'), exit, report);
    expect(exit).toHaveBeenCalledWith(1);
    expect(report.mock.calls[0][0]).toMatch(/boom$/);
  });

  it('leaves a started backend running', async () => {
    const exit = jest.fn();
    const report = jest.fn();
    await exitOnStartupFailure(() => Promise.resolve(), exit, report);
    expect(exit).not.toHaveBeenCalled();
    expect(report).not.toHaveBeenCalled();
  });
});
