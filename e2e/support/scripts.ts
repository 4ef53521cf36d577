import type { Script, ToolCallScript, Turn } from '@triad/testing';

/** The judge model's reply accepting an answer. */
export const ACCEPT: Turn = { content: '{"verdict":"accept","critique":""}' };

/** A script for goals containing `goal:<name>`: these planner turns (by conversation position), judge accepting. */
export function acceptedScript(name: string, planner: Turn[], judge: Turn[] = [ACCEPT, ACCEPT]): Script {
  return { name, match: `goal:${name}`, turnBy: { planner: 'assistantMessages' }, turns: { planner, judge } };
}

/** A tool call that POSTs JSON to `url`: a side effect, sent with the step's Idempotency-Key. */
export function httpPost(id: string, url: string, body = '{}'): ToolCallScript {
  return { id, name: 'http_post', arguments: { url, body, contentType: 'application/json' } };
}
