import type { FactoryProvider } from '@nestjs/common';
import { RunArchive } from '../archive/run-archive.js';
import type { TriadConfig } from '../config/triad-config.js';
import { RUN_ARCHIVE } from './tokens.js';

/**
 * RUN_ARCHIVE for the services that write or read the archive (judge, gateway): a RunArchive with its migrations
 * applied before the service takes work (a database it cannot reach stops the start, naming it), or null without
 * TRIAD_ARCHIVE_URL. Its pool closes with the module.
 */
export function runArchiveProvider(config: TriadConfig): FactoryProvider<RunArchive | null> {
  return {
    provide: RUN_ARCHIVE,
    useFactory: async () => {
      const url = config.runData.archiveUrl;
      if (!url) return null;
      const archive = new RunArchive(url, config.prefix);
      try {
        await archive.migrate();
      } catch (err) {
        await archive.close();
        throw new Error(`the run archive (TRIAD_ARCHIVE_URL) is not usable: ${(err as Error).message}`);
      }
      return Object.assign(archive, { onModuleDestroy: () => archive.close() });
    },
  };
}
