import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sleep } from '../report';
import { AuditorEvent, parseAuditorEvents } from './auditorEvents';

/** One replica's memory, after a full garbage collection. */
export interface ReplicaMemory {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
}

export interface ReplicaOptions {
  /** Names the replica in logs and file names, e.g. "a". */
  name: string;
  repoRoot: string;
  /** Where the replica's config overlay, log and memory file go. */
  workDir: string;
  /** The shared configuration files (app-config.yaml, production, cluster, test). */
  configFiles: string[];
  /** Environment of every replica: database, cluster, secrets. */
  env: NodeJS.ProcessEnv;
  /** How long start-up may take. */
  readyTimeoutMs?: number;
}

/**
 * Loaded into the backend process with `backstage-cli package start --require`:
 * on request (a `<file>.request` file) it collects garbage and writes the
 * process's memory to `<file>`, so heap numbers are live objects, not garbage
 * waiting for the next collection.
 */
const MEMORY_REPORTER = `
const fs = require('node:fs');
const v8 = require('node:v8');
const vm = require('node:vm');
const file = process.env.REPLICA_MEMORY_FILE;
if (file) {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  setInterval(() => {
    if (!fs.existsSync(file + '.request')) return;
    fs.rmSync(file + '.request', { force: true });
    gc();
    fs.writeFileSync(file + '.tmp', JSON.stringify({ pid: process.pid, ...process.memoryUsage() }));
    fs.renameSync(file + '.tmp', file);
  }, 200).unref();
}
`;

/** A free TCP port on loopback, chosen now (never a fixed one). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

/**
 * One portal backend process (packages/backend, the real one) on a port of its
 * own, started as `backstage-cli package start` does in scripts/lib/backend.sh,
 * in a process group of its own so that stopping it stops the CLI's child too.
 * Its pid goes to `REPLICAS_PID_DIR` (when set) for the calling script's trap.
 */
export class BackendReplica {
  readonly url: string;
  readonly logFile: string;
  private readonly memoryFile: string;
  private child?: ChildProcess;
  /** Start-up time, from spawn to ready. */
  readyMs = 0;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly options: ReplicaOptions,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.logFile = path.join(options.workDir, `replica-${name}.log`);
    this.memoryFile = path.join(options.workDir, `replica-${name}.memory.json`);
  }

  static async start(options: ReplicaOptions): Promise<BackendReplica> {
    const replica = new BackendReplica(options.name, await freePort(), options);
    await replica.spawn();
    return replica;
  }

  private async spawn() {
    const { workDir, repoRoot, configFiles, env } = this.options;
    const overlay = path.join(workDir, `replica-${this.name}.yaml`);
    // JSON is YAML: the replica's own address, nothing else.
    fs.writeFileSync(
      overlay,
      JSON.stringify({
        app: { baseUrl: this.url },
        backend: {
          baseUrl: this.url,
          listen: { host: '127.0.0.1', port: this.port },
          cors: { origin: this.url },
        },
      }),
    );
    // Each replica's CLI restarts its backend when a file the backend loaded
    // changes: the shared reporter is written once, never again.
    const reporter = path.join(workDir, 'memory-reporter.cjs');
    if (!fs.existsSync(reporter)) fs.writeFileSync(reporter, MEMORY_REPORTER);
    const log = fs.openSync(this.logFile, 'a');
    const started = Date.now();
    this.child = spawn(
      'yarn',
      [
        'backstage-cli',
        'package',
        'start',
        '--require',
        reporter,
        ...[...configFiles, overlay].flatMap(f => ['--config', f]),
      ],
      {
        cwd: path.join(repoRoot, 'packages/backend'),
        detached: true,
        stdio: ['ignore', log, log],
        env: {
          ...process.env,
          ...env,
          PORTAL_BASE_URL: this.url,
          REPLICA_MEMORY_FILE: this.memoryFile,
        },
      },
    );
    fs.closeSync(log);
    const pidDir = process.env.REPLICAS_PID_DIR;
    if (pidDir && this.child.pid) {
      fs.writeFileSync(path.join(pidDir, String(this.child.pid)), this.name);
    }
    const timeoutMs = this.options.readyTimeoutMs ?? 300_000;
    for (;;) {
      // The CLI keeps running (it waits for file changes) when the backend
      // itself fails to start: read the backend's verdict from the log too.
      if (
        this.child.exitCode !== null ||
        this.log().includes('Backend startup failed')
      ) {
        throw new Error(
          `replica ${this.name} exited during start-up (log: ${
            this.logFile
          }):\n${this.logTail()}`,
        );
      }
      if (await this.ready()) break;
      if (Date.now() - started > timeoutMs) {
        throw new Error(
          `replica ${this.name} not ready after ${timeoutMs} ms (log: ${
            this.logFile
          }):\n${this.logTail()}`,
        );
      }
      await sleep(1000);
    }
    this.readyMs = Date.now() - started;
  }

  private async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/.backstage/health/v1/readiness`);
      return res.ok;
    } catch {
      return false;
    }
  }

  private logTail(lines = 40): string {
    return this.log().split('\n').slice(-lines).join('\n');
  }

  log(): string {
    return fs.readFileSync(this.logFile, 'utf8');
  }

  auditorEvents(): AuditorEvent[] {
    return parseAuditorEvents(this.log());
  }

  /** The backend process's memory after a garbage collection. */
  async memory(): Promise<ReplicaMemory> {
    fs.rmSync(this.memoryFile, { force: true });
    fs.writeFileSync(`${this.memoryFile}.request`, '');
    for (let waited = 0; waited < 30_000; waited += 100) {
      if (fs.existsSync(this.memoryFile)) {
        const usage = JSON.parse(fs.readFileSync(this.memoryFile, 'utf8'));
        return {
          rssBytes: usage.rss,
          heapUsedBytes: usage.heapUsed,
          heapTotalBytes: usage.heapTotal,
        };
      }
      await sleep(100);
    }
    throw new Error(
      `replica ${this.name} did not report its memory (is ${this.memoryFile} writable?)`,
    );
  }

  /**
   * Stops the process group: TERM, then KILL if any of it (the CLI or the
   * backend it runs) still runs 30 s later, as Kubernetes does at the end of
   * deploy/portal's grace period. Resolves once the whole group is gone, with
   * whether it needed the KILL.
   */
  async stop(): Promise<{ killed: boolean }> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null) return { killed: false };
    const group = -child.pid;
    const signal = (s: NodeJS.Signals | 0) => {
      try {
        process.kill(group, s);
        return true;
      } catch {
        return false; // the group is gone
      }
    };
    signal('SIGTERM');
    // The CLI may exit before the backend it started: wait for the group.
    const deadline = Date.now() + 30_000;
    while (signal(0) && Date.now() < deadline) await sleep(100);
    const killed = signal('SIGKILL');
    const pidDir = process.env.REPLICAS_PID_DIR;
    if (pidDir)
      fs.rmSync(path.join(pidDir, String(child.pid)), { force: true });
    return { killed };
  }
}
