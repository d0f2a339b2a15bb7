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
