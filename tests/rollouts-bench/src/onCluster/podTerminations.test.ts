import {
  JsonStreamSplitter,
  PodWatchEvent,
  podTerminations,
  WatchedPod,
} from './podTerminations';

const pod = (
  name: string,
  extra: {
    deleting?: boolean;
    exitCode?: number;
  } = {},
): WatchedPod => ({
  metadata: {
    name,
    ...(extra.deleting
      ? {
          deletionTimestamp: '2026-11-30T12:00:30Z',
          deletionGracePeriodSeconds: 30,
        }
      : {}),
  },
  status: {
    containerStatuses: [
      {
        name: 'backend',
        state:
          extra.exitCode === undefined
            ? ({ running: {} } as any)
            : { terminated: { exitCode: extra.exitCode } },
      },
    ],
  },
});

const at = (receivedAt: number, type: string, object: WatchedPod) =>
  ({ type, object, receivedAt } as PodWatchEvent);

describe('podTerminations', () => {
  it('times a pod from its deletion to its container exiting by itself', () => {
    expect(
      podTerminations(
        [
          at(0, 'ADDED', pod('old')),
          at(1_000, 'MODIFIED', pod('old', { deleting: true })),
          at(21_500, 'MODIFIED', pod('old', { deleting: true, exitCode: 0 })),
          at(22_000, 'DELETED', pod('old', { deleting: true, exitCode: 0 })),
          at(2_000, 'ADDED', pod('new')),
        ],
        'backend',
      ),
    ).toEqual([
      {
        pod: 'old',
        gracePeriodSeconds: 30,
        stopSeconds: 20.5,
        exitCode: 0,
        killed: false,
      },
    ]);
  });

  it('calls a container that exited 137 killed', () => {
    const [t] = podTerminations(
      [
        at(0, 'MODIFIED', pod('old', { deleting: true })),
        at(30_100, 'MODIFIED', pod('old', { deleting: true, exitCode: 137 })),
      ],
      'backend',
    );
    expect(t).toMatchObject({ exitCode: 137, killed: true });
  });

  it('calls a pod that went only when its grace period had passed killed, even when no exit was seen', () => {
    const [t] = podTerminations(
      [
        at(0, 'MODIFIED', pod('old', { deleting: true })),
        at(30_200, 'DELETED', pod('old', { deleting: true })),
      ],
      'backend',
    );
    expect(t).toMatchObject({ stopSeconds: 30.2, killed: true });
  });

  it('leaves the stop time unset while the pod still runs', () => {
    const [t] = podTerminations(
      [at(0, 'MODIFIED', pod('old', { deleting: true }))],
      'backend',
    );
    expect(t).toEqual({
      pod: 'old',
      gracePeriodSeconds: 30,
      stopSeconds: undefined,
      exitCode: undefined,
      killed: false,
    });
  });

  it('reads only the named container', () => {
    const sidecar: WatchedPod = {
      metadata: pod('old', { deleting: true }).metadata,
      status: {
        containerStatuses: [
          { name: 'proxy', state: { terminated: { exitCode: 137 } } },
        ],
      },
    };
    const [t] = podTerminations(
      [
        at(0, 'MODIFIED', sidecar),
        at(5_000, 'MODIFIED', pod('old', { deleting: true, exitCode: 0 })),
      ],
      'backend',
    );
    expect(t).toMatchObject({ stopSeconds: 5, exitCode: 0, killed: false });
  });
});

describe('JsonStreamSplitter', () => {
  it('returns each indented document once it is complete, across chunks', () => {
    const splitter = new JsonStreamSplitter();
    const first = JSON.stringify({ type: 'ADDED', object: { a: 1 } }, null, 4);
    const second = JSON.stringify({ type: 'DELETED', object: { b: [2] } });
    const stream = `${first}\n${second}\n`;
    expect(splitter.push(stream.slice(0, 10))).toEqual([]);
    expect(splitter.push(stream.slice(10, first.length + 5))).toEqual([
      { type: 'ADDED', object: { a: 1 } },
    ]);
    expect(splitter.push(stream.slice(first.length + 5))).toEqual([
      { type: 'DELETED', object: { b: [2] } },
    ]);
  });

  it('is not misled by braces and escaped quotes inside strings', () => {
    const doc = { message: 'a } b { "quoted \\" }', nested: { x: '}' } };
    const text = JSON.stringify(doc);
    const splitter = new JsonStreamSplitter();
    expect(splitter.push(text.slice(0, 17))).toEqual([]);
    expect(splitter.push(text.slice(17))).toEqual([doc]);
  });
});
