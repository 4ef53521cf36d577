import type { Script, ToolCallScript, Turn } from '@triad/testing';
import { REPO_ROOT } from '../../cli/src/stack/service-processes.js';

/** The judge model's reply: a verdict on the proposed answer, with a critique. */
export function verdict(decision: 'accept' | 'revise', critique = ''): Turn {
  return { content: JSON.stringify({ verdict: decision, critique }) };
}

/** The judge model's reply accepting an answer. */
export const ACCEPT: Turn = verdict('accept');

/** A script for goals containing `goal:<name>`: these planner turns (by conversation position), judge accepting. */
export function acceptedScript(name: string, planner: Turn[], judge: Turn[] = [ACCEPT, ACCEPT]): Script {
  return { name, match: `goal:${name}`, turnBy: { planner: 'assistantMessages' }, turns: { planner, judge } };
}

/** A calculator call. */
export function calc(id: string, expression: string): ToolCallScript {
  return { id, name: 'calculator', arguments: { expression } };
}

/** A post_webhook call: irreversible, so it waits at an approval gate by default. */
export function postWebhook(id: string, subject: string, message = `about ${subject}`): ToolCallScript {
  return { id, name: 'post_webhook', arguments: { subject, message } };
}

/** A tool call that POSTs JSON to `url`: a side effect, sent with the step's Idempotency-Key. */
export function httpPost(id: string, url: string, body = '{}'): ToolCallScript {
  return { id, name: 'http_post', arguments: { url, body, contentType: 'application/json' } };
}

/** `TRIAD_MCP_SERVERS` for the executor's stdio MCP fixture server (tools `mcp_fixture_*`). */
export const FIXTURE_MCP_SERVERS = JSON.stringify([
  {
    name: 'fixture',
    command: process.execPath,
    args: [`${REPO_ROOT}services/executor/src/mcp/testing/fixture-mcp-server.mjs`],
  },
]);
