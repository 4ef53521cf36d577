import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';

export const CONSOLE_PATH = '/console';

// The console page talks to its own origin only; no inline script, nothing from elsewhere, never framed.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** Where the built console is (the @triad/console package's dist), or null when it was not built. */
export function consoleDist(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve('@triad/console/package.json');
    const dist = join(dirname(pkg), 'dist');
    return existsSync(join(dist, 'index.html')) ? dist : null;
  } catch {
    return null;
  }
}

/**
 * Serves the console at /console: its assets as files, and index.html for every other path under it (the page
 * routes itself: /console/runs/<id>, /console/approvals). Without a build, /console answers 404 saying so.
 */
export function mountConsole(app: INestApplication, dist = consoleDist()): void {
  const headers = (res: Response) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
  };
  if (!dist) {
    app.use(CONSOLE_PATH, (_req: Request, res: Response) => {
      res.status(404).json({ error: { code: 'not_found', message: 'the console is not built (npm run build)' } });
    });
    return;
  }
  const files = express.static(dist, { index: false, fallthrough: true, setHeaders: headers });
  app.use(CONSOLE_PATH, files, (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    // A missing asset is a 404, not the page: a stale bundle name must not load HTML as script.
    if (extname(req.path) !== '') {
      res.status(404).json({ error: { code: 'not_found', message: `no console file ${req.path}` } });
      return;
    }
    headers(res);
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(join(dist, 'index.html'));
  });
}
