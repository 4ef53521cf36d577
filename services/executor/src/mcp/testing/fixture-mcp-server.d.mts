import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

/** A fresh fixture server offering add, delete_everything, note and fail. */
export declare function createFixtureServer(): McpServer;
