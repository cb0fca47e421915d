/**
 * A measured child process. Our own processes (bench/procs/*, compiled) answer over IPC with
 * `process.cpuUsage()` and sampled RSS (procs/agent.ts); a foreign one (the peer gateway) is read from
 * /proc/<pid>: utime + stime (clock ticks, 10 ms), VmRSS, and VmHWM reset through clear_refs for the peak.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { ProcStats } from '../procs/agent.ts';

export type { ProcStats };

export interface ProcOptions {
  name: string;
  /** argv after `node`. */
  args: string[];
  env?: Record<string, string>;
  /** 'ipc': procs/agent.ts answers; 'proc': read /proc, and wait for `readyUrl` to answer instead. */
  stats: 'ipc' | 'proc';
  readyUrl?: string;
  cwd?: string;
  startTimeoutMs?: number;
}

const CLK_TCK = 100;

export class Proc {
  readonly child: ChildProcess;
  readonly name: string;
  url = '';
  #stderr = '';
  #nextId = 1;
  #pending = new Map<number, (stats: ProcStats) => void>();
  readonly #stats: 'ipc' | 'proc';
  #exited: Promise<void>;

  private constructor(options: ProcOptions) {
    this.name = options.name;
    this.#stats = options.stats;
    this.child = spawn(process.execPath, options.args, {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ...options.env },
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-8192);
    });
    this.child.on('message', (message: { id?: number } & ProcStats) => {
      if (message.id === undefined) return;
      const resolve = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      resolve?.(message);
    });
    this.#exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get stderr(): string {
    return this.#stderr;
  }

  static async start(options: ProcOptions): Promise<Proc> {
    const proc = new Proc(options);
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    const started = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${options.name} did not start within ${timeoutMs} ms: ${proc.stderr.slice(-2000)}`)),
        timeoutMs,
      );
      proc.child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${options.name} exited (${code ?? signal}) before it was ready: ${proc.stderr.slice(-2000)}`));
      });
      if (options.stats === 'ipc') {
        proc.child.on('message', (message: { op?: string; url?: string; message?: string }) => {
          if (message.op === 'ready') {
            clearTimeout(timer);
            resolve(message.url ?? '');
          } else if (message.op === 'failed') {
            clearTimeout(timer);
            reject(new Error(message.message ?? `${options.name} failed`));
          }
        });
      } else {
        const url = options.readyUrl ?? '';
        const poll = async (): Promise<void> => {
          for (;;) {
            try {
              await fetch(url, { signal: AbortSignal.timeout(1000) });
              clearTimeout(timer);
              resolve(url);
              return;
            } catch {
              if (proc.child.exitCode !== null) return;
              await new Promise((r) => setTimeout(r, 200));
            }
          }
        };
        void poll();
      }
    });
    try {
      proc.url = await started;
    } catch (error) {
      await proc.stop();
      throw error;
    }
    return proc;
  }

  /** Resets the RSS peak; returns the stats at that moment. */
  mark(): Promise<ProcStats> {
    return this.#ask('mark');
  }

  stats(): Promise<ProcStats> {
    return this.#ask('stats');
  }

  /** Our own processes only: starts their CPU profiler, or stops it and writes the profile to `file`. */
  profile(op: 'start' | 'stop', file?: string): Promise<ProcStats> {
    return this.#ask(op === 'start' ? 'profile-start' : 'profile-stop', file);
  }

  /** Whether `profile()` works here (our own processes, not a foreign peer read from /proc). */
  get profilable(): boolean {
    return this.#stats === 'ipc';
  }

  #ask(op: 'mark' | 'stats' | 'profile-start' | 'profile-stop', file?: string): Promise<ProcStats> {
    if (this.#stats === 'proc') return Promise.resolve(readProc(this.pid, op === 'mark'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not answer ${op}`)), 30_000);
      this.#pending.set(id, (stats) => {
        clearTimeout(timer);
        resolve(stats);
      });
      this.child.send({ id, op, ...(file ? { file } : {}) });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.#stats === 'ipc' && this.child.connected) this.child.send({ id: 0, op: 'exit' });
    else this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.#exited;
    clearTimeout(killer);
  }
}

/** CPU and memory of any process, from /proc. `reset` clears the peak (VmHWM) through clear_refs. */
function readProc(pid: number, reset: boolean): ProcStats {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuUs = ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLK_TCK;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
  const rssBytes = kb('VmRSS');
  let peakRssBytes = kb('VmHWM');
  if (reset) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      peakRssBytes = rssBytes;
    } catch {
      // without the right to reset it, the peak is the lifetime peak
    }
  }
  return { cpuUs, rssBytes, peakRssBytes, heapUsedBytes: 0 };
}
