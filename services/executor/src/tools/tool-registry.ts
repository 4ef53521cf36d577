import type { ToolSpec } from '@triad/shared';
import { type ToolDefinition, toolSpec } from './tool.js';

/** The fixed set of tools an executor offers, looked up by name. */
export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition>();
  private readonly specByName = new Map<string, ToolSpec>();

  /** Throws if two tools share a name or a tool's schema cannot be offered to the model. */
  constructor(tools: readonly ToolDefinition[]) {
    for (const tool of tools) {
      if (this.tools.has(tool.name)) throw new Error(`Duplicate tool name "${tool.name}"`);
      this.tools.set(tool.name, tool);
      this.specByName.set(tool.name, toolSpec(tool));
    }
  }

  /** The tool with this name, or undefined. */
  get(name: string): ToolDefinition | undefined {
    return this.tools.get(name);
  }

  /** All tools, in registration order. */
  list(): ToolDefinition[] {
    return [...this.tools.values()];
  }

  /** All tool names, in registration order. */
  names(): string[] {
    return [...this.tools.keys()];
  }

  /** Specs for the model, optionally limited to `allowList`; throws on allow-listed names that do not exist. */
  specs(allowList?: readonly string[]): ToolSpec[] {
    // Cloned so a caller that edits a spec cannot change what later callers get.
    if (allowList === undefined) return [...this.specByName.values()].map((spec) => structuredClone(spec));
    const unknown = allowList.filter((name) => !this.tools.has(name));
    if (unknown.length > 0) {
      throw new Error(`Unknown tools in allow-list: ${unknown.join(', ')} (available: ${this.names().join(', ')})`);
    }
    const allowed = new Set(allowList);
    return [...this.specByName.values()].filter((spec) => allowed.has(spec.name)).map((spec) => structuredClone(spec));
  }
}
