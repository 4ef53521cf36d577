import { Inject, Injectable } from '@nestjs/common';
import { TRIAD_CONFIG, type TriadConfig } from '@triad/shared';
import { ApiException } from '../http/api-exception.js';

/**
 * Counts the open event streams of this gateway process, in all and per API key (`TRIAD_SSE_MAX`,
 * `TRIAD_SSE_MAX_PER_KEY`): a stream past either cap is refused with 429 before it starts.
 */
@Injectable()
export class StreamSlots {
  private readonly perKey = new Map<string, number>();
  private total = 0;

  constructor(@Inject(TRIAD_CONFIG) private readonly config: TriadConfig) {}

  /** Takes a place for a stream of `keyName`; returns the function that gives it back (once). */
  take(keyName: string): () => void {
    const { sseMax, sseMaxPerKey } = this.config.gateway;
    const mine = this.perKey.get(keyName) ?? 0;
    if (mine >= sseMaxPerKey) {
      throw new ApiException(
        'too_many_requests',
        `API key "${keyName}" has ${mine} event streams open, the most allowed`,
      );
    }
    if (this.total >= sseMax) {
      throw new ApiException('too_many_requests', `this gateway serves ${this.total} event streams, the most allowed`);
    }
    this.perKey.set(keyName, mine + 1);
    this.total++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.total--;
      const left = (this.perKey.get(keyName) ?? 1) - 1;
      if (left) this.perKey.set(keyName, left);
      else this.perKey.delete(keyName);
    };
  }
}
