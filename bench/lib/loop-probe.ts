/**
 * Preloaded into the sidecar by bench/big-body.ts (`node --import tsx --import ./bench/lib/loop-probe.ts`):
 * a timer every PROBE_MS (2 ms) notes how late each tick came, i.e. how long the event loop was held, and
 * how much of that the main thread spent on a CPU (Linux's /proc/self/task/<pid>/schedstat, in ns): on a
 * machine shared with other work a stall's wall time includes the time the thread waited for a core, its
 * CPU time does not (it is about what the stall would be on a quiet machine).
 * Over the IPC channel: `reset` starts a window afresh; `report` answers the window's worst delays (wall
 * and CPU) and every delay over 20 ms as [ms since the reset when it ended, wall ms, CPU ms].
 * Nothing of this is in the product; the channel and the timer are unreferenced (they keep nothing alive).
 */
import { readFileSync } from 'node:fs';

const PROBE_MS = 2;
const schedstat = `/proc/self/task/${process.pid}/schedstat`;
const cpuMs = (): number => Number(readFileSync(schedstat, 'latin1').split(' ', 1)[0]) / 1e6;

let start = performance.now();
let last = start;
let lastCpu = cpuMs();
let worst = 0;
let worstCpu = 0;
let delays: Array<[at: number, wall: number, cpu: number]> = [];

const timer = setInterval(() => {
  const now = performance.now();
  const cpu = cpuMs();
  const late = now - last - PROBE_MS;
  const busy = cpu - lastCpu;
  last = now;
  lastCpu = cpu;
  if (late > worst) worst = late;
  if (busy > worstCpu) worstCpu = busy;
  if (late > 20) delays.push([Math.round(now - start), Math.round(late), Math.round(busy)]);
}, PROBE_MS);
timer.unref();

process.on('message', (message: unknown) => {
  if (message === 'reset') {
    start = last = performance.now();
    lastCpu = cpuMs();
    worst = worstCpu = 0;
    delays = [];
    process.send?.({ reset: true });
  } else if (message === 'report') {
    process.send?.({ worst, worstCpu, delays });
  }
});
process.channel?.unref();
