// speechSegments and segmentsToWebVtt on probability sequences whose segments are worked out by hand
// from the rules (positive and negative thresholds, redemption frames, minimum speech frames).
import { describe, expect, it } from 'vitest';
import { InputError, segmentsToWebVtt, speechSegments } from '../../src/index.js';

const frameSeconds = 0.032;
const frames = (...runs: [number, number][]) => runs.flatMap(([p, n]) => Array<number>(n).fill(p));
const spans = (probs: number[], o: Parameters<typeof speechSegments>[1] = { frameSeconds }) =>
  speechSegments(probs, o).map((s) => [s.startFrame, s.endFrame]);

describe('speechSegments', () => {
  it('opens at the first positive frame and ends after the last frame not below the negative threshold', () => {
    // 5 quiet, 6 speech, 2 between the thresholds (keep it open), 8 quiet (redemption), 4 quiet.
    const p = frames([0.1, 5], [0.9, 6], [0.4, 2], [0.1, 12]);
    expect(spans(p)).toEqual([[5, 13]]);
    const s = speechSegments(p, { frameSeconds })[0];
    expect(s.start).toBeCloseTo(5 * frameSeconds, 12);
    expect(s.end).toBeCloseTo(13 * frameSeconds, 12);
  });

  it('bridges pauses shorter than the redemption frames, splits at longer ones', () => {
    const p = frames([0.9, 4], [0.1, 7], [0.9, 4], [0.1, 8], [0.9, 4], [0.1, 8]);
    // The 7-frame pause is bridged; the 8-frame one closes the first segment.
    expect(spans(p)).toEqual([
      [0, 15],
      [23, 27],
    ]);
    expect(spans(p, { frameSeconds, redemptionFrames: 3 })).toEqual([
      [0, 4],
      [11, 15],
      [23, 27],
    ]);
  });

  it('drops segments with fewer speech frames than the minimum, counting only positive frames', () => {
    // 2 positive frames then 5 between the thresholds: open 7 frames, but only 2 speech frames.
    const p = frames([0.1, 3], [0.8, 2], [0.4, 5], [0.1, 8], [0.7, 3], [0.1, 8]);
    expect(spans(p)).toEqual([[18, 21]]);
    expect(spans(p, { frameSeconds, minSpeechFrames: 2 })).toEqual([
      [3, 10],
      [18, 21],
    ]);
  });

  it('ends a segment still open with the recording, and honours other thresholds', () => {
    expect(spans(frames([0.1, 2], [0.6, 5]))).toEqual([[2, 7]]);
    expect(spans(frames([0.1, 2], [0.6, 5]), { frameSeconds, positiveThreshold: 0.7 })).toEqual([]);
    // A frame at exactly the positive threshold is speech; one at exactly the negative is not quiet.
    expect(spans(frames([0.5, 3], [0.35, 8], [0.1, 8]))).toEqual([[0, 11]]);
  });

  it('refuses options that cannot work, by name', () => {
    expect(() => speechSegments([0.9], { frameSeconds: 0 })).toThrow(InputError);
    expect(() => speechSegments([0.9], { frameSeconds, negativeThreshold: 0.6 })).toThrow(/negativeThreshold/);
    expect(() => speechSegments([0.9], { frameSeconds, redemptionFrames: 0 })).toThrow(/redemptionFrames/);
  });
});

it('segmentsToWebVtt writes one cue per segment with hh:mm:ss.mmm times', () => {
  const vtt = segmentsToWebVtt([
    { start: 1.216, end: 3.5, startFrame: 38, endFrame: 109 },
    { start: 3725.0405, end: 3726, startFrame: 0, endFrame: 0 },
  ]);
  expect(vtt).toBe('WEBVTT\n\n1\n00:00:01.216 --> 00:00:03.500\nspeech\n\n2\n01:02:05.041 --> 01:02:06.000\nspeech\n');
});
