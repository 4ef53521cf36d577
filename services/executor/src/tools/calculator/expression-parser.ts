/** A bad expression; `position` is the 1-based character where the problem was found. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';

  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
  }
}

type Token =
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'name'; value: string; pos: number }
  | { kind: 'op'; value: string; pos: number }
  | { kind: 'end'; pos: number };

const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };

// [min args, max args, implementation]
const FUNCTIONS: Record<string, [number, number, (...xs: number[]) => number]> = {
  sqrt: [1, 1, Math.sqrt],
  abs: [1, 1, Math.abs],
  round: [1, 2, roundTo],
  floor: [1, 1, Math.floor],
  ceil: [1, 1, Math.ceil],
  min: [1, Number.POSITIVE_INFINITY, Math.min],
  max: [1, Number.POSITIVE_INFINITY, Math.max],
  log: [1, 2, (x, base) => (base === undefined ? Math.log10(x) : Math.log(x) / Math.log(base))],
  ln: [1, 1, Math.log],
  exp: [1, 1, Math.exp],
};

const MAX_DEPTH = 200;
const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const OPERATORS = ['**', '+', '-', '*', '/', '%', '^', '(', ')', ','];

/**
 * Evaluates an arithmetic expression without eval: numbers (1.5, .5, 1e3), + - * / % ^ (right-associative,
 * `**` accepted as an alias), unary minus, parentheses, constants pi and e, and the functions sqrt, abs,
 * round(x[, digits]), floor, ceil, min, max, log (base 10, or log(x, base)), ln and exp.
 * Throws ExpressionError on bad syntax, division by zero or a non-finite result.
 */
export function evaluateExpression(source: string): number {
  const parser = new Parser(tokenize(source));
  const value = parser.expression(0);
  parser.expectEnd();
  return value;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const rest = source.slice(i);
    const space = /^\s+/.exec(rest);
    const number = NUMBER.exec(rest);
    const name = NAME.exec(rest);
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (space) {
      i += space[0].length;
      continue;
    }
    if (number) tokens.push({ kind: 'number', value: Number(number[0]), pos: i + 1 });
    else if (name) tokens.push({ kind: 'name', value: name[0].toLowerCase(), pos: i + 1 });
    else if (op) tokens.push({ kind: 'op', value: op === '**' ? '^' : op, pos: i + 1 });
    else throw new ExpressionError(`Unexpected character "${rest[0]}"`, i + 1);
    i += (number ?? name)?.[0].length ?? op?.length ?? 1;
  }
  tokens.push({ kind: 'end', pos: source.length + 1 });
  if (tokens.length === 1) throw new ExpressionError('Empty expression', 1);
  return tokens;
}

