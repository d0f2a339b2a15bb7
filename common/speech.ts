// Real speech without a network, for the Silero VAD tests and benchmark: espeak-ng speaks a few
// sentences, sox resamples them to 16 kHz mono, puts silences between them and mixes in a little
// white noise. Both are Debian packages (.ci/install-system installs them). The result is cached in
// the OS temp folder by its recipe, so a test run synthesises it once.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SPEECH_RATE = 16_000;

export interface SpeechRecipe {
  sentences: string[];
  /** Seconds of silence before, between and after the sentences. */
  gap: number;
  /** White noise amplitude (sox `vol`), 0 for none. */
  noise: number;
}

export const DEFAULT_SPEECH: SpeechRecipe = {
  sentences: [
    'The quick brown fox jumps over the lazy dog.',
    'Voice activity detection runs on the graphics processor now.',
    'Please hold the line, your call is important to us.',
  ],
  gap: 1.2,
  noise: 0.01,
};

/** sox output options: 16 kHz, mono, 16-bit. */
const MONO_16K = ['-r', String(SPEECH_RATE), '-c', '1', '-b', '16'];

function run(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const why = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
    throw new Error(`${cmd} ${args.join(' ')} failed (are espeak-ng and sox installed? bash .ci/install-system): ${why}`);
  }
}

/** The recipe's audio: mono float32 samples at 16 kHz. */
export function speech(recipe: SpeechRecipe = DEFAULT_SPEECH): Float32Array {
  const key = createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `webgpu-rnn-speech-${key}`);
  const out = join(dir, 'speech.f32');
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const parts: string[] = [];
    recipe.sentences.forEach((text, i) => {
      const raw = join(dir, `s${i}.wav`);
      const padded = join(dir, `p${i}.wav`);
      run('espeak-ng', ['-w', raw, text]);
      run('sox', [raw, ...MONO_16K, padded, 'pad', String(i === 0 ? recipe.gap : 0), String(recipe.gap)]);
      parts.push(padded);
    });
    const clean = join(dir, 'clean.wav');
    run('sox', [...parts, clean]);
    const mixed = join(dir, 'mixed.wav');
    if (recipe.noise > 0) {
      const noise = join(dir, 'noise.wav');
      const seconds = execFileSync('sox', ['--i', '-D', clean]).toString().trim();
      run('sox', ['-n', ...MONO_16K, noise, 'synth', seconds, 'whitenoise', 'vol', String(recipe.noise)]);
      run('sox', ['-m', clean, noise, mixed]);
    } else run('sox', [clean, mixed]);
    const tmp = `${out}.${process.pid}`;
    run('sox', [mixed, '-t', 'raw', '-e', 'floating-point', '-b', '32', '-r', String(SPEECH_RATE), '-c', '1', tmp]);
    renameSync(tmp, out);
  }
  const bytes = readFileSync(out);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Samples as a 16-bit PCM mono WAV file (what Chromium's fake microphone and a file input take). */
export function wavBytes(samples: Float32Array, rate = SPEECH_RATE): Uint8Array {
  const out = new Uint8Array(44 + 2 * samples.length);
  const v = new DataView(out.buffer);
  const text = (at: number, s: string) => [...s].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)));
  text(0, 'RIFF');
  v.setUint32(4, 36 + 2 * samples.length, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  v.setUint32(16, 16, true); // fmt chunk size
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, rate, true);
  v.setUint32(28, 2 * rate, true); // bytes per second
  v.setUint16(32, 2, true); // bytes per frame
  v.setUint16(34, 16, true); // bits per sample
  text(36, 'data');
  v.setUint32(40, 2 * samples.length, true);
  for (let i = 0; i < samples.length; i++) v.setInt16(44 + 2 * i, Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767), true);
  return out;
}

/**
 * Where the recipe's sentences are, in seconds: from the same speech without the noise, the first
 * and last sample of each sentence above 2% of the peak, runs closer than half a gap merged (pauses
 * between words stay inside their sentence). One interval per sentence, or an error.
 */
export function speechIntervals(recipe: SpeechRecipe = DEFAULT_SPEECH): { start: number; end: number }[] {
  const clean = speech({ ...recipe, noise: 0 });
  let peak = 0;
  for (const x of clean) peak = Math.max(peak, Math.abs(x));
  const loud = 0.02 * peak;
  const joinGap = (recipe.gap / 2) * SPEECH_RATE;
  const out: { start: number; end: number }[] = [];
  let start = -1;
  let last = -1;
  for (let i = 0; i < clean.length; i++) {
    if (Math.abs(clean[i]) < loud) continue;
    if (start >= 0 && i - last > joinGap) {
      out.push({ start: start / SPEECH_RATE, end: (last + 1) / SPEECH_RATE });
      start = -1;
    }
    if (start < 0) start = i;
    last = i;
  }
  if (start >= 0) out.push({ start: start / SPEECH_RATE, end: (last + 1) / SPEECH_RATE });
  if (out.length !== recipe.sentences.length)
    throw new Error(`speechIntervals: found ${out.length} spoken intervals for ${recipe.sentences.length} sentences`);
  return out;
}
