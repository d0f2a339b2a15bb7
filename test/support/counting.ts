// A counting wrapper around a GPUDevice: dispatches, submits, pipelines compiled, and the buffers created
// and destroyed (with their bytes) and readbacks (mapAsync), so tests can assert dispatch budgets, that
// nothing compiles, and the absence of leaks. It wraps the
// device in a Proxy; the objects WebGPU validates (buffers, layouts) stay the real ones.
export interface Counts {
  dispatches: number;
  submits: number;
  /** The most dispatches any one submitted command buffer held. */
  maxDispatchesPerSubmit: number;
  /** GPUBuffer.mapAsync calls (readbacks) on buffers created through the wrapper. */
  maps: number;
  /** createComputePipeline and createComputePipelineAsync calls (compilations). */
  pipelines: number;
  buffersCreated: number;
  buffersDestroyed: number;
  liveBytes: number;
}

/** `onSubmit` (optional) runs before each submit, with the number of submits so far (that one included). */
export function countingDevice(
  device: GPUDevice,
  onSubmit?: (submits: number) => void,
): { device: GPUDevice; counts: Counts; reset(): void } {
  const counts: Counts = {
    dispatches: 0,
    submits: 0,
    maxDispatchesPerSubmit: 0,
    maps: 0,
    pipelines: 0,
    buffersCreated: 0,
    buffersDestroyed: 0,
    liveBytes: 0,
  };
  // Dispatches recorded into each encoder, then carried by the command buffer it finishes into.
  const perBuffer = new WeakMap<GPUCommandBuffer, number>();
  const bind = <T extends object>(target: T, key: PropertyKey) => {
    const v = Reflect.get(target, key);
    return typeof v === 'function' ? v.bind(target) : v;
  };
  const wrapPass = (pass: GPUComputePassEncoder, encoded: { dispatches: number }) =>
    new Proxy(pass, {
      get(target, key) {
        if (key === 'dispatchWorkgroups' || key === 'dispatchWorkgroupsIndirect') {
          return (...args: unknown[]) => {
            counts.dispatches++;
            encoded.dispatches++;
            return (Reflect.get(target, key) as (...a: unknown[]) => void).apply(target, args);
          };
        }
        return bind(target, key);
      },
    });
  const wrapEncoder = (enc: GPUCommandEncoder) => {
    const encoded = { dispatches: 0 };
    return new Proxy(enc, {
      get(target, key) {
        if (key === 'beginComputePass') return (d?: GPUComputePassDescriptor) => wrapPass(target.beginComputePass(d), encoded);
        if (key === 'finish')
          return (d?: GPUCommandBufferDescriptor) => {
            const cb = target.finish(d);
            perBuffer.set(cb, encoded.dispatches);
            return cb;
          };
        return bind(target, key);
      },
    });
  };
  const queue = new Proxy(device.queue, {
    get(target, key) {
      if (key === 'submit')
        return (cbs: GPUCommandBuffer[]) => {
          counts.submits++;
          onSubmit?.(counts.submits);
          for (const cb of cbs) counts.maxDispatchesPerSubmit = Math.max(counts.maxDispatchesPerSubmit, perBuffer.get(cb) ?? 0);
          return target.submit(cbs);
        };
      return bind(target, key);
    },
  });
  const wrapped = new Proxy(device, {
    get(target, key) {
      if (key === 'queue') return queue;
      if (key === 'createCommandEncoder') return (d?: GPUCommandEncoderDescriptor) => wrapEncoder(target.createCommandEncoder(d));
      if (key === 'createComputePipeline' || key === 'createComputePipelineAsync') {
        return (d: GPUComputePipelineDescriptor) => {
          counts.pipelines++;
          return (Reflect.get(target, key) as (d: GPUComputePipelineDescriptor) => unknown).call(target, d);
        };
      }
      if (key === 'createBuffer') {
        return (d: GPUBufferDescriptor) => {
          const buffer = target.createBuffer(d);
          counts.buffersCreated++;
          counts.liveBytes += d.size;
          const mapAsync = buffer.mapAsync.bind(buffer);
          buffer.mapAsync = (...args: Parameters<GPUBuffer['mapAsync']>) => {
            counts.maps++;
            return mapAsync(...args);
          };
          const destroy = buffer.destroy.bind(buffer);
          let destroyed = false;
          buffer.destroy = () => {
            if (!destroyed) {
              destroyed = true;
              counts.buffersDestroyed++;
              counts.liveBytes -= d.size;
            }
            destroy();
          };
          return buffer;
        };
      }
      return bind(target, key);
    },
  });
  return {
    device: wrapped,
    counts,
    reset() {
      counts.dispatches = 0;
      counts.submits = 0;
      counts.maxDispatchesPerSubmit = 0;
      counts.maps = 0;
      counts.pipelines = 0;
    },
  };
}