// Grammar (lowest to highest precedence):
//   expression := term (('+' | '-') term)*
//   term       := unary (('*' | '/' | '%') unary)*
//   unary      := ('-' | '+') unary | power          so -2^2 = -(2^2)
//   power      := primary ('^' unary)?                right-associative, and 2^-1 works
//   primary    := number | name | name '(' args ')' | '(' expression ')'
class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  expression(depth: number): number {
    if (depth > MAX_DEPTH) throw new ExpressionError('Expression is nested too deeply', this.peek().pos);
    let value = this.term(depth);
    for (let t = this.peek(); this.isOp(t, '+', '-'); t = this.peek()) {
      this.index++;
      const right = this.term(depth);
      value = finite(t.value === '+' ? value + right : value - right, t.pos);
    }
    return value;
  }

  expectEnd(): void {
    const t = this.peek();
    if (t.kind !== 'end') throw new ExpressionError(`Unexpected ${describe(t)}`, t.pos);
  }

  private term(depth: number): number {
    let value = this.unary(depth);
    for (let t = this.peek(); this.isOp(t, '*', '/', '%'); t = this.peek()) {
      this.index++;
      const right = this.unary(depth);
      if (t.value !== '*' && right === 0) throw new ExpressionError('Division by zero', t.pos);
      value = finite(t.value === '*' ? value * right : t.value === '/' ? value / right : value % right, t.pos);
    }
    return value;
  }

  private unary(depth: number): number {
    const t = this.peek();
    if (this.isOp(t, '-', '+')) {
      if (depth > MAX_DEPTH) throw new ExpressionError('Expression is nested too deeply', t.pos);
      this.index++;
      const operand = this.unary(depth + 1);
      return t.value === '-' ? -operand : operand;
    }
    return this.power(depth);
  }

  private power(depth: number): number {
    const base = this.primary(depth);
    const t = this.peek();
    if (!this.isOp(t, '^')) return base;
    this.index++;
    return finite(base ** this.unary(depth + 1), t.pos);
  }

  private primary(depth: number): number {
    const t = this.next();
    if (t.kind === 'number') return t.value;
    if (this.isOp(t, '(')) {
      const value = this.expression(depth + 1);
      this.expect(')');
      return value;
    }
    if (t.kind === 'name') return this.isOp(this.peek(), '(') ? this.call(t.value, t.pos, depth) : constant(t);
    throw new ExpressionError(`Expected a number, name or "(" but found ${describe(t)}`, t.pos);
  }

  private call(name: string, pos: number, depth: number): number {
    // Own properties only: `constructor` or `__proto__` are not functions of the calculator.
    const fn = Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
    if (!fn) throw new ExpressionError(`Unknown function "${name}" (known: ${Object.keys(FUNCTIONS).join(', ')})`, pos);
    this.expect('(');
    const args = [this.expression(depth + 1)];
    while (this.isOp(this.peek(), ',')) {
      this.index++;
      args.push(this.expression(depth + 1));
    }
    this.expect(')');
    const [min, max, impl] = fn;
    if (args.length < min || args.length > max) {
      const expected = min === max ? `${min}` : max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min}-${max}`;
      throw new ExpressionError(`${name}() takes ${expected} argument(s), got ${args.length}`, pos);
    }
    let value: number;
    try {
      value = impl(...args);
    } catch (err) {
      throw new ExpressionError((err as Error).message, pos);
    }
    return finite(value, pos, `${name}(${args.join(', ')})`);
  }

  private expect(op: string): void {
    const t = this.next();
    if (!this.isOp(t, op)) throw new ExpressionError(`Expected "${op}" but found ${describe(t)}`, t.pos);
  }

  private peek(): Token {
    return this.tokens[this.index];
  }

  private next(): Token {
    const t = this.tokens[this.index];
    if (t.kind !== 'end') this.index++;
    return t;
  }

  private isOp(t: Token, ...ops: string[]): t is Extract<Token, { kind: 'op' }> {
    return t.kind === 'op' && ops.includes(t.value);
  }
}

function constant(t: Extract<Token, { kind: 'name' }>): number {
  if (Object.hasOwn(CONSTANTS, t.value)) return CONSTANTS[t.value];
  const hint = Object.hasOwn(FUNCTIONS, t.value) ? ` (${t.value} is a function: write ${t.value}(...))` : '';
  throw new ExpressionError(`Unknown name "${t.value}"${hint}`, t.pos);
}

function finite(value: number, pos: number, what = 'the result'): number {
  if (!Number.isFinite(value)) throw new ExpressionError(`${what} is not a finite number`, pos);
  return value;
}

function roundTo(x: number, digits = 0): number {
  if (!Number.isInteger(digits) || digits < 0 || digits > 15) {
    throw new Error('round() digits must be an integer from 0 to 15');
  }
  const factor = 10 ** digits;
  // Symmetric rounding (half away from zero), unlike Math.round which rounds -2.5 to -2.
  return (Math.sign(x) * Math.round(Math.abs(x) * factor)) / factor;
}

function describe(t: Token): string {
  if (t.kind === 'end') return 'end of expression';
  return t.kind === 'number' ? `number ${t.value}` : `"${t.value}"`;
}
