// Splitting runs over seqLen (plan/segments.ts) and each segment's request and Y placement
// (run/segments.ts), GPU-free: checked against what the layouts say by hand.
import { describe, expect, it } from 'vitest';
import { resolveSpec } from '../../src/model/spec.js';
import {
  MAX_SEGMENT_STEPS,
  planSegments,
  segmentSteps,
  sequenceChunks,
  SEQUENCE_CHUNK_STEPS,
  workspaceOverflow,
} from '../../src/plan/segments.js';
import { validateRun } from '../../src/run/run-io.js';
import { segmentRequest, segmentYCopies } from '../../src/run/segments.js';
import type { ResidentState } from '../../src/run/stream.js';
import { CAPS } from '../support/caps.js';

const gru = resolveSpec({ cell: 'gru', inputSize: 4, hiddenSize: 16 });

describe('segmentSteps', () => {
  it('a run that fits and is at most MAX_SEGMENT_STEPS long is one segment', () => {
    expect(segmentSteps(gru, CAPS, 1, 1)).toBe(1);
    expect(segmentSteps(gru, CAPS, MAX_SEGMENT_STEPS, 1)).toBe(MAX_SEGMENT_STEPS);
  });
  it('a longer one is split into MAX_SEGMENT_STEPS, or fewer where the limits say so', () => {
    expect(segmentSteps(gru, CAPS, 1_000_000, 1)).toBe(MAX_SEGMENT_STEPS);
    // GRU 16: xproj is 48 floats (192 B) per step, the largest buffer: 128 MiB / 192 B = 699,050 steps.
    const caps = { ...CAPS, maxStorageBufferBindingSize: 192 * 1000 };
    expect(segmentSteps(gru, caps, 1_000_000, 1)).toBe(1000);
    expect(segmentSteps(gru, caps, 1_000_000, 2)).toBe(500);
    expect(workspaceOverflow(gru, caps, 1000, 1)).toBeUndefined();
    expect(workspaceOverflow(gru, caps, 1001, 1)).toBe(
      "a xproj buffer of 192192 bytes, over the device's maxStorageBufferBindingSize (192000)",
    );
  });
  it('a bidirectional model is never split; nothing fits: 0', () => {
    const bi = resolveSpec({ cell: 'gru', inputSize: 4, hiddenSize: 16, direction: 'bidirectional' });
    expect(segmentSteps(bi, CAPS, 1_000_000, 1)).toBe(1_000_000);
    expect(segmentSteps(gru, { ...CAPS, maxStorageBufferBindingSize: 100 }, 10, 1)).toBe(0);
  });
  it('the step uniforms (256 B a step) count against maxBufferSize', () => {
    expect(workspaceOverflow(gru, { ...CAPS, maxBufferSize: 256 * 100 }, 101, 1)).toMatch(
      /25856 bytes of step uniforms, over the device's maxBufferSize \(25600\)/,
    );
  });
});

describe('planSegments and sequenceChunks', () => {
  it('forward from t = 0, the last segment shorter; reverse from the end', () => {
    expect(planSegments(10, 4, false)).toEqual([
      { t0: 0, steps: 4 },
      { t0: 4, steps: 4 },
      { t0: 8, steps: 2 },
    ]);
    expect(planSegments(10, 4, true)).toEqual([
      { t0: 8, steps: 2 },
      { t0: 4, steps: 4 },
      { t0: 0, steps: 4 },
    ]);
    expect(planSegments(8, 8, false)).toEqual([{ t0: 0, steps: 8 }]);
  });
  it('chunks of SEQUENCE_CHUNK_STEPS', () => {
    expect(sequenceChunks(1)).toBe(1);
    expect(sequenceChunks(SEQUENCE_CHUNK_STEPS)).toBe(1);
    expect(sequenceChunks(SEQUENCE_CHUNK_STEPS + 1)).toBe(2);
  });
});

describe('segmentRequest and segmentYCopies', () => {
  const resident: ResidentState = { state: {} as GPUBuffer, steps: 0 };
  // x[t, b, i] = 100·t + 10·b + i (time-major) or the same values batch-major.
  const T = 5;
  const B = 2;
  const value = (t: number, b: number, i: number) => 100 * t + 10 * b + i;
  const spec = resolveSpec({ cell: 'rnn', inputSize: 2, hiddenSize: 3 });
  const batchMajor = resolveSpec({ cell: 'rnn', inputSize: 2, hiddenSize: 3, layout: 'batch-major' });

  it('time-major: the rows of the segment, lengths clipped to it, the mask rows, step0', () => {
    const x = Float32Array.from({ length: T * B * 2 }, (_, k) => value(Math.floor(k / 4), Math.floor(k / 2) % 2, k % 2));
    const req = validateRun(spec, CAPS, x, { seqLen: T, batch: B, sequenceLens: Int32Array.from([5, 2]) });
    const sub = segmentRequest(spec, req, { t0: 2, steps: 2 }, resident, 7);
    expect([...(sub.x as Float32Array)]).toEqual([200, 201, 210, 211, 300, 301, 310, 311]);
    expect([...sub.lens]).toEqual([2, 0]); // row 1 ended before the segment: padding only
    expect(sub).toMatchObject({ seqLen: 2, batch: B, step0: 7, resident, output: 'cpu' });
    expect([...segmentRequest(spec, req, { t0: 4, steps: 1 }, resident, 0).lens]).toEqual([1, 0]);
    const masked = validateRun(spec, CAPS, x, { seqLen: T, batch: B, mask: Uint8Array.from([1, 0, 0, 1, 1, 1, 0, 0, 1, 0]) });
    expect([...segmentRequest(spec, masked, { t0: 3, steps: 2 }, resident, 0).mask!]).toEqual([0, 0, 1, 0]);
    expect(segmentYCopies(spec, T, B, { t0: 2, steps: 2 })).toEqual([[0, 2 * B * 3 * 4, 2 * B * 3 * 4]]);
  });

  it('batch-major: each row of the batch gathered, and its Y scattered back per row', () => {
    const x = Float32Array.from({ length: T * B * 2 }, (_, k) => value(Math.floor(k / 2) % T, Math.floor(k / (2 * T)), k % 2));
    const req = validateRun(batchMajor, CAPS, x, { seqLen: T, batch: B });
    const sub = segmentRequest(batchMajor, req, { t0: 3, steps: 2 }, resident, 0);
    expect([...(sub.x as Float32Array)]).toEqual([300, 301, 400, 401, 310, 311, 410, 411]);
    // Row b of the segment's Y [B, 2, 3] goes to row b, steps 3..4 of the run's Y [B, 5, 3].
    expect(segmentYCopies(batchMajor, T, B, { t0: 3, steps: 2 })).toEqual([
      [0, 3 * 12, 2 * 12],
      [2 * 12, (5 + 3) * 12, 2 * 12],
    ]);
  });
});
