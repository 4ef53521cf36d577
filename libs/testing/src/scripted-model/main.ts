// CLI: `node dist/scripted-model/main.js --scenario <file> [--port <n>] [--host <h>]` serves a scenario until killed.
import { parseArgs } from 'node:util';
import { loadScenarioFile } from './scenario.js';
import { startScriptedModelServer } from './scripted-model.server.js';

const USAGE = 'usage: scripted-model --scenario <file.json> [--port <n>] [--host <host>]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { scenario: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } },
  });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!values.scenario || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(USAGE);
  const server = await startScriptedModelServer({
    scenario: await loadScenarioFile(values.scenario),
    port,
    host: values.host,
  });
  console.log(`scripted model listening on ${server.url}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
