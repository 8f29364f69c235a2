import fs from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, ms) of one /proc/<pid>/stat line, and the session it
 * belongs to. The command name (field 2) may hold spaces and parentheses, so
 * the fields are counted from its last ')'.
 */
export function parseProcStat(line: string): {
  sessionId: number;
  cpuMs: number;
} {
  const close = line.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${line}`);
  // After ")": state(3) ppid(4) pgrp(5) session(6) ... utime(14) stime(15).
  const fields = line
    .slice(close + 2)
    .trim()
    .split(' ');
  const at = (field: number) => Number(fields[field - 3]);
  const [sessionId, utime, stime] = [at(6), at(14), at(15)];
  if (![sessionId, utime, stime].every(Number.isInteger)) {
    throw new Error(`not a /proc/<pid>/stat line: ${line}`);
  }
  return { sessionId, cpuMs: ((utime + stime) * 1000) / TICKS_PER_SECOND };
}

/**
 * CPU time (ms) used so far by the live processes of one session, e.g. the
 * backend that scripts/lib/backend.sh starts under setsid (dev mode: yarn,
 * backstage-cli and the backend's node). Processes that exited are not
 * counted, so take differences over a time none of them exits in.
 */
export function sessionCpuMs(sessionId: number): number {
  let total = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let line: string;
    try {
      line = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const stat = parseProcStat(line);
    if (stat.sessionId === sessionId) total += stat.cpuMs;
  }
  return total;
}

/** CPU time (ms, user + system) of this process so far: the load generator. */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
