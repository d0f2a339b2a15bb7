// The Silero VAD models that @ricky0123/vad-web ships: test data, read from node_modules, never
// committed. Their framing is silero-frames.ts (re-exported here).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SILERO, SILERO_FILES, type SileroVersion } from './silero-frames.js';

export * from './silero-frames.js';

/** The path of a version's .onnx file inside the installed @ricky0123/vad-web package. */
export function sileroPath(v: SileroVersion): string {
  const pkg = createRequire(import.meta.url).resolve('@ricky0123/vad-web/package.json');
  return join(dirname(pkg), 'dist', SILERO_FILES[v]);
}

export function sileroBytes(v: SileroVersion): Uint8Array {
  return new Uint8Array(readFileSync(sileroPath(v)));
}

export interface SileroReference {
  /** The speech probability of every frame. */
  probs: number[];
  /** The carried state after the last frame, by output name. */
  finalState: Record<string, Float32Array>;
}

/** onnxruntime-node (CPU) over `frames` one call each, the state passed back: the oracle. */
export async function sileroReference(v: SileroVersion, frames: Float32Array[]): Promise<SileroReference> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(sileroBytes(v), { logSeverityLevel: 3 });
  const shape = SILERO[v];
  const sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
  let state: Record<string, InstanceType<typeof ort.Tensor>> = Object.fromEntries(
    Object.entries(shape.states).map(([name, dims]) => [
      name,
      new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b)), dims),
    ]),
  );
  const probs: number[] = [];
  try {
    for (const x of frames) {
      const out = await session.run({ input: new ort.Tensor('float32', x, [1, x.length]), sr, ...state });
      probs.push((out.output.data as Float32Array)[0]);
      state = Object.fromEntries(Object.entries(shape.carry).map(([o, i]) => [i, out[o]]));
    }
  } finally {
    await session.release();
  }
  return { probs, finalState: Object.fromEntries(Object.entries(shape.carry).map(([o, i]) => [o, state[i].data as Float32Array])) };
}
