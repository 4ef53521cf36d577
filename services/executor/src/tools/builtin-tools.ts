import type { HttpPolicy } from '@triad/shared';
import { calculatorTool } from './calculator.tool.js';
import { httpTools } from './http-request.tool.js';
import { listFilesTool } from './list-files.tool.js';
import { recallTool, rememberTool } from './memory.tools.js';
import { postWebhookTool } from './post-webhook.tool.js';
import { readFileTool } from './read-file.tool.js';
import { type SelfCheckReview, selfCheckTool } from './self-check.tool.js';
import { memorizeTool, searchMemoryTool } from './semantic-memory.tools.js';
import type { ToolDefinition } from './tool.js';
import { writeFileTool } from './write-file.tool.js';

/** What the built-in tools need from the executor's configuration. */
export interface BuiltinToolsOptions {
  http: HttpPolicy;
  /** Offers post_webhook, posting here. */
  webhookUrl?: string;
  /** Offers self_check, reviewing with this. */
  review?: SelfCheckReview;
}

/** The tools every executor offers, plus post_webhook and self_check when configured. */
export function builtinTools(options: BuiltinToolsOptions): ToolDefinition[] {
  const tools: ToolDefinition[] = [
    calculatorTool,
    listFilesTool,
    readFileTool,
    writeFileTool,
    ...httpTools(options.http),
    rememberTool,
    recallTool,
    memorizeTool,
    searchMemoryTool,
  ];
  if (options.webhookUrl) tools.push(postWebhookTool(options.webhookUrl, options.http));
  if (options.review) tools.push(selfCheckTool(options.review));
  return tools;
}
