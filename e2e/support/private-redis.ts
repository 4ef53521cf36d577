import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type PrivateRedisHandle, startPrivateRedis } from '../../cli/src/stack/local-redis.js';

/**
 * A redis-server of a test's own, restartable on the same port and data: append-only, fsync on every write, plus
 * whatever `args` add (password, ACL users, eviction policy).
 */
export class PrivateRedis {
  private constructor(
    private server: PrivateRedisHandle,
    private readonly dir: string,
    private readonly args: string[],
  ) {}

  static async start(args: string[] = []): Promise<PrivateRedis> {
    const dir = await mkdtemp(path.join(tmpdir(), 'triad-redis-'));
    const all = ['--appendonly', 'yes', '--appendfsync', 'always', ...args];
    return new PrivateRedis(await startPrivateRedis({ dir, args: all }), dir, all);
  }

  /** A URL for this server, with credentials when given. */
  url(auth?: { user?: string; password: string }): string {
    const cred = auth ? `${encodeURIComponent(auth.user ?? '')}:${encodeURIComponent(auth.password)}@` : '';
    return `redis://${cred}127.0.0.1:${this.server.port}`;
  }

  /** Stops the server with SIGKILL: no chance to save more than the append-only file already holds. */
  kill(): Promise<void> {
    return this.server.kill();
  }

  /** Starts the server again on the same port, from the same data. */
  async restart(): Promise<void> {
    await this.server.kill();
    this.server = await startPrivateRedis({ port: this.server.port, dir: this.dir, args: this.args });
  }

  async stop(): Promise<void> {
    await this.server.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
