// Helpers around the Silero VAD models for apps: cutting a recording into the windows
// @ricky0123/vad-web feeds them, and turning per-frame speech probabilities into segments with the
// rules vad-web users know (a positive and a negative threshold, redemption frames, a minimum
// number of speech frames). Our own code; the rules follow vad-web's documented options.
import { InputError } from '../core/errors.js';

/**
 * A recording cut into the windows @ricky0123/vad-web feeds Silero VAD: every whole frame of `frame`
 * samples after the `context` samples before it (zeros before the start), as one scanned input
 * [F, 1, context + frame]. v5 and v6: frame 512, context 64; v4 (legacy): frame 1536, context 0.
 */
export function audioWindows(audio: Float32Array, frame: number, context = 0): { data: Float32Array; dims: [number, 1, number] } {
  if (!Number.isInteger(frame) || frame < 1 || !Number.isInteger(context) || context < 0 || context > frame)
    throw new InputError(
      `audioWindows: frame must be a positive integer and context an integer in [0, frame], got ${frame} and ${context}`,
    );
  const F = Math.floor(audio.length / frame);
  const width = context + frame;
  const data = new Float32Array(F * width);
  for (let f = 0; f < F; f++) {
    const start = f * frame - context;
    const from = Math.max(0, start);
    data.set(audio.subarray(from, f * frame + frame), f * width + (from - start));
  }
  return { data, dims: [F, 1, width] };
}

export interface SegmentOptions {
  /** Seconds per frame: 512 / 16000 for v5 and v6, 1536 / 16000 for v4. */
  frameSeconds: number;
  /** A frame at or above it is speech (vad-web's positiveSpeechThreshold); default 0.5. */
  positiveThreshold?: number;
  /** Below it a frame counts towards the end of a segment (negativeSpeechThreshold); default 0.35. */
  negativeThreshold?: number;
  /** Frames below the negative threshold in a row that end a segment (redemptionFrames); default 8. */
  redemptionFrames?: number;
  /** A segment with fewer frames at or above the positive threshold is dropped (minSpeechFrames); default 3. */
  minSpeechFrames?: number;
}

export interface SpeechSegment {
  /** Seconds from the start of the recording. */
  start: number;
  end: number;
  /** Frame indices [startFrame, endFrame). */
  startFrame: number;
  endFrame: number;
}

/**
 * Speech segments from per-frame probabilities. A segment opens at the first frame at or above the
 * positive threshold and closes once `redemptionFrames` frames in a row fall below the negative
 * threshold; it ends after its last frame that was not below the negative threshold (the
 * redemption frames are not part of it). Frames between the thresholds keep a segment open and
 * reset nothing. A segment still open at the end of the recording ends with it.
 */
export function speechSegments(probs: ArrayLike<number>, options: SegmentOptions): SpeechSegment[] {
  const o = { positiveThreshold: 0.5, negativeThreshold: 0.35, redemptionFrames: 8, minSpeechFrames: 3, ...options };
  if (!(o.frameSeconds > 0)) throw new InputError(`speechSegments: frameSeconds must be positive, got ${o.frameSeconds}`);
  if (!(o.negativeThreshold <= o.positiveThreshold))
    throw new InputError(
      `speechSegments: negativeThreshold (${o.negativeThreshold}) must not be above positiveThreshold (${o.positiveThreshold})`,
    );
  for (const [k, v] of [
    ['redemptionFrames', o.redemptionFrames],
    ['minSpeechFrames', o.minSpeechFrames],
  ] as const)
    if (!Number.isInteger(v) || v < 1) throw new InputError(`speechSegments: ${k} must be a positive integer, got ${v}`);
  const out: SpeechSegment[] = [];
  let open = -1;
  let lastVoiced = -1;
  let speechFrames = 0;
  let quiet = 0;
  const close = () => {
    if (speechFrames >= o.minSpeechFrames)
      out.push({ startFrame: open, endFrame: lastVoiced + 1, start: open * o.frameSeconds, end: (lastVoiced + 1) * o.frameSeconds });
    open = -1;
  };
  for (let f = 0; f < probs.length; f++) {
    const p = probs[f];
    if (open < 0) {
      if (p >= o.positiveThreshold) {
        open = f;
        lastVoiced = f;
        speechFrames = 1;
        quiet = 0;
      }
      continue;
    }
    if (p >= o.positiveThreshold) speechFrames++;
    if (p < o.negativeThreshold) {
      quiet++;
      if (quiet >= o.redemptionFrames) close();
    } else {
      quiet = 0;
      lastVoiced = f;
    }
  }
  if (open >= 0) close();
  return out;
}

/** Segments as a WebVTT file, one cue per segment ("speech"). */
export function segmentsToWebVtt(segments: readonly SpeechSegment[]): string {
  const time = (s: number) => {
    const ms = Math.round(s * 1000);
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
  };
  return ['WEBVTT', '', ...segments.flatMap((s, k) => [String(k + 1), `${time(s.start)} --> ${time(s.end)}`, 'speech', ''])].join('\n');
}
