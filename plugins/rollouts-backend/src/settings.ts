import { Config } from '@backstage/config';
import { DEFAULT_SLOT_LABEL } from '@internal/plugin-rollouts-common';
import { RolloutsSettings } from './services/RolloutsService';

/** Reads `rollouts.*` from app config. */
export function readRolloutsSettings(config: Config): RolloutsSettings {
  const switchTimeoutSeconds =
    config.getOptionalNumber('rollouts.switchTimeoutSeconds') ?? 60;
  if (!(switchTimeoutSeconds > 0)) {
    throw new Error('rollouts.switchTimeoutSeconds must be a positive number');
  }
  return {
    slotLabel:
      config.getOptionalString('rollouts.slotLabel') ?? DEFAULT_SLOT_LABEL,
    switchTimeoutMs: switchTimeoutSeconds * 1000,
    longInitialDelaySeconds:
      config.getOptionalNumber('rollouts.longInitialDelaySeconds') ?? 30,
  };
}
