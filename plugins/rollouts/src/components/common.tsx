import {
  Badge,
  Button,
  Cell,
  Column,
  ColumnConfig,
  Dialog,
  DialogBody,
  DialogFooter,
  DialogHeader,
  Flex,
  Table,
  TableItem,
  Text,
} from '@backstage/ui';
import { Finding, RolloutPhase } from '@golden-path/plugin-rollouts-common';
import { ReactNode } from 'react';
import { ToneLabel } from './StateLabel';

const PHASE_LABEL: Record<RolloutPhase, string> = {
  complete: 'Rolled out',
  failed: 'Failed',
  'updating-replicas': 'Updating',
  'terminating-old-replicas': 'Terminating old',
  'waiting-for-available': 'Waiting for available',
  'waiting-for-spec-update': 'Waiting for controller',
};

/** A short label for a rollout phase; a paused Deployment says so first. */
export function PhaseBadge({
  phase,
  paused,
}: {
  phase: RolloutPhase;
  paused?: boolean;
}) {
  const label = PHASE_LABEL[phase] ?? phase;
  return <Badge size="small">{paused ? `Paused · ${label}` : label}</Badge>;
}

const SEVERITY_TONE = {
  error: 'danger',
  warning: 'warning',
  info: 'neutral',
} as const;

/** Findings with their explanation, most severe first. */
export function FindingsList({ findings }: { findings: Finding[] }) {
  if (findings.length === 0) {
    return null;
  }
  const order = { error: 0, warning: 1, info: 2 };
  const sorted = [...findings].sort(
    (a, b) => order[a.severity] - order[b.severity],
  );
  return (
    <ul aria-label="Findings" style={{ margin: 0, paddingLeft: '1.2em' }}>
      {sorted.map((f, i) => (
        <li key={`${f.code}-${f.container}-${f.pod ?? ''}-${i}`}>
          <ToneLabel tone={SEVERITY_TONE[f.severity]}>{f.severity}</ToneLabel>{' '}
          <Text weight="bold">
            {f.container}
            {f.pod ? ` (${f.pod})` : ''}
          </Text>{' '}
          <Text>{f.message}</Text>
        </li>
      ))}
    </ul>
  );
}

/** A horizontal bar for a percentage (quota use). */
export function UsageBar({
  percent,
  label,
}: {
  percent?: number;
  label: string;
}) {
  const value = Math.max(0, Math.min(100, percent ?? 0));
  let color = 'var(--bui-fg-positive, #2e7d32)';
  if (value >= 90) color = 'var(--bui-fg-negative, #c62828)';
  else if (value >= 75) color = 'var(--bui-fg-warning, #ef6c00)';
  return (
    <div
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent === undefined ? undefined : value}
      style={{
        width: '100%',
        minWidth: 80,
        height: 8,
        borderRadius: 4,
        background: 'var(--bui-bg-neutral-2, #e0e0e0)',
      }}
    >
      <div
        style={{
          width: `${value}%`,
          height: '100%',
          borderRadius: 4,
          background: color,
        }}
      />
    </div>
  );
}

/** A confirmation dialog for actions that change a cluster. */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  confirmLabel: string;
  busy: boolean;
  destructive?: boolean;
  /** The action cannot be confirmed yet (checks running or failed). */
  confirmDisabled?: boolean;
  children: ReactNode;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Dialog
      isOpen={props.open}
      onOpenChange={isOpen => {
        if (!isOpen) props.onCancel();
      }}
    >
      <DialogHeader>{props.title}</DialogHeader>
      <DialogBody>
        <Flex direction="column" gap="3">
          {props.children}
        </Flex>
      </DialogBody>
      <DialogFooter>
        <Button variant="secondary" onPress={props.onCancel}>
          Cancel
        </Button>
        <Button
          variant="primary"
          destructive={props.destructive}
          isPending={props.busy}
          isDisabled={props.confirmDisabled}
          onPress={props.onConfirm}
        >
          {props.confirmLabel}
        </Button>
      </DialogFooter>
    </Dialog>
  );
}

/** Message of an error from the backend (ResponseError carries the server's). */
export function errorMessage(error: unknown): string {
  const e = error as {
    body?: { error?: { message?: string } };
    message?: string;
  };
  return e?.body?.error?.message ?? e?.message ?? String(error);
}

/** A heading above one of the tab's tables. */
export function SectionTitle({ children }: { children: ReactNode }) {
  return (
    <Text as="h3" variant="title-x-small" weight="bold">
      {children}
    </Text>
  );
}

/**
 * A table cell that shows its whole value, wrapped over lines: Backstage UI's
 * `CellText` cuts long values (images, probe targets, messages) with an
 * ellipsis, which hides what the tab is there to show.
 */
export function TextCell(props: { title: string; description?: string }) {
  return (
    <Cell>
      <Flex direction="column" gap="1">
        <Text as="p" style={{ overflowWrap: 'anywhere' }}>
          {props.title}
        </Text>
        {props.description && (
          <Text
            as="p"
            variant="body-small"
            color="secondary"
            style={{ overflowWrap: 'anywhere' }}
          >
            {props.description}
          </Text>
        )}
      </Flex>
    </Cell>
  );
}

/**
 * A column heading that wraps instead of ending in an ellipsis (Backstage UI
 * cuts long labels such as "Desired / updated / ready / available").
 */
function wrappingHeader<T extends TableItem>(column: ColumnConfig<T>) {
  return () => (
    <Column id={column.id} isRowHeader={column.isRowHeader}>
      <span style={{ whiteSpace: 'normal' }}>{column.label}</span>
    </Column>
  );
}

/** A table that shows all its rows (they are few) and says so when there are none. */
export function FullTable<T extends TableItem>(props: {
  columns: readonly ColumnConfig<T>[];
  rows: T[];
  empty?: string;
}) {
  return (
    <Table
      columnConfig={props.columns.map(c => ({
        ...c,
        header: c.header ?? wrappingHeader(c),
      }))}
      data={props.rows}
      pagination={{ type: 'none' }}
      emptyState={props.empty ? <Text>{props.empty}</Text> : undefined}
    />
  );
}
