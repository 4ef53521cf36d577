// What each service uses, for the resource requests of deploy/kubernetes: planner, one executor, judge and the
// gateway at default settings (concurrency from the heap, as in a pod), exporting metrics as they do there. Resident
// memory (VmRSS) at rest, then its peak (sampled every 250 ms) and the CPU each process burns (utime + stime from
// /proc/<pid>/stat) while a small load runs: runs through the scripted model answering after 200 ms, 20 in flight,
// each read back from the gateway as it starts and once it has ended.
// CPU is counted in CPU time, not wall time, so a busy machine moves it less than it moves latencies.
import { readFile } from 'node:fs/promises';
import { spawnService } from '../cli/dist/stack/service-processes.js';
import {
  acceptingLoopScript,
  type BenchOptions,
  drive,
  fmt,
  log,
  onCleanup,
  round,
  rssMb,
  sleep,
  startModel,
  startOtlpSink,
  startTriad,
} from './support.ts';

const IN_FLIGHT = 20;
const MODEL_DELAY_MS = 200;
const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

/** CPU seconds a process has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

export async function measureServiceResources(opts: BenchOptions) {
  const total = opts.quick ? 300 : 1000;
  const model = await startModel([acceptingLoopScript('goal:res', MODEL_DELAY_MS)]);
  // Defaults (judge policy, every concurrency) as a pod has them, exporting over OTLP as the example overlay does.
  // (No health listener: the processes share one machine and the listener is a plain node:http server.)
  const sink = await startOtlpSink();
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };
  const triad = await startTriad({ model, defaults: true, env });
  try {
    const gateway = await spawnService({ role: 'gateway', env: { ...triad.env, TRIAD_GATEWAY_PORT: '0' } });
    triad.services.push(gateway);
    const stopGateway = onCleanup('resources gateway', () => gateway.stop(5_000));
    const procs = triad.services.map((s) => ({ name: s.role as string, pid: s.child.pid as number }));
    await sleep(5_000); // settle after start
    const idle = await Promise.all(procs.map((p) => rssMb(p.pid)));
    const peak = [...idle];
    const cpu0 = await Promise.all(procs.map((p) => cpuSeconds(p.pid)));
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const now = await Promise.all(procs.map((p) => rssMb(p.pid)));
        now.forEach((mb, i) => {
          peak[i] = Math.max(peak[i] as number, mb);
        });
        await sleep(250);
      }
    })();
    log(`resources: ${total} runs, ${IN_FLIGHT} in flight, model replies after ${MODEL_DELAY_MS} ms`);
    // The gateway's share: each run read back over HTTP as it starts and when it has ended, as a client would.
    // The ready line is JSON (quotes escaped): `ready (prefix \"x\") on http://127.0.0.1:port`.
    const url = /ready \(prefix .*?\) on (http:\/\/[^\s"]+)/.exec(gateway.output())?.[1];
    if (!url) throw new Error(`no URL in the gateway's ready line:\n${gateway.output().slice(-2000)}`);
    const readBack = (id: string) => fetch(`${url}/v1/runs/${id}`).then((r) => r.arrayBuffer());
    const result = await drive(
      total,
      IN_FLIGHT,
      async (id) => {
        const done = triad.run(id, 'goal:res');
        await readBack(id);
        await done;
        await readBack(id);
      },
      'res',
    );
    sampling = false;
    await sampler;
    const cpu1 = await Promise.all(procs.map((p) => cpuSeconds(p.pid)));
    await stopGateway();
    const figures: Record<string, number> = { resourcesRunsPerSec: round(result.perSec, 1) };
    const rows = procs.map((p, i) => {
      const cpuS = (cpu1[i] as number) - (cpu0[i] as number);
      const cores = cpuS / (result.wallMs / 1000);
      const key = p.name[0]?.toUpperCase() + p.name.slice(1);
      figures[`rssIdleMb${key}`] = round(idle[i] as number, 1);
      figures[`rssPeakMb${key}`] = round(peak[i] as number, 1);
      figures[`cpuMillicores${key}`] = round(cores * 1000, 0);
      figures[`cpuMsPerRun${key}`] = round((cpuS * 1000) / total, 2);
      return {
        measure: `${p.name} under load`,
        value: `${fmt(cores * 1000, 0)} m`,
        note: `RSS ${fmt(idle[i] as number, 0)} MB at rest, ${fmt(peak[i] as number, 0)} MB peak; ${fmt((cpuS * 1000) / total, 2)} ms CPU a run`,
      };
    });
    rows.unshift({
      measure: 'resources load',
      value: `${fmt(result.perSec)} runs/s`,
      note: `${total} runs, ${IN_FLIGHT} in flight, model ${MODEL_DELAY_MS} ms`,
    });
    return { figures, rows };
  } finally {
    await triad.stop();
  }
}
