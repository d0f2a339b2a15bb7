// Silero VAD's framing as @ricky0123/vad-web calls the models (no Node APIs: the benchmark page uses it
// too): v4 (silero_vad_legacy.onnx) takes frames of 1536 samples and h, c states [2, 1, 64]; v5 and v6
// take 512 new samples after the previous frame's last 64 (zeros first), 576 in all, and one state
// [2, 1, 128]. sr is an int64 16000.
export type SileroVersion = 'v4' | 'v5' | 'v6';

export const SILERO_VERSIONS: readonly SileroVersion[] = ['v4', 'v5', 'v6'];

export const SILERO_FILES: Record<SileroVersion, string> = {
  v4: 'silero_vad_legacy.onnx',
  v5: 'silero_vad_v5.onnx',
  v6: 'silero_vad_v6.onnx',
};

export interface SileroShape {
  /** New samples per frame. */
  frame: number;
  /** Samples of the previous frame prepended (v5, v6). */
  context: number;
  /** Carried state: output name -> input name, and each state's dims. */
  carry: Record<string, string>;
  states: Record<string, number[]>;
}

export const SILERO: Record<SileroVersion, SileroShape> = {
  v4: { frame: 1536, context: 0, carry: { hn: 'h', cn: 'c' }, states: { h: [2, 1, 64], c: [2, 1, 64] } },
  v5: { frame: 512, context: 64, carry: { stateN: 'state' }, states: { state: [2, 1, 128] } },
  v6: { frame: 512, context: 64, carry: { stateN: 'state' }, states: { state: [2, 1, 128] } },
};

/** The model inputs `input` for each whole frame of `audio`, as vad-web builds them. */
export function sileroFrames(v: SileroVersion, audio: Float32Array): Float32Array[] {
  const { frame, context } = SILERO[v];
  const out: Float32Array[] = [];
  let tail = new Float32Array(context);
  for (let at = 0; at + frame <= audio.length; at += frame) {
    const x = new Float32Array(context + frame);
    x.set(tail, 0);
    x.set(audio.subarray(at, at + frame), context);
    tail = x.slice(x.length - context);
    out.push(x);
  }
  return out;
}
