import { type ApiRole, SessionResponse } from '@triad/contracts';
import { call } from './http.js';

export type Session = SessionResponse;

/** The current session, or null when signed out. */
export async function currentSession(): Promise<Session | null> {
  try {
    return await call('GET', '/v1/session', SessionResponse);
  } catch (err) {
    if ((err as { status?: number }).status === 401) return null;
    throw err;
  }
}

export const signIn = (apiKey: string) => call('POST', '/v1/session', SessionResponse, { apiKey });
export const signOut = () => call('DELETE', '/v1/session', null);

/** Whether the session may do what `role` allows (admin may do everything). */
export const can = (s: Session, role: ApiRole) => s.roles.includes('admin') || s.roles.includes(role);
