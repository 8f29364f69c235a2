import { ConfigReader } from '@backstage/config';
import { readRolloutsSettings } from './settings';

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
