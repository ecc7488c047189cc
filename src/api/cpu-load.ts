// CPU load of this process and of the machine between successive samples (0..1), the figures
// Java reports as getProcessCpuLoad / getSystemCpuLoad; /analyzer/json and the Prometheus
// analyzer export each keep one sampler.

import os from 'node:os';

/** Call sample() before reading; samples closer than 250 ms keep the previous figures. */
export class CpuLoad {
  private lastWall = performance.now();
  private lastProc = process.cpuUsage();
  private lastSys = sysTimes();
  process = 0;
  system = 0;

  sample(): void {
    const wall = performance.now();
    if (wall - this.lastWall < 250) return;
    const proc = process.cpuUsage();
    const sys = sysTimes();
    const cpus = os.availableParallelism();
    const dProc = (proc.user - this.lastProc.user + proc.system - this.lastProc.system) / 1000;
    this.process = clamp01(dProc / ((wall - this.lastWall) * cpus));
    const dTotal = sys.total - this.lastSys.total;
    this.system = dTotal > 0 ? clamp01(1 - (sys.idle - this.lastSys.idle) / dTotal) : 0;
    this.lastWall = wall;
    this.lastProc = proc;
    this.lastSys = sys;
  }
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

function sysTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
  }
  return { idle, total };
}
