// The client library's event stream against the real gateway: the connection is cut mid-run (a TCP proxy in
// between drops it), the client reconnects with Last-Event-ID and sees every event of the run once, in order.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TriadClient } from '@triad/client';
import type { StoredRunEvent } from '@triad/shared';
import { GatewayClient } from './support/gateway-harness.js';
import { acceptedScript } from './support/scripts.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { TriadHarness } from './support/triad-harness.js';

let triad: TriadHarness;
let proxy: TcpProxy;

beforeAll(async () => {
  triad = await TriadHarness.start({
    executors: 1,
    scenario: {
      scripts: [
        acceptedScript('resume', [
          { content: 'Sum first.', toolCalls: [{ id: 'c1', name: 'calculator', arguments: { expression: '20+22' } }] },
          // Slow enough that the run is still going when the stream is cut after the observation.
          { content: 'It is {{tool:c1.data.result}}.', delayMs: 2_500 },
        ]),
      ],
    },
  });
  const gateway = await GatewayClient.start(triad);
  proxy = await TcpProxy.start(Number(new URL(gateway.url).port));
});
afterAll(async () => {
  await proxy?.close();
  await triad?.stop();
});

describe('the client’s event stream through the real gateway', () => {
  it('resumes after a dropped connection with Last-Event-ID and yields every event once, in order', async () => {
    const client = new TriadClient({ baseUrl: proxy.url });
    const { runId } = await client.submit({ goal: 'goal:resume', runId: 'client-resume' });
    const seen: StoredRunEvent[] = [];
    let droppedAfter: number | null = null;
    for await (const event of client.events(runId, { retryDelayMs: 50 })) {
      seen.push(event);
      if (event.type === 'observation' && droppedAfter === null) {
        droppedAfter = seen.length;
        proxy.dropAll();
      }
    }
    expect(droppedAfter).not.toBeNull();
    const stored = await triad.events(runId);
    expect(seen.map((e) => [e.id, e.type])).toEqual(stored.map((e) => [e.id, e.type]));
    expect(seen.at(-1)).toMatchObject({ type: 'status.changed', to: 'succeeded' });

    // Two streams: the first from the start, the second resuming after an event the client had yielded, and
    // carrying the events that came after it (the run's answer among them).
    const streams = proxy.requests.filter((r) => r.line.startsWith(`GET /v1/runs/${runId}/events `));
    expect(streams.map((r) => r.headers['last-event-id'] ?? null)).toEqual([null, expect.any(String)]);
    const resumedAt = seen.findIndex((e) => e.id === streams[1]?.headers['last-event-id']);
    expect(resumedAt).toBeGreaterThanOrEqual((droppedAfter as number) - 1);
    expect(seen.slice(resumedAt + 1).map((e) => e.type)).toContain('answer.proposed');
  });
});
