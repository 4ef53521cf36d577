import { Body, Controller, Delete, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { SessionRequest, type SessionResponse, TRIAD_CONFIG, type TriadConfig } from '@triad/shared';
import type { Request, Response } from 'express';
import { ApiException, parseOr400 } from '../http/api-exception.js';
import { identify } from './api-key.guard.js';
import { ANONYMOUS_ADMIN, ApiKeys, type Caller } from './api-keys.js';
import { ConsoleSessions, setSessionCookie } from './console-session.js';

/**
 * The console's sign-in: an API key traded for a session cookie the page's scripts cannot read, kept for the browser
 * session only; sign-out clears it. Public routes: each checks the key or session itself.
 */
@Controller('v1/session')
export class SessionController {
  constructor(
    private readonly keys: ApiKeys,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {}

  @Post()
  @HttpCode(200)
  signIn(@Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response): SessionResponse {
    const { apiKey } = parseOr400(SessionRequest, body ?? null);
    if (!this.keys.enabled) return this.view(ANONYMOUS_ADMIN);
    const caller = this.keys.match(apiKey);
    if (!caller) throw new ApiException('unauthorized', 'unknown API key');
    setSessionCookie(req, res, new ConsoleSessions(this.keys).issue(caller));
    return this.view(caller);
  }

  /** Who the session (or the key in a header) is; 401 when signed out. */
  @Get()
  current(@Req() req: Request): SessionResponse {
    return this.view(this.keys.enabled ? identify(this.keys, req) : ANONYMOUS_ADMIN);
  }

  @Delete()
  @HttpCode(204)
  signOut(@Req() req: Request, @Res({ passthrough: true }) res: Response): void {
    setSessionCookie(req, res, null);
  }

  private view(caller: Caller): SessionResponse {
    return {
      name: caller.name,
      roles: caller.roles,
      tenant: caller.tenant,
      keysRequired: this.keys.enabled,
      jaegerUrl: this.config.gateway.jaegerUrl ?? null,
    };
  }
}
