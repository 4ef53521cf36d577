import { approvalsCommand, approveCommand, rejectCommand } from './approvals.command.js';
import { cancelCommand } from './cancel.command.js';
import type { Command } from './command.js';
import { evalCommand } from './eval.command.js';
import { eventsCommand } from './events.command.js';
import { forkCommand } from './fork.command.js';
import { listCommand } from './list.command.js';
import { memoryCommand } from './memory.command.js';
import { replayCommand } from './replay.command.js';
import { statusCommand } from './status.command.js';
import { submitCommand } from './submit.command.js';
import { traceCommand } from './trace.command.js';
import { upCommand } from './up.command.js';
import { usageCommand } from './usage.command.js';

/** Every `triad` command, in the order `triad --help` lists them. */
export const COMMANDS: Command[] = [
  submitCommand,
  listCommand,
  statusCommand,
  eventsCommand,
  traceCommand,
  approvalsCommand,
  approveCommand,
  rejectCommand,
  cancelCommand,
  forkCommand,
  replayCommand,
  usageCommand,
  memoryCommand,
  evalCommand,
  upCommand,
];
