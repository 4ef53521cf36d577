import { describe, expect, it } from '@jest/globals';
import { readSse, type SseMessage, SseParser } from './sse-parser.js';

const feed = (...chunks: string[]): SseMessage[] => {
  const p = new SseParser();
  return chunks.flatMap((c) => p.push(c));
};

describe('SseParser', () => {
  it('reads id, event and data, and dispatches on a blank line only', () => {
    const p = new SseParser();
    expect(p.push('id: 1-0\nevent: thought\ndata: {"a":1}\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ id: '1-0', event: 'thought', data: '{"a":1}' }]);
  });

  it('joins multi-line data with LF and defaults the event type to message', () => {
    expect(feed('data: one\ndata: two\ndata:\ndata:  three\n\n')).toEqual([
      { id: null, event: 'message', data: 'one\ntwo\n\n three' },
    ]);
  });

  it('skips comments, and blocks without data (a retry hint, a keep-alive)', () => {
    const p = new SseParser();
    expect(p.push('retry: 2000\n\n: keep-alive\n\n')).toEqual([]);
    expect(p.reconnectMs).toBe(2000);
    expect(p.push(': note\ndata: x\n\n')).toEqual([{ id: null, event: 'message', data: 'x' }]);
  });

  it('accepts CRLF and lone CR line ends, also when a CRLF is split across chunks', () => {
    expect(feed('id: 5-1\r\nevent: a\r\ndata: x\r', '\n\r', '\ndata: y\r\r')).toEqual([
      { id: '5-1', event: 'a', data: 'x' },
      { id: '5-1', event: 'message', data: 'y' },
    ]);
  });

  it('reassembles fields split anywhere across chunks', () => {
    const text = 'id: 7-3\nevent: verdict\ndata: {"decision":"accept"}\n\n';
    const chunks = text.split('');
    expect(feed(...chunks)).toEqual([{ id: '7-3', event: 'verdict', data: '{"decision":"accept"}' }]);
  });

  it('keeps the last id for later messages, ignores ids with NUL, and a field without a colon', () => {
    expect(feed('id: 1-1\ndata: a\n\ndata: b\n\nid: bad\0id\ndata\ndata: c\n\n')).toEqual([
      { id: '1-1', event: 'message', data: 'a' },
      { id: '1-1', event: 'message', data: 'b' },
      { id: '1-1', event: 'message', data: '\nc' },
    ]);
  });

  it('drops a leading BOM and an unfinished message at the end of the stream', async () => {
    const bytes = new TextEncoder().encode('\uFEFFdata: whole\n\ndata: cut off');
    const body = (async function* () {
      yield bytes.slice(0, 3); // splits the BOM's UTF-8 bytes
      yield bytes.slice(3);
    })();
    const out: SseMessage[] = [];
    for await (const m of readSse(body)) out.push(m);
    expect(out).toEqual([{ id: null, event: 'message', data: 'whole' }]);
  });
});
