// Page-wide WebGPU instrumentation, the same for every engine: the prototypes of the WebGPU classes are
// wrapped once, so dispatches and submits are counted whoever issues them (webgpu-rnn, TF.js's JS
// backend, ONNX Runtime's WASM-compiled EP calling the JS API). Counting and timestamps are switched on
// only for dedicated, untimed runs; otherwise the wrappers cost one flag test per call.

export interface Counts {
  dispatches: number;
  submits: number;
  passes: number;
}

const counts: Counts = { dispatches: 0, submits: 0, passes: 0 };
let counting = false;
let installed = false;

/** Per-device timestamp state while a timed-on-GPU run is active. */
interface TsState {
  querySet: GPUQuerySet;
  resolve: GPUBuffer;
  capacity: number;
  next: number;
  /** Begin indices of the passes that got timestamp writes. */
  pairs: number[];
  overflow: boolean;
}
const tsStates = new Map<GPUDevice, TsState>();
const encoderDevice = new WeakMap<GPUCommandEncoder, GPUDevice>();

export function installInstrumentation(): void {
  if (installed || typeof GPUComputePassEncoder === 'undefined') return;
  installed = true;
  const pass = GPUComputePassEncoder.prototype;
  const dispatch = pass.dispatchWorkgroups;
  pass.dispatchWorkgroups = function (this: GPUComputePassEncoder, x: number, y?: number, z?: number) {
    if (counting) counts.dispatches++;
    return dispatch.call(this, x, y, z);
  };
  const indirect = pass.dispatchWorkgroupsIndirect;
  pass.dispatchWorkgroupsIndirect = function (this: GPUComputePassEncoder, b: GPUBuffer, o: number) {
    if (counting) counts.dispatches++;
    return indirect.call(this, b, o);
  };
  const queue = GPUQueue.prototype;
  const submit = queue.submit;
  queue.submit = function (this: GPUQueue, cbs: Iterable<GPUCommandBuffer>) {
    if (counting) counts.submits++;
    return submit.call(this, cbs);
  };
  const dev = GPUDevice.prototype;
  const createEncoder = dev.createCommandEncoder;
  dev.createCommandEncoder = function (this: GPUDevice, d?: GPUCommandEncoderDescriptor) {
    const enc = createEncoder.call(this, d);
    if (tsStates.size && tsStates.has(this)) encoderDevice.set(enc, this);
    return enc;
  };
  const encoder = GPUCommandEncoder.prototype;
  const beginCompute = encoder.beginComputePass;
  encoder.beginComputePass = function (this: GPUCommandEncoder, d?: GPUComputePassDescriptor) {
    if (counting) counts.passes++;
    const st = tsStates.size ? tsStates.get(encoderDevice.get(this)!) : undefined;
    if (st && !d?.timestampWrites) {
      if (st.next + 2 > st.capacity) st.overflow = true;
      else {
        const i = st.next;
        st.next += 2;
        st.pairs.push(i);
        return beginCompute.call(this, {
          ...d,
          timestampWrites: { querySet: st.querySet, beginningOfPassWriteIndex: i, endOfPassWriteIndex: i + 1 },
        });
      }
    }
    return beginCompute.call(this, d);
  };
  const finish = encoder.finish;
  encoder.finish = function (this: GPUCommandEncoder, d?: GPUCommandBufferDescriptor) {
    const device = encoderDevice.get(this);
    const st = device ? tsStates.get(device) : undefined;
    if (st && st.next > 0) {
      // Resolve everything written so far; later encoders resolve again (cheap, and order-safe).
      this.resolveQuerySet(st.querySet, 0, st.next, st.resolve, 0);
    }
    return finish.call(this, d);
  };
}

/** Counts the dispatches and submits that `fn` causes, page-wide. */
export async function countDuring<T>(fn: () => Promise<T>): Promise<{ value: T; counts: Counts }> {
  counts.dispatches = counts.submits = counts.passes = 0;
  counting = true;
  try {
    const value = await fn();
    return { value, counts: { ...counts } };
  } finally {
    counting = false;
  }
}

/**
 * GPU time of `fn`'s compute passes on `device` from timestamp queries (sum of pass durations, ms), or
 * a reason string when the device cannot measure it.
 */
export async function gpuTimeDuring<T>(device: GPUDevice | undefined, fn: () => Promise<T>): Promise<{ value: T; gpuMs: number | string }> {
  if (!device) return { value: await fn(), gpuMs: 'no device handle' };
  if (!device.features.has('timestamp-query')) return { value: await fn(), gpuMs: 'device without timestamp-query' };
  const capacity = 4096;
  const st: TsState = {
    querySet: device.createQuerySet({ type: 'timestamp', count: capacity }),
    resolve: device.createBuffer({ size: capacity * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
    capacity,
    next: 0,
    pairs: [],
    overflow: false,
  };
  tsStates.set(device, st);
  let value: T;
  try {
    value = await fn();
  } finally {
    tsStates.delete(device);
  }
  try {
    if (!st.pairs.length) return { value, gpuMs: 'no compute pass recorded' };
    const read = device.createBuffer({ size: st.next * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(st.resolve, 0, read, 0, st.next * 8);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const t = new BigUint64Array(read.getMappedRange().slice(0));
    read.destroy();
    let ns = 0;
    for (const i of st.pairs) if (t[i + 1] > t[i]) ns += Number(t[i + 1] - t[i]);
    return { value, gpuMs: st.overflow ? `> ${(ns / 1e6).toFixed(3)} (query set full)` : ns / 1e6 };
  } finally {
    st.querySet.destroy();
    st.resolve.destroy();
  }
}
