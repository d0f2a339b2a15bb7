// |actual - expected| <= atol + rtol·|expected|, with a report that names the worst element.
import { expect } from 'vitest';

export interface Mismatch {
  maxAbs: number;
  worst: number;
  failures: number;
}

export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number): Mismatch {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != expected ${expected.length}`);
  let maxAbs = 0;
  let worst = -1;
  let failures = 0;
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= atol + rtol * Math.abs(expected[i]))) failures++;
    if (!(diff <= maxAbs)) {
      maxAbs = diff;
      worst = i;
    }
  }
  return { maxAbs, worst, failures };
}

/** Asserts closeness; `label` and optional `coords(i)` make the failure message useful. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label: string,
  tol: { atol?: number; rtol?: number } = {},
  coords?: (i: number) => string,
): number {
  const atol = tol.atol ?? 1e-5;
  const rtol = tol.rtol ?? 1e-4;
  const m = compare(actual, expected, atol, rtol);
  const where =
    m.worst >= 0
      ? ` worst at [${m.worst}]${coords ? ` ${coords(m.worst)}` : ''}: got ${actual[m.worst]}, expected ${expected[m.worst]}`
      : '';
  expect(
    m.failures,
    `${label}: ${m.failures} of ${actual.length} elements outside ${atol} + ${rtol}·|ref|; max |diff| ${m.maxAbs.toExponential(2)};${where}`,
  ).toBe(0);
  return m.maxAbs;
}
