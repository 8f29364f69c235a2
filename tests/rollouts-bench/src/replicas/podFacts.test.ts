import { parseCgroupMemory, PodJson, servingPods } from './podFacts';

const pod = (
  name: string,
  overrides: Partial<PodJson['status']> & { deleting?: boolean } = {},
): PodJson => {
  const { deleting, ...status } = overrides;
  return {
    metadata: {
      name,
      ...(deleting && { deletionTimestamp: '2026-11-30T02:00:00Z' }),
    },
    status: {
      phase: 'Running',
      podIP: `198.19.0.${name.length}`,
      conditions: [{ type: 'Ready', status: 'True' }],
      ...status,
    },
  };
};

describe('servingPods', () => {
  it('keeps Running, Ready pods with an IP, sorted by name', () => {
    expect(servingPods([pod('portal-c'), pod('portal-a')])).toEqual([
      { name: 'portal-a', ip: '198.19.0.8' },
      { name: 'portal-c', ip: '198.19.0.8' },
    ]);
  });

  it('leaves out terminating, unready, pending and address-less pods', () => {
    expect(
      servingPods([
        pod('draining', { deleting: true }),
        pod('unready', { conditions: [{ type: 'Ready', status: 'False' }] }),
        pod('no-conditions', { conditions: undefined }),
        pod('pending', { phase: 'Pending' }),
        pod('no-ip', { podIP: undefined }),
        { metadata: { name: 'no-status' } },
        pod('serving'),
      ]).map(p => p.name),
    ).toEqual(['serving']);
  });
});

describe('parseCgroupMemory', () => {
  it('reads memory.current and the anon line of memory.stat', () => {
    expect(
      parseCgroupMemory('314572800\nanon 209715200\nfile 94371840\n'),
    ).toEqual({ currentBytes: 314572800, anonBytes: 209715200 });
  });

  it('refuses input that is not cgroup v2 memory files', () => {
    // cgroup v1 has no memory.current: cat fails and prints nothing of it.
    expect(() => parseCgroupMemory('')).toThrow(/cgroup v2/);
    expect(() => parseCgroupMemory('max\nanon 1\n')).toThrow(/cgroup v2/);
    expect(() => parseCgroupMemory('100\nfile 5\n')).toThrow(/cgroup v2/);
    expect(() => parseCgroupMemory('100\nanon lots\n')).toThrow(/cgroup v2/);
  });
});
