import { Flex, Text } from '@backstage/ui';
import {
  StateTone,
  WORKLOAD_STATE_DISPLAY,
  WorkloadState,
} from '@internal/plugin-rollouts-common';

/** The theme's text colour for each tone (neutral states stay grey). */
export const TONE_TEXT_COLOR = {
  danger: 'danger',
  warning: 'warning',
  info: 'info',
  success: 'success',
  neutral: 'secondary',
} as const satisfies Record<StateTone, string>;

const TONE_DOT_COLOR: Record<StateTone, string> = {
  danger: 'var(--bui-fg-negative, #c62828)',
  warning: 'var(--bui-fg-warning, #ef6c00)',
  info: 'var(--bui-fg-announcement, #1565c0)',
  success: 'var(--bui-fg-positive, #2e7d32)',
  neutral: 'var(--bui-fg-secondary, #757575)',
};

/**
 * A coloured dot and a word. The word carries the meaning, so the state reads
 * the same without colour (colour-blind users, screen readers).
 */
export function ToneLabel(props: { tone: StateTone; children: string }) {
  return (
    <Flex gap="1" align="center">
      <span
        aria-hidden
        style={{
          display: 'inline-block',
          flexShrink: 0,
          width: '0.6em',
          height: '0.6em',
          borderRadius: '50%',
          background: TONE_DOT_COLOR[props.tone],
        }}
      />
      <Text weight="bold" color={TONE_TEXT_COLOR[props.tone]}>
        {props.children}
      </Text>
    </Flex>
  );
}

/** A workload's state, coloured. */
export function StateLabel({ state }: { state: WorkloadState }) {
  const { label, tone } = WORKLOAD_STATE_DISPLAY[state];
  return <ToneLabel tone={tone}>{label}</ToneLabel>;
}
