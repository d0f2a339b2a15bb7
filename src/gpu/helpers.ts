// Small WebGPU helpers: usage flags, labelled buffers, error scopes, readback.
import { GpuError } from '../core/errors.js';

// The WebGPU spec's flag values, so the library also works where GPUBufferUsage & co. are not globals
// (Node with the `webgpu` package unless its globals are installed).
export const Usage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;
export const SHADER_STAGE_COMPUTE = 0x4;
export const MAP_MODE_READ = 0x0001;

/** Byte size rounded up to 16 (copies need multiples of 4; 16 keeps vec4-sized bindings valid). */
export function paddedSize(bytes: number): number {
  return Math.max(16, Math.ceil(bytes / 16) * 16);
}

/** queue.writeBuffer of a whole typed array at `byteOffset` (default 0). */
export function writeArray(queue: GPUQueue, buffer: GPUBuffer, data: Float32Array | Uint32Array | Uint16Array, byteOffset = 0): void {
  queue.writeBuffer(buffer, byteOffset, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
}

/** A storage buffer holding `data`, or `floats` zeros. */
export function storageBuffer(
  device: GPUDevice,
  label: string,
  data: Float32Array | Uint32Array | Uint16Array | number,
  extraUsage = 0,
): GPUBuffer {
  const bytes = typeof data === 'number' ? data * 4 : data.byteLength;
  const buffer = device.createBuffer({
    label,
    size: paddedSize(bytes),
    usage: Usage.STORAGE | Usage.COPY_DST | Usage.COPY_SRC | extraUsage,
  });
  if (typeof data !== 'number' && data.byteLength > 0) writeArray(device.queue, buffer, data);
  return buffer;
}

/**
 * Runs `body` inside validation and out-of-memory error scopes; rejects with GpuError naming `what`.
 * `body` may close the scopes early by calling the function it is given (right after its last
 * submit, say): popping a scope is a round trip to the GPU process in a browser, and closed early
 * those round trips overlap with the body's own waiting (a readback) instead of following it.
 */
export async function withErrorScopes<T>(device: GPUDevice, what: string, body: (closeScopes: () => void) => Promise<T> | T): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let popped: Promise<[GPUError | null, GPUError | null]> | undefined;
  const closeScopes = () => {
    popped ??= (async () => {
      const validation = device.popErrorScope();
      const oom = device.popErrorScope();
      return [await validation, await oom];
    })();
  };
  let result: T;
  let thrown: unknown;
  try {
    result = await body(closeScopes);
  } catch (e) {
    thrown = e;
  }
  closeScopes();
  const [validation, oom] = await popped!;
  if (thrown !== undefined) throw thrown;
  if (oom)
    throw new GpuError(
      `${what}: the GPU ran out of memory (${oom.message}); use smaller batches or sequences, or a device with more memory`,
    );
  if (validation) throw new GpuError(`${what}: WebGPU validation error: ${validation.message}`);
  return result!;
}
