import fs from 'node:fs';
import { ownCpuMs, parseProcStat, sessionCpuMs } from './cpuTime';

// A real line's shape; the command name has a space and a ')' in it.
const LINE =
  '4242 (node (worker) x) S 4200 4242 4242 0 -1 4194304 1000 0 0 0 250 31 0 0 20 0 11 0 100 0 0';

describe('parseProcStat', () => {
  it('reads the session and user + system time after the command name', () => {
    expect(parseProcStat(LINE)).toEqual({ sessionId: 4242, cpuMs: 2810 });
  });

  it('rejects what is not a stat line', () => {
    expect(() => parseProcStat('no parenthesis here')).toThrow(/stat line/);
    expect(() => parseProcStat('1 (x) S 0 1')).toThrow(/stat line/);
  });
});

describe('CPU time of live processes', () => {
  it('counts this process in its own session and grows with work', () => {
    const { sessionId } = parseProcStat(
      fs.readFileSync('/proc/self/stat', 'utf8'),
    );
    const before = { own: ownCpuMs(), session: sessionCpuMs(sessionId) };
    // Busy until this process has used 150 ms of CPU (on a shared machine that
    // takes longer than 150 ms of wall time).
    while (ownCpuMs() - before.own < 150) {
      // busy
    }
    // /proc counts in ticks of 10 ms.
    expect(sessionCpuMs(sessionId) - before.session).toBeGreaterThanOrEqual(
      130,
    );
  });
});
