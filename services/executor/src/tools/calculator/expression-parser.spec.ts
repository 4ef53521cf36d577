import { describe, expect, it } from '@jest/globals';
import { ExpressionError, evaluateExpression } from './expression-parser.js';

const errorOf = (source: string): ExpressionError => {
  try {
    evaluateExpression(source);
  } catch (err) {
    if (err instanceof ExpressionError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(source)} to fail`);
};

describe('evaluateExpression', () => {
  it.each([
    ['42', 42],
    ['3.25', 3.25],
    ['.5', 0.5],
    ['1e3', 1000],
    ['2.5E-2', 0.025],
    ['1e+2', 100],
  ])('reads the number %s', (source, expected) => {
    expect(evaluateExpression(source)).toBe(expected);
  });

  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['100 / 10 / 5', 2],
    ['2 * 3 ^ 2', 18],
    ['7 % 4 * 2', 6],
    ['1 + 7 % 4', 4],
    ['-2 ^ 2', -4],
    ['(-2) ^ 2', 4],
    ['2 ^ -1', 0.5],
    ['2 ^ 3 ^ 2', 512],
    ['2 ** 3 ** 2', 512],
    ['--3', 3],
    ['-(1 + 2) * -2', 6],
    ['+4 - -4', 8],
    [' 1 +\t2\n', 3],
  ])('respects precedence and associativity: %s', (source, expected) => {
    expect(evaluateExpression(source)).toBe(expected);
  });

  it.each([
    ['sqrt(16)', 4],
    ['abs(-3.5)', 3.5],
    ['round(2.5)', 3],
    ['round(-2.5)', -3],
    ['round(5455.2323838, 1)', 5455.2],
    ['floor(-1.5)', -2],
    ['ceil(1.2)', 2],
    ['min(3, 1, 2)', 1],
    ['max(3, 1 + 9, 2)', 10],
    ['log(1000)', 3],
    ['log(8, 2)', 3],
    ['ln(e)', 1],
    ['exp(0)', 1],
    ['2 * pi', 2 * Math.PI],
    ['PI', Math.PI],
    ['sqrt(max(9, 4)) + round(545796 / 100.05)', 3 + 5455],
  ])('evaluates functions and constants: %s', (source, expected) => {
    expect(evaluateExpression(source)).toBeCloseTo(expected, 10);
  });

  it.each([
    ['', /Empty expression at position 1/],
    ['   ', /Empty expression/],
    ['1 +', /Expected a number, name or "\(" but found end of expression at position 4/],
    ['1 + * 2', /found "\*" at position 5/],
    ['(1 + 2', /Expected "\)" but found end of expression at position 7/],
    ['1 + 2)', /Unexpected "\)" at position 6/],
    ['2 3', /Unexpected number 3 at position 3/],
    ['2pi', /Unexpected "pi" at position 2/],
    ['1.2.3', /Unexpected number 0.3 at position 4/],
    ['1 $ 2', /Unexpected character "\$" at position 3/],
    ['foo(1)', /Unknown function "foo".*at position 1/],
    ['x + 1', /Unknown name "x" at position 1/],
    ['sqrt + 1', /sqrt is a function/],
    ['sqrt(1, 2)', /sqrt\(\) takes 1 argument\(s\), got 2/],
    ['max()', /found "\)"/],
    ['round(1.5, 0.5)', /digits must be an integer/],
    ['1 / 0', /Division by zero at position 3/],
    ['5 % (2 - 2)', /Division by zero at position 3/],
    ['sqrt(-1)', /sqrt\(-1\) is not a finite number/],
    ['ln(0)', /is not a finite number/],
    ['10 ^ 400', /not a finite number at position 4/],
    ['1e308 * 10', /not a finite number/],
    ['Math.sqrt(4)', /Unexpected character "\."/],
  ])('rejects %j with a positioned message', (source, message) => {
    const err = errorOf(source);
    expect(err.message).toMatch(message);
    expect(err.position).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['constructor', /^Unknown name "constructor"/],
    ['constructor + 1', /^Unknown name "constructor"/],
    ['__proto__', /^Unknown name "__proto__"/],
    ['toString', /^Unknown name "tostring"/],
    ['constructor(1)', /^Unknown function "constructor"/],
    ['__proto__(1)', /^Unknown function "__proto__"/],
    ['hasOwnProperty(1)', /^Unknown function "hasownproperty"/],
  ])('knows only its own functions and constants, not object properties: %s', (source, message) => {
    expect(errorOf(source).message).toMatch(message);
  });

  it('refuses absurd nesting instead of overflowing the stack', () => {
    expect(errorOf(`${'('.repeat(5000)}1${')'.repeat(5000)}`).message).toMatch(/nested too deeply/);
    expect(errorOf(`${'-'.repeat(5000)}1`).message).toMatch(/nested too deeply/);
  });
});
