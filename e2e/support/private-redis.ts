import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';

/**
 * A redis-server of a test's own, on a free port with its data in a temporary folder: restartable on the same
 * port and data (append-only file, fsync on every write), and configurable (password, ACL users, eviction policy).
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private log = '';

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly args: string[],
  ) {}

  static async start(args: string[] = []): Promise<PrivateRedis> {
    const dir = await mkdtemp(path.join(tmpdir(), 'triad-redis-'));
    const redis = new PrivateRedis(await freePort(), dir, args);
    await redis.launch();
    return redis;
  }

  /** A URL for this server, with credentials when given. */
  url(auth?: { user?: string; password: string }): string {
    const cred = auth ? `${encodeURIComponent(auth.user ?? '')}:${encodeURIComponent(auth.password)}@` : '';
    return `redis://${cred}127.0.0.1:${this.port}`;
  }

  /** Stops the server (SIGKILL: no chance to save more than the append-only file already holds). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts the server again on the same port, from the same data. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** A client as the default user (with `password` when the server has one). */
  client(password?: string): Redis {
    return new Redis({ port: this.port, host: '127.0.0.1', password, maxRetriesPerRequest: null });
  }

  private async launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        ...this.args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const onData = (chunk: Buffer) => {
      this.log += chunk.toString('utf8');
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const deadline = Date.now() + 10_000;
    while (!/Ready to accept connections/.test(this.log)) {
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`redis-server on port ${this.port} did not start:\n${this.log.slice(-2_000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    this.log = '';
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
