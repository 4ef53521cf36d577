import { calculatorTool } from './calculator.tool.js';
import { listFilesTool } from './list-files.tool.js';
import { readFileTool } from './read-file.tool.js';
import type { ToolDefinition } from './tool.js';

/** The tools every executor offers: calculator, list_files and read_file. */
export function builtinTools(): ToolDefinition[] {
  return [calculatorTool, listFilesTool, readFileTool];
}
