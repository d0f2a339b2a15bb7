// A plan's calls with their pipelines: compiled (awaiting the per-device cache) for runs, or taken
// only where already compiled for encode(), which cannot wait.
import { pipeline, readyPipeline } from '../kernels/pipelines.js';
import type { Precision } from '../model/types.js';
import type { KernelCall, LayerPlan } from '../plan/layer.js';

/** A kernel call with its compiled pipeline. */
export interface CompiledCall extends KernelCall {
  pipeline: GPUComputePipeline;
}

/** A layer's plan with every call's pipeline: what a run records. */
export interface CompiledLayer extends LayerPlan {
  inputProj: CompiledCall;
  step: CompiledCall[];
  sequence?: CompiledCall;
}

/** The call with its pipeline, compiled once per device. */
export async function compileCall(device: GPUDevice, precision: Precision, call: KernelCall): Promise<CompiledCall> {
  return { ...call, pipeline: await pipeline(device, call.kernel, call.constants, call.lengths, precision) };
}

/** Every call of a layer's plan with its pipeline, compiled in parallel. */
export async function compileLayer(device: GPUDevice, precision: Precision, plan: LayerPlan): Promise<CompiledLayer> {
  const withPipeline = (call: KernelCall) => compileCall(device, precision, call);
  const [inputProj, sequence, ...step] = await Promise.all([
    withPipeline(plan.inputProj),
    plan.sequence ? withPipeline(plan.sequence) : undefined,
    ...plan.step.map(withPipeline),
  ]);
  return { ...plan, inputProj, step, sequence };
}

/** The layers' plans with their pipelines where every one has finished compiling, else undefined. */
export function readyLayers(device: GPUDevice, precision: Precision, plans: LayerPlan[]): CompiledLayer[] | undefined {
  let missing = false;
  const ready = (call: KernelCall): CompiledCall => {
    const p = readyPipeline(device, call.kernel, call.constants, call.lengths, precision);
    missing ||= p === undefined;
    return { ...call, pipeline: p! };
  };
  const layers = plans.map((plan) => ({
    ...plan,
    inputProj: ready(plan.inputProj),
    step: plan.step.map(ready),
    sequence: plan.sequence && ready(plan.sequence),
  }));
  return missing ? undefined : layers;
}
