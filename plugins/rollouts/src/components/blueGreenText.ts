import {
  BlueGreenPreview,
  SlotScaleDown,
  SwitchCheck,
  SwitchTrafficResponse,
} from '@golden-path/plugin-rollouts-common';

/** A time as the page shows it (the viewer's locale and time zone). */
export function shownTime(rfc3339: string): string {
  return new Date(rfc3339).toLocaleString();
}

/** What the slot table says about a slot's scheduled scale-down. */
export function scaleDownText(state: SlotScaleDown | undefined) {
  switch (state?.state) {
    case 'scheduled':
      return `scales down to 0 at ${shownTime(state.at)}`;
    case 'scaled-down':
      return `scaled down; a rollback restores ${state.replicas} replicas`;
    case 'invalid':
      return `scale-down not understood: ${state.reason}`;
    default:
      return undefined;
  }
}

/** The preview Service in one line: what it selects and its ready endpoints. */
export function previewText(preview: BlueGreenPreview): string {
  const ready = Object.values(preview.endpoints).reduce((a, b) => a + b, 0);
  const notReady = preview.notReadyEndpoints
    ? `, ${preview.notReadyEndpoints} not ready`
    : '';
  return `${preview.service} → ${
    preview.selectorSlot ?? 'no slot'
  } (${ready} ready endpoint${ready === 1 ? '' : 's'}${notReady})`;
}

export const CHECK_LABEL: Record<SwitchCheck['id'], string> = {
  slot: 'Target slot',
  ownership: 'Ownership',
  preview: 'Preview Service',
  'smoke-test': 'Smoke test',
};

/** What a finished switch did besides moving traffic, one sentence each. */
export function switchResultDetails(result: SwitchTrafficResponse): string[] {
  const details: string[] = [];
  if (result.scaledUp) {
    details.push(
      `${result.scaledUp.slot} was scaled back up to ${result.scaledUp.replicas} replicas first.`,
    );
  }
  if (result.cancelledScaleDown) {
    details.push(
      `The scheduled scale-down of ${result.cancelledScaleDown.slot} was cancelled.`,
    );
  }
  if (result.preview) {
    details.push(
      result.preview.repointed
        ? `Preview ${result.preview.service} now selects ${result.preview.to}.`
        : `Preview ${result.preview.service} was not repointed: ${result.preview.reason}`,
    );
  }
  if (result.scaleDown) {
    details.push(
      `${result.scaleDown.slot} keeps running until ${shownTime(
        result.scaleDown.at,
      )}, then scales down to 0 (a rollback before then is instant).`,
    );
  }
  if (result.scaleDownNotScheduled) {
    details.push(
      `The scale-down was not scheduled: ${result.scaleDownNotScheduled}`,
    );
  }
  return details;
}
