/**
 * What the running process's telemetry was started with. Kept apart from the SDK so that code which only starts
 * spans (the model client, the services) does not load the SDK; the preload (register.ts) fills it in.
 */
export interface TelemetryState {
  /** planner, executor, judge, gateway... */
  role: string;
  /** Message content, tool arguments and results go into spans only when this is on. */
  traceContent: boolean;
  /** Whether spans or metrics leave the process (an OTLP endpoint or a metrics port is configured). */
  exporting: boolean;
  /** Flushes and stops the exporters (or just the tracer provider when none); a no-op when nothing was started. */
  shutdown: () => Promise<void>;
}

const state: TelemetryState = { role: 'triad', traceContent: false, exporting: false, shutdown: async () => {} };
let exportLoaded = false;

/** The process's telemetry settings (defaults when the preload did not run, as in unit tests). */
export function telemetryState(): Readonly<TelemetryState> {
  return state;
}

/** Records what the preload started; called once per process. */
export function setTelemetryState(next: Partial<TelemetryState>): void {
  Object.assign(state, next);
}

/** Whether the export machinery (telemetry-export.ts: exporters, meter provider, HTTP instrumentation) was loaded. */
export function exportMachineryLoaded(): boolean {
  return exportLoaded;
}

/** Called by telemetry-export.ts as it is evaluated. */
export function noteExportLoaded(): void {
  exportLoaded = true;
}

/** The role of a service from its entry point (`services/<role>/dist/main.js`), else `triad`. */
export function roleFromEntry(entry: string | undefined): string {
  return /services[\\/]([a-z]+)[\\/]dist[\\/]/.exec(entry ?? '')?.[1] ?? 'triad';
}
