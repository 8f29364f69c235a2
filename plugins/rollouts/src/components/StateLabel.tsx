import { Text } from '@backstage/ui';
import {
  StateTone,
  WORKLOAD_STATE_DISPLAY,
  WorkloadState,
} from '@golden-path/plugin-rollouts-common';

/**
 * Each tone in the theme's subdued status colours: tinted background, dark
 * text (light text in the dark theme). The plain status text colours
 * (`Text color="danger"` and the like) are too light on white to read:
 * under 4.5:1, the WCAG AA contrast that the browser test's axe check asks.
 */
const TONE_STYLE: Record<StateTone, { background: string; color: string }> = {
  danger: {
    background: 'var(--bui-negative-bg-subdued)',
    color: 'var(--bui-negative-fg-subdued)',
  },
  warning: {
    background: 'var(--bui-warning-bg-subdued)',
    color: 'var(--bui-warning-fg-subdued)',
  },
  info: {
    background: 'var(--bui-announcement-bg-subdued)',
    color: 'var(--bui-announcement-fg-subdued)',
  },
  success: {
    background: 'var(--bui-positive-bg-subdued)',
    color: 'var(--bui-positive-fg-subdued)',
  },
  neutral: {
    background: 'var(--bui-bg-neutral-2)',
    color: 'var(--bui-fg-primary)',
  },
};

/**
 * A word on a tinted pill. The word carries the meaning, so it reads the same
 * without colour (colour-blind users, screen readers).
 */
export function ToneLabel(props: {
  tone: StateTone;
  children: string;
  /** More on hover, e.g. the message behind the state. */
  title?: string;
}) {
  return (
    <Text
      as="span"
      title={props.title}
      variant="body-small"
      weight="bold"
      data-tone={props.tone}
      style={{
        ...TONE_STYLE[props.tone],
        display: 'inline-block',
        padding: '0.1em 0.6em',
        borderRadius: '1em',
        whiteSpace: 'nowrap',
      }}
    >
      {props.children}
    </Text>
  );
}

/** A workload's state, coloured. */
export function StateLabel({ state }: { state: WorkloadState }) {
  const { label, tone } = WORKLOAD_STATE_DISPLAY[state];
  return <ToneLabel tone={tone}>{label}</ToneLabel>;
}
