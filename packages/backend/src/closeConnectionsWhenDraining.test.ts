import type { LifecycleService } from '@backstage/backend-plugin-api';
import {
  closeConnectionsWhenDraining,
  onBeforeShutdown,
} from './closeConnectionsWhenDraining';

function respond(
  middleware: ReturnType<typeof closeConnectionsWhenDraining>['middleware'],
) {
  const headers: Record<string, string> = {};
  const next = jest.fn();
  middleware(
    {} as any,
    {
      setHeader: (name: string, value: string) => (headers[name] = value),
    } as any,
    next,
  );
  expect(next).toHaveBeenCalledWith();
  return headers;
}

describe('closeConnectionsWhenDraining', () => {
  it('keeps connections alive while the backend serves', () => {
    const drain = closeConnectionsWhenDraining();
    expect(respond(drain.middleware)).toEqual({});
  });

  it('asks every client to close its connection once draining starts', () => {
    const drain = closeConnectionsWhenDraining();
    drain.startDraining();
    expect(respond(drain.middleware)).toEqual({ Connection: 'close' });
    expect(respond(drain.middleware)).toEqual({ Connection: 'close' });
  });
});

describe('onBeforeShutdown', () => {
  const lifecycle = { addStartupHook: jest.fn(), addShutdownHook: jest.fn() };

  it('registers the hook on the root lifecycle', () => {
    const addBeforeShutdownHook = jest.fn();
    const hook = () => {};
    expect(
      onBeforeShutdown(
        { ...lifecycle, addBeforeShutdownHook } as unknown as LifecycleService,
        hook,
      ),
    ).toBe(true);
    expect(addBeforeShutdownHook).toHaveBeenCalledWith(hook);
  });

  it('says so when the lifecycle has no such hook', () => {
    expect(
      onBeforeShutdown(lifecycle as unknown as LifecycleService, () => {}),
    ).toBe(false);
  });
});
