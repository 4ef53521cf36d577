import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { type ReasoningModel, reviewAnswer, TRIAD_CONFIG, type TriadConfig } from '@triad/shared';
import { connectMcpServers, type McpTools } from './mcp/mcp-tool-provider.js';
import { builtinTools } from './tools/builtin-tools.js';
import type { SelfCheckReview } from './tools/self-check.tool.js';
import { ToolRegistry } from './tools/tool-registry.js';

/** The MCP servers of this executor: connected at start, closed at shutdown. */
@Injectable()
export class McpConnections implements OnModuleDestroy {
  private readonly logger = new Logger(McpConnections.name);
  private mcp: McpTools | null = null;

  constructor(@Inject(TRIAD_CONFIG) private readonly config: TriadConfig) {}

  /** Connects every configured server; one that fails is logged and left out, it does not stop the executor. */
  async connect(): Promise<McpTools['tools']> {
    if (!this.config.mcpServers.length) return [];
    this.mcp = await connectMcpServers(this.config.mcpServers);
    for (const f of this.mcp.failures) this.logger.warn(`MCP server ${f.server} left out: ${f.message}`);
    return this.mcp.tools;
  }

  async onModuleDestroy(): Promise<void> {
    await this.mcp?.close();
  }
}

/**
 * The executor's tools: the built-in ones (self_check reviews with the judge's model and rubric, through the services'
 * model, so under the tenant's spend cap) and MCP tools.
 */
export async function createToolRegistry(
  config: TriadConfig,
  mcp: McpConnections,
  model: ReasoningModel,
): Promise<ToolRegistry> {
  const review: SelfCheckReview = async (goal, draft, signal) =>
    (await reviewAnswer(model, config.model.judgeModel, { goal, answer: draft, events: null, signal })).review;
  const builtin = builtinTools({ http: config.http, webhookUrl: config.webhookUrl, review });
  return new ToolRegistry([...builtin, ...(await mcp.connect())]);
}
