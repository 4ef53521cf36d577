import type { ChildProcess } from 'node:child_process';

// Should this process end without stopping what it started (an uncaught error, a process.exit, a closed stdout
// pipe), its children go too: a service left running would go on taking jobs from the queues, a private Redis
// would hold its port.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Kills `child` (SIGKILL) when this process exits while the child still runs. */
export function exitWithThisProcess(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  running.add(child);
  child.once('exit', () => running.delete(child));
}
