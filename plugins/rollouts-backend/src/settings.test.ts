import { ConfigReader } from '@backstage/config';
import {
  readEntityCacheMs,
  readRolloutsSettings,
  readSignalIntervalMs,
} from './settings';

describe('readRolloutsSettings', () => {
  it('has defaults', () => {
    expect(readRolloutsSettings(new ConfigReader({}))).toEqual({
      slotLabel: 'app.kubernetes.io/slot',
      switchTimeoutMs: 60000,
      longInitialDelaySeconds: 30,
      keepaliveIntervalMs: 15000,
      smokeTest: { path: '/health', requests: 5, timeoutMs: 5000 },
      scaleDownCheckIntervalSeconds: 30,
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
            smokeTest: { path: '/version', requests: 2, timeoutSeconds: 1 },
            scaleDownCheckSeconds: 10,
          },
        }),
      ),
    ).toEqual({
      slotLabel: 'color',
      switchTimeoutMs: 5000,
      longInitialDelaySeconds: 60,
      keepaliveIntervalMs: 20000,
      smokeTest: { path: '/version', requests: 2, timeoutMs: 1000 },
      scaleDownCheckIntervalSeconds: 10,
    });
    expect(() =>
      readRolloutsSettings(
        new ConfigReader({ rollouts: { switchTimeoutSeconds: 0 } }),
      ),
    ).toThrow(/positive/);
  });
  it('rejects a smoke test without a path or with no or too many requests', () => {
    const read = (smokeTest: object) => () =>
      readRolloutsSettings(new ConfigReader({ rollouts: { smokeTest } }));
    expect(read({ path: 'health' })).toThrow(
      "rollouts.smokeTest.path must start with '/', got 'health'",
    );
    for (const requests of [0, 51, 1.5]) {
      expect(read({ requests })).toThrow(
        `rollouts.smokeTest.requests must be a whole number from 1 to 50, got ${requests}`,
      );
    }
    expect(() =>
      readRolloutsSettings(
        new ConfigReader({ rollouts: { scaleDownCheckSeconds: 0 } }),
      ),
    ).toThrow('rollouts.scaleDownCheckSeconds must be a positive number');
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

describe('readEntityCacheMs', () => {
  it('defaults to 5 s, reads 0 to 60 s and rejects anything else', () => {
    const read = (entityCacheSeconds?: number) =>
      readEntityCacheMs(new ConfigReader({ rollouts: { entityCacheSeconds } }));
    expect(read()).toBe(5000);
    expect(read(0)).toBe(0);
    expect(read(0.5)).toBe(500);
    expect(read(60)).toBe(60_000);
    for (const bad of [-1, 61]) {
      expect(() => read(bad)).toThrow(
        `rollouts.entityCacheSeconds must be a number of seconds from 0 to 60, got ${bad}`,
      );
    }
  });
});
