// What test/browser.test.ts sends to test/browser/dist.html and gets back (plain JSON-able data).
import type { RnnSpec } from '../../src/index.js';

export interface SweepCase {
  name: string;
  spec: RnnSpec;
  seqLen: number;
  batch: number;
  seed: number;
  /** Random lengths in [0, T] (first row full; last row 0 when B > 2). */
  lengths?: boolean;
  /** TF.js-style step mask instead of lengths. */
  mask?: boolean;
  initialStates?: boolean;
  peepholes?: boolean;
}

export interface ConformanceCase {
  name: string;
  spec: RnnSpec;
  weights: { W: number[]; R: number[]; B?: number[]; P?: number[] };
  x: number[];
  run: { seqLen: number; batch: number; sequenceLens?: number[]; initialH?: number[]; initialC?: number[] };
  /** ONNX's expected outputs, in node output order. */
  expected: { name: 'Y' | 'Y_h' | 'Y_c'; data: number[] }[];
}

export interface Comparison {
  /** What was compared, e.g. 'Y (gpu vs reference)'. */
  label: string;
  maxAbs: number;
  failures: number;
  count: number;
  /** Worst element: index, value, expected value. */
  worst?: [number, number, number];
}

export interface CaseResult {
  name: string;
  error?: string;
  comparisons: Comparison[];
}

export interface DistApi {
  adapter(): Promise<{ found: boolean; info?: Record<string, unknown>; error?: string }>;
  sweep(cases: SweepCase[]): Promise<CaseResult[]>;
  conformance(cases: ConformanceCase[]): Promise<CaseResult[]>;
}

/** The tolerance of the GPU tests: |gpu − ref| <= ATOL + RTOL·|ref|. */
export const ATOL = 1e-5;
export const RTOL = 1e-4;
