// Device loss as the library reports it: a DeviceLostError carrying the browser's reason.
import { DeviceLostError } from '../core/errors.js';

/**
 * The library's error for a GPU failure when the device turns out to be lost: WebGPU rejects
 * pending work with a bare AbortError/OperationError, and device.lost may settle a moment later
 * (hence a 100 ms wait, on failure paths only). `known`: the loss already seen.
 */
export async function lostDeviceError(device: GPUDevice, known?: GPUDeviceLostInfo): Promise<DeviceLostError | undefined> {
  const info = known ?? (await Promise.race([device.lost, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]));
  if (!info) return undefined;
  return new DeviceLostError(
    `the GPU device was lost (reason '${info.reason}'${info.message ? `: ${info.message}` : ''}); ` +
      'this model cannot run on it again: create it again with createRnn on a new device (requestDevice())',
    info.reason,
  );
}
