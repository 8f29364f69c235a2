import { ConfigReader } from '@backstage/config';
import { readRolloutsSettings, readSignalIntervalMs } from './settings';

describe('readRolloutsSettings', () => {
  it('has defaults', () => {
    expect(readRolloutsSettings(new ConfigReader({}))).toEqual({
      slotLabel: 'app.kubernetes.io/slot',
      switchTimeoutMs: 60000,
      longInitialDelaySeconds: 30,
    });
  });
  it('reads rollouts.* and rejects a bad timeout', () => {
    expect(
      readRolloutsSettings(
        new ConfigReader({
          rollouts: {
            slotLabel: 'color',
            switchTimeoutSeconds: 5,
            longInitialDelaySeconds: 60,
          },
        }),
      ),
    ).toEqual({
      slotLabel: 'color',
      switchTimeoutMs: 5000,
      longInitialDelaySeconds: 60,
    });
    expect(() =>
      readRolloutsSettings(
        new ConfigReader({ rollouts: { switchTimeoutSeconds: 0 } }),
      ),
    ).toThrow(/positive/);
  });
});

describe('readSignalIntervalMs', () => {
  it('defaults to 500 ms and reads rollouts.signalIntervalMs', () => {
    expect(readSignalIntervalMs(new ConfigReader({}))).toBe(500);
    expect(
      readSignalIntervalMs(
        new ConfigReader({ rollouts: { signalIntervalMs: 2000 } }),
      ),
    ).toBe(2000);
  });
  it('rejects an interval that is not a whole number of milliseconds in range', () => {
    for (const bad of [-1, 1.5, 120_000]) {
      expect(() =>
        readSignalIntervalMs(
          new ConfigReader({ rollouts: { signalIntervalMs: bad } }),
        ),
      ).toThrow(/signalIntervalMs must be a whole number .* from 0 to 60000/);
    }
  });
});
