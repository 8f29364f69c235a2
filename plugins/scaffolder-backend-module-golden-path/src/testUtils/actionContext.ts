import { mockServices } from '@backstage/backend-test-utils';
import type { JsonObject } from '@backstage/types';
import type { ActionContext } from '@backstage/plugin-scaffolder-node';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';

/**
 * An action context as the scaffolder passes it, with the parts the golden-path tests
 * look at: the log lines by level, the outputs by name, and overrides for dry runs,
 * cancellation, checkpoints and the initiator.
 */
export function actionContext<TInput extends JsonObject>(
  input: TInput,
  overrides: Partial<ActionContext<TInput, any>> = {},
) {
  const logger = mockServices.logger.mock();
  // Outputs untyped, as in createMockActionContext: each action declares its own.
  const ctx: ActionContext<TInput, any> = {
    ...createMockActionContext<TInput>({ input, logger }),
    ...overrides,
  };
  const output = jest.fn();
  ctx.output = output;
  return {
    ctx,
    messages: (level: 'info' | 'warn') =>
      (logger[level] as jest.Mock).mock.calls.map(call => String(call[0])),
    outputs: (): Record<string, unknown> =>
      Object.fromEntries(output.mock.calls),
  };
}
