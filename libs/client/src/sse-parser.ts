/** One dispatched Server-Sent Events message. */
export interface SseMessage {
  /** The last event id seen on this stream (it persists across messages, as the spec says), or null. */
  id: string | null;
  /** The `event:` field, 'message' when absent. */
  event: string;
  data: string;
}

/**
 * An incremental parser of the `text/event-stream` format (WHATWG HTML, "Server-sent events"): lines end in LF, CR
 * or CRLF (even split across chunks), `:` starts a comment, multi-line `data` is joined with LF, a blank line
 * dispatches, a block without data dispatches nothing.
 */
export class SseParser {
  private buffer = '';
  private lastId: string | null = null;
  private event = '';
  private data: string[] = [];
  /** The server's last `retry:` hint in milliseconds (it applies at once, with or without a dispatch). */
  reconnectMs: number | null = null;
  private afterCr = false;
  private started = false;

  /** Feeds text; returns the messages completed by it. */
  push(text: string): SseMessage[] {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // A CR at the end of the previous chunk already ended a line: a LF right after it belongs to it.
    if (this.afterCr && text.startsWith('\n')) text = text.slice(1);
    this.afterCr = false;
    this.buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== '\n' && c !== '\r') continue;
      const message = this.line(this.buffer.slice(start, i));
      if (message) out.push(message);
      if (c === '\r') {
        if (i + 1 === this.buffer.length) this.afterCr = true;
        else if (this.buffer[i + 1] === '\n') i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** The stream ended: an unfinished message is dropped, as the spec says. */
  end(): void {
    this.buffer = '';
    this.event = '';
    this.data = [];
  }

  private line(line: string): SseMessage | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.reconnectMs = Number(value);
        break;
    }
    return null;
  }

  private dispatch(): SseMessage | null {
    const message: SseMessage = {
      id: this.lastId,
      event: this.event || 'message',
      data: this.data.join('\n'),
    };
    const hasData = this.data.length > 0;
    this.event = '';
    this.data = [];
    return hasData ? message : null;
  }
}

/** Parses a byte stream (a fetch body) into SSE messages. */
export async function* readSse(body: AsyncIterable<Uint8Array>, parser = new SseParser()): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  for await (const chunk of body) yield* parser.push(decoder.decode(chunk, { stream: true }));
  yield* parser.push(decoder.decode());
  parser.end();
}
