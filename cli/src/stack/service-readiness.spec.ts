import { describe, expect, it } from '@jest/globals';
import { lastLines, ServiceStartError, STOPPED, waitUntilReady } from './service-readiness.js';

/** A starting service as the wait sees it, driven by the test. */
function fakeService() {
  let output = '';
  let ready: () => void = () => {};
  let exit: (code: number | null) => void = () => {};
  return {
    print: (line: string) => {
      output += `${line}\n`;
    },
    ready: () => ready(),
    exit: (code: number | null) => exit(code),
    watch: {
      ready: new Promise<void>((r) => {
        ready = r;
      }),
      exited: new Promise<number | null>((r) => {
        exit = r;
      }),
      output: () => output,
      pid: undefined,
      pollMs: 10,
    },
  };
}

describe('waitUntilReady', () => {
  it('waits as long as the service prints, far past the stall limit, and reports what it last said', async () => {
    const s = fakeService();
    const reports: string[] = [];
    const waiting = waitUntilReady({
      ...s.watch,
      stallMs: 1_000,
      reportEveryMs: 100,
      onWaiting: (d) => reports.push(d),
    });
    for (let i = 0; i < 12; i++) {
      s.print(JSON.stringify({ level: 'info', msg: `phase ${i}` }));
      await new Promise((r) => setTimeout(r, 150));
    }
    s.ready();
    expect(await waiting).toBe('ready');
    expect(reports.at(-1)).toMatch(/^\d+ s, last: info: phase \d+$/);
  });

  it('gives up when neither a line nor CPU time comes for the stall limit', async () => {
    const s = fakeService();
    s.print('loading');
    expect(await waitUntilReady({ ...s.watch, stallMs: 100 })).toBe(
      'made no progress (no output, no CPU time) for 0.1 s',
    );
  });

  it('ends at once when the service exits or the wait is aborted', async () => {
    const exiting = fakeService();
    const exited = waitUntilReady({ ...exiting.watch, stallMs: 60_000 });
    exiting.exit(2);
    expect(await exited).toBe('exited with code 2');

    const aborted = new AbortController();
    aborted.abort(); // before the wait began: still seen
    expect(await waitUntilReady({ ...fakeService().watch, stallMs: 60_000, signal: aborted.signal })).toBe(STOPPED);
  });

  it('counts CPU time as progress (this process keeps busy, prints nothing)', async () => {
    const s = fakeService();
    let busy = true;
    const spin = async () => {
      while (busy) {
        const end = Date.now() + 20;
        while (Date.now() < end) Math.sqrt(Math.random());
        await new Promise((r) => setImmediate(r));
      }
    };
    const spinning = spin();
    const waiting = waitUntilReady({ ...s.watch, pid: process.pid, stallMs: 1_000 });
    let settled = false;
    void waiting.then(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 2_500));
    const stillWaiting = !settled;
    s.ready();
    busy = false;
    await spinning;
    expect(stillWaiting).toBe(true);
    expect(await waiting).toBe('ready');
  });
});

describe('ServiceStartError', () => {
  it('shows the reason and the last lines, JSON log lines as level and message', () => {
    const output = [
      JSON.stringify({ level: 'info', msg: 'starting' }),
      JSON.stringify({ level: 'error', msg: 'Error: listen EADDRINUSE: address already in use 127.0.0.1:8080' }),
      'Node.js v24.21.0',
    ].join('\n');
    const err = new ServiceStartError('gateway', 'exited with code 1', output);
    expect(err.message.split('\n')[0]).toBe('gateway exited with code 1:');
    expect(err.describe()).toBe(
      [
        'gateway did not start: exited with code 1; its last lines:',
        '  | info: starting',
        '  | error: Error: listen EADDRINUSE: address already in use 127.0.0.1:8080',
        '  | Node.js v24.21.0',
      ].join('\n'),
    );
    expect(lastLines(output, 1)).toEqual(['Node.js v24.21.0']);
  });
});
