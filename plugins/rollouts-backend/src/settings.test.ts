import { ConfigReader } from '@backstage/config';
import { readRolloutsSettings, readSignalIntervalMs } from './settings';

describe('readRolloutsSettings', () => {
  it('has defaults', () => {
    expect(readRolloutsSettings(new ConfigReader({}))).toEqual({
      slotLabel: 'app.kubernetes.io/slot',
      switchTimeoutMs: 60000,
      longInitialDelaySeconds: 30,
      keepaliveIntervalMs: 15000,
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
            keepaliveSeconds: 20,
          },
        }),
      ),
    ).toEqual({
      slotLabel: 'color',
      switchTimeoutMs: 5000,
      longInitialDelaySeconds: 60,
      keepaliveIntervalMs: 20000,
    });
    expect(() =>
      readRolloutsSettings(
        new ConfigReader({ rollouts: { switchTimeoutSeconds: 0 } }),
      ),
    ).toThrow(/positive/);
  });
  it('rejects a keepalive that is not positive or longer than 5 minutes', () => {
    for (const bad of [0, -3]) {
      expect(() =>
        readRolloutsSettings(
          new ConfigReader({ rollouts: { keepaliveSeconds: bad } }),
        ),
      ).toThrow('rollouts.keepaliveSeconds must be a positive number');
    }
    expect(() =>
      readRolloutsSettings(
        new ConfigReader({ rollouts: { keepaliveSeconds: 301 } }),
      ),
    ).toThrow(/keepaliveSeconds must be at most 300/);
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
