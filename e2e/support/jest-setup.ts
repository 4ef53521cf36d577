// Every e2e test and hook starts real processes: the limit set here applies to them all (Jest ignores a
// `testTimeout` inside a project). Waits inside a test give up well before it, with context, through `eventually`.
import { jest } from '@jest/globals';

jest.setTimeout(300_000);
