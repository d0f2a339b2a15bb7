// createRnn: every option checked (each mistake a SpecError or InputError that says what to write
// instead) and the model's limits checked against the device, before any GPU work; then the model
// is built, its kernels compiled in parallel, tuned where asked, and warmed up.
import { GpuError, InputError, SpecError, WebGpuRnnError } from '../core/errors.js';
import { deviceCaps } from '../gpu/adapter.js';
import { withErrorScopes } from '../gpu/helpers.js';
import { resolveSpec, validateWeights } from '../model/spec.js';
import type { ResolvedSpec, RnnSpec, RnnWeights } from '../model/types.js';
import { checkModelLimits } from '../plan/limits.js';
import { stackUnsupported } from '../plan/stack.js';
import { validateTuning, type TuneShape } from '../plan/tuning.js';
import { PROJECTION_VARIANTS, STEP_VARIANTS, variantUnsupported, type ProjectionVariant, type StepVariant } from '../plan/variants.js';
import type { CreateRnnOptions, Rnn } from './api.js';
import { lostDeviceError } from './device-lost.js';
import { RnnModel, type ModelOptions } from './model.js';
import { positiveArg } from './run-io.js';

/** Rejects anything that is not a GPUDevice with a message that says where one comes from. */
function checkDevice(device: unknown): asserts device is GPUDevice {
  const d = device as Partial<GPUDevice> | null | undefined;
  if (
    typeof d !== 'object' ||
    d === null ||
    typeof d.createBuffer !== 'function' ||
    typeof d.createComputePipelineAsync !== 'function' ||
    typeof d.queue !== 'object' ||
    typeof d.limits !== 'object'
  ) {
    const got = d === null ? 'null' : typeof d === 'object' ? Object.prototype.toString.call(d) : typeof d;
    throw new InputError(
      `createRnn(device, spec, weights): device must be a GPUDevice (from requestDevice(), or navigator.gpu's adapter.requestDevice()), got ${got}`,
    );
  }
}

export async function createRnn(device: GPUDevice, spec: RnnSpec, weights: RnnWeights, options: CreateRnnOptions = {}): Promise<Rnn> {
  checkDevice(device);
  const s = resolveSpec(spec);
  validateWeights(s, weights);
  const batch = options.batch === undefined ? 1 : positiveArg('options.batch', options.batch);
  const mode = options.stepKernels ?? 'auto';
  const modes = ['auto', ...STEP_VARIANTS, 'stack', 'per-step'];
  if (!modes.includes(mode))
    throw new SpecError(`options.stepKernels must be one of ${modes.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(mode)}`);
  const forcedStack = mode === 'stack';
  const forced: StepVariant | undefined = mode === 'auto' || mode === 'stack' ? undefined : mode === 'per-step' ? 'tiled' : mode;
  const caps = deviceCaps(device);
  const why = forcedStack ? stackUnsupported(s, caps) : forced && variantUnsupported(s, forced, caps);
  if (why) throw new SpecError(`options.stepKernels '${mode}' does not apply: ${why}; use 'auto', 'direct' or 'tiled'`);
  const projection = options.projection ?? 'auto';
  if (!['auto', ...PROJECTION_VARIANTS].includes(projection)) {
    throw new SpecError(
      `options.projection must be 'auto', ${PROJECTION_VARIANTS.map((m) => `'${m}'`).join(' or ')}, got ${JSON.stringify(projection)}`,
    );
  }
  if (forcedStack && projection !== 'auto') {
    throw new SpecError(
      `options.projection '${projection}' does not apply with stepKernels 'stack', whose kernel computes the input projection itself; leave projection on 'auto'`,
    );
  }
  const seqLen = options.seqLen === undefined ? undefined : positiveArg('options.seqLen', options.seqLen);
  const tuning = options.tuning === undefined ? undefined : validateTuning(options.tuning, s, caps);
  const tune =
    options.tune === true
      ? [{ seqLen: 1, batch }, ...(seqLen && seqLen > 1 ? [{ seqLen, batch }] : [])]
      : !options.tune
        ? []
        : (Array.isArray(options.tune) ? options.tune : [options.tune]).map((t) => ({ ...t, batch: t?.batch ?? batch }));
  if (tune.length && (forced || forcedStack || projection !== 'auto')) {
    throw new SpecError(
      'options.tune measures the kernel variants, options.stepKernels and options.projection force one: give one or the other',
    );
  }
  const precision = options.precision ?? 'f32';
  if (precision !== 'f32' && precision !== 'f16')
    throw new SpecError(`options.precision must be 'f32' or 'f16', got ${JSON.stringify(precision)}`);
  if (precision === 'f16' && !caps.shaderF16) {
    throw new SpecError(
      "options.precision 'f16' needs the device feature 'shader-f16': requestDevice() asks for it where the adapter has it " +
        "(pass requiredFeatures: ['shader-f16'] to your own requestDevice), or use precision 'f32'",
    );
  }
  checkModelLimits(s, caps);
  try {
    return await buildModel(device, s, weights, {
      forced,
      forcedStack,
      projection,
      tuning,
      tune,
      batch,
      seqLen,
      warmUp: options.warmUp ?? true,
      precision,
    });
  } catch (e) {
    throw e instanceof WebGpuRnnError && !(e instanceof GpuError) ? e : ((await lostDeviceError(device)) ?? e);
  }
}

async function buildModel(
  device: GPUDevice,
  s: ResolvedSpec,
  weights: RnnWeights,
  o: Omit<ModelOptions, 'projection'> & {
    projection: 'auto' | ProjectionVariant;
    tune: TuneShape[];
    batch: number;
    seqLen?: number;
    warmUp: boolean;
  },
): Promise<Rnn> {
  const { forced, forcedStack, projection, tuning, tune, batch, seqLen } = o;
  const model = await withErrorScopes(device, 'createRnn', async () => {
    const m = new RnnModel(device, s, weights, {
      forced,
      forcedStack,
      projection: projection === 'auto' ? undefined : projection,
      tuning,
      precision: o.precision,
    });
    try {
      // Single steps (streaming), short sequences and the app's own length alike, compiled in parallel.
      const lengths = [...new Set([1, 2, seqLen ?? 2])];
      await Promise.all(lengths.map((T) => m.compile(batch, false, T)));
    } catch (e) {
      m.destroy();
      throw e;
    }
    return m;
  });
  try {
    if (tune.length) await model.tune(tune);
    if (o.warmUp) await model.warmUp(batch, seqLen);
  } catch (e) {
    model.destroy();
    throw e;
  }
  return model;
}
