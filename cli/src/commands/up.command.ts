import type { TriadConfig } from '@triad/shared';
import { type Command, intOption, UsageError } from './command.js';

/** `triad up`: the whole stack on this machine, until Ctrl-C. */
export const upCommand: Command = {
  name: 'up',
  summary: 'start the local stack (Redis, planner, executors, judge, gateway) until Ctrl-C',
  help: `up [--executors <n>] [--port <port>]

Starts the stack on this machine and keeps it running until Ctrl-C: the Redis at REDIS_URL
(or a private redis-server when none answers; the Redis Cluster of TRIAD_REDIS_CLUSTER when set),
planner, executors, judge and the HTTP gateway.
With no OPENAI_API_KEY and no OPENAI_BASE_URL, the offline demo model answers the demo goal
and the example evals (examples/evals).

Options:
  --executors <n>    executor processes (default 2)
  --port <port>      gateway port (default TRIAD_GATEWAY_PORT, else 8080)`,
  options: { executors: { type: 'string' }, port: { type: 'string' } },
  async run(ctx) {
    if (ctx.args.length) throw new UsageError(`unexpected argument ${ctx.args[0]}`);
    // Loaded here only: the other commands need nothing of the services' plumbing.
    const { ConfigError, loadConfig } = await import('@triad/shared');
    let config: TriadConfig;
    try {
      config = loadConfig();
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(err.message);
      throw err;
    }
    const port = intOption(ctx.values, 'port') ?? config.gateway.port;
    // Loaded here only: the other commands need nothing of the process launcher.
    const { DEMO_GOAL, StartStopped, startLocalStack } = await import('../stack/local-stack.js');
    const { lastLines } = await import('../stack/service-readiness.js');
    const stack = await startLocalStack({
      config,
      executors: intOption(ctx.values, 'executors') ?? 2,
      gatewayPort: port,
      say: (line) => ctx.note(line),
      signal: ctx.signal,
    }).catch((err: unknown) => {
      if (!(err instanceof StartStopped)) throw err;
      ctx.note('stopped while starting; everything it had started is stopped');
      return null;
    });
    if (!stack) return 130;
    try {
      const url = stack.gatewayUrl ?? '';
      const flag = url === 'http://127.0.0.1:8080' ? '' : ` --url ${url}`;
      ctx.note(`gateway: ${url} (Ctrl-C stops everything)`);
      if (stack.offlineModel) ctx.note(`try:     triad${flag} submit --follow "${DEMO_GOAL}"`);
      const died = Promise.race(
        stack.services.map((s) =>
          s.exited.then((code) =>
            [
              `${s.name} exited with code ${code}; its last lines:`,
              ...lastLines(s.output(), 12).map((l) => `  | ${l}`),
            ].join('\n'),
          ),
        ),
      );
      // The signal may have been aborted already (a Ctrl-C as the last service became ready): an abort listener
      // added now would never fire.
      const stopped = new Promise<null>((r) => {
        if (ctx.signal.aborted) r(null);
        else ctx.signal.addEventListener('abort', () => r(null), { once: true });
      });
      const why = await Promise.race([died, stopped]);
      if (why) {
        ctx.note(`stopping: ${why}`);
        return 1;
      }
      ctx.note('stopping…');
      return 0;
    } finally {
      await stack.stop();
    }
  },
};
