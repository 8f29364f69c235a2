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

/** Default of `rollouts.signalIntervalMs`. */
export const DEFAULT_SIGNAL_INTERVAL_MS = 500;

/**
 * Reads `rollouts.signalIntervalMs`: at most one change signal per entity per
 * this interval (the first change of a burst goes out at once). Every signal
 * makes each open page reload the status, so this bounds that load.
 */
export function readSignalIntervalMs(config: Config): number {
  const value =
    config.getOptionalNumber('rollouts.signalIntervalMs') ??
    DEFAULT_SIGNAL_INTERVAL_MS;
  if (!Number.isInteger(value) || value < 0 || value > 60_000) {
    throw new Error(
      `rollouts.signalIntervalMs must be a whole number of milliseconds from 0 to 60000, got ${value}`,
    );
  }
  return value;
}
