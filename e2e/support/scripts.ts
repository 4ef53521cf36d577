import type { Script, Turn } from '@triad/testing';

/** The judge model's reply accepting an answer. */
export const ACCEPT: Turn = { content: '{"verdict":"accept","critique":""}' };

/** A script for goals containing `goal:<name>`: these planner turns (by conversation position), judge accepting. */
export function acceptedScript(name: string, planner: Turn[], judge: Turn[] = [ACCEPT, ACCEPT]): Script {
  return { name, match: `goal:${name}`, turnBy: { planner: 'assistantMessages' }, turns: { planner, judge } };
}
