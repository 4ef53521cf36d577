import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { INestApplication } from '@nestjs/common';
import { QUEUES, type RedisClient } from '@triad/shared';
import { Queue } from 'bullmq';
import type { NextFunction, Request, Response } from 'express';
import { authenticate } from '../auth/api-key.guard.js';
import type { ApiKeys } from '../auth/api-keys.js';
import { ApiException } from '../http/api-exception.js';

export const DASHBOARD_PATH = '/admin/queues';

/** Mounts the bull-board queue dashboard at /admin/queues, for admin keys only; returns a closer for its queues. */
export function mountQueueDashboard(app: INestApplication, keys: ApiKeys, redis: RedisClient, prefix: string) {
  const queues = Object.values(QUEUES).map((name) => new Queue(name, { connection: redis, prefix }));
  const serverAdapter = new ExpressAdapter().setBasePath(DASHBOARD_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  const adminOnly = (req: Request, res: Response, next: NextFunction) => {
    try {
      authenticate(keys, req, ['admin']);
      next();
    } catch (err) {
      const e = err as ApiException;
      res.status(e.getStatus()).json(e.getResponse());
    }
  };
  app.use(DASHBOARD_PATH, adminOnly, serverAdapter.getRouter());
  return () => Promise.all(queues.map((q) => q.close()));
}
