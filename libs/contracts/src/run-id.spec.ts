import { describe, expect, it } from '@jest/globals';
import { DEFAULT_TENANT, StoreRunId, splitStoreRunId, storeRunId } from './run-id.js';

describe('run store ids', () => {
  it('keep the default tenant unprefixed, so runs from before tenants keep their keys', () => {
    expect(storeRunId(DEFAULT_TENANT, 'r1')).toBe('r1');
    expect(splitStoreRunId('r1')).toEqual({ tenant: 'default', runId: 'r1' });
  });

  it('make the same run id in two tenants two ids, and split back', () => {
    const a = storeRunId('acme', 'r1');
    const b = storeRunId('globex', 'r1');
    expect(a).not.toBe(b);
    expect(splitStoreRunId(a)).toEqual({ tenant: 'acme', runId: 'r1' });
    expect(splitStoreRunId(b)).toEqual({ tenant: 'globex', runId: 'r1' });
  });

  it('accept in job payloads only a run id or <tenant>~<run id>', () => {
    for (const ok of ['r1', 'acme~r1', 'a-b_c~run-1.x']) expect(StoreRunId.safeParse(ok).success).toBe(true);
    for (const bad of ['', 'Acme~r1', '~r1', 'acme~', 'acme~r~1', 'acme~r:1', 'a:b']) {
      expect(StoreRunId.safeParse(bad).success).toBe(false);
    }
  });
});
