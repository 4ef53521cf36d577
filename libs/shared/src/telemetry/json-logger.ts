import type { LoggerService } from '@nestjs/common';
import { context, trace } from '@opentelemetry/api';
import { splitStoreRunId } from '@triad/contracts';
import { type Logger, pino } from 'pino';
import { scrubCredentials } from '../errors/scrub-credentials.js';
import { activeRunId } from './run-context.js';
import { telemetryState } from './telemetry-state.js';

let root: Logger | undefined;

/** The process's JSON logger: one line per entry, with runId, traceId and spanId of the work in progress. */
export function jsonLogger(level = 'info'): Logger {
  root ??= pino(
    {
      level,
      base: { service: telemetryState().role, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // No credential reaches a log line: messages and errors are scrubbed (registered keys, Bearer, sk-).
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? scrubCredentials(a) : a)) as typeof args);
        },
      },
      serializers: { err: (err: Error) => scrubbedError(pino.stdSerializers.err(err)) },
      mixin: () => {
        const ctx = context.active();
        const span = trace.getSpanContext(ctx);
        const runId = activeRunId(ctx);
        return {
          ...(runId ? splitStoreRunId(runId) : {}),
          ...(span ? { traceId: span.traceId, spanId: span.spanId } : {}),
        };
      },
    },
    // Synchronous: the last lines before a crash or process.exit must not be lost.
    pino.destination({ dest: 1, sync: true }),
  );
  return root;
}

/** Nest's LoggerService over the JSON logger; Nest's context (the class name) becomes `context`. */
export class JsonNestLogger implements LoggerService {
  constructor(private readonly logger: Logger = jsonLogger()) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  // Nest passes (message, context) or (message, stack, context) for errors.
  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, rest: unknown[]) {
    const strings = rest.filter((r): r is string => typeof r === 'string');
    const ctx = strings.at(-1);
    const stack = level === 'error' && strings.length > 1 ? strings[0] : undefined;
    const fields = { ...(ctx ? { context: ctx } : {}), ...(stack ? { stack: scrubCredentials(stack) } : {}) };
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ ...fields, ...message });
    else this.logger[level](fields, String(message));
  }
}

/** One line when a run span ends: what ran, for how long, and whether it failed (never its content). */
export function logRunSpan(name: string, ms: number, failure: unknown): void {
  const durationMs = Math.round(ms);
  if (failure === undefined) jsonLogger().info({ span: name, durationMs }, `${name} done`);
  else
    jsonLogger().warn(
      { span: name, durationMs, errorType: failure instanceof Error ? failure.name : 'Error' },
      `${name} failed`,
    );
}

function scrubbedError<T extends { message?: string; stack?: string }>(err: T): T {
  return {
    ...err,
    ...(err.message ? { message: scrubCredentials(err.message) } : {}),
    ...(err.stack ? { stack: scrubCredentials(err.stack) } : {}),
  };
}
