import { z } from 'zod';
import { ExpressionError, evaluateExpression } from './calculator/expression-parser.js';
import { defineTool, ToolFailure } from './tool.js';

/** Evaluates arithmetic exactly as written, so the model does not do sums in its head. */
export const calculatorTool = defineTool({
  name: 'calculator',
  description:
    'Evaluate an arithmetic expression. Supports numbers (1.5, 1e3), + - * / % ^ (power), parentheses, ' +
    'constants pi and e, and functions sqrt, abs, round(x, digits), floor, ceil, min, max, log (base 10), ln, exp.',
  input: z.object({
    expression: z.string().min(1).max(500).describe('The expression, e.g. "545000 / 100.05" (at most 500 characters)'),
  }),
  output: z.object({ expression: z.string(), result: z.number() }),
  risk: 'read',
  timeoutMs: 1_000,
  async run({ expression }) {
    try {
      return { expression, result: evaluateExpression(expression) };
    } catch (err) {
      if (err instanceof ExpressionError) throw new ToolFailure(`Cannot evaluate expression: ${err.message}`);
      throw err;
    }
  },
});
