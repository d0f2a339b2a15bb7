// One GPUDevice per test file, from the library's own requestDevice() (Dawn in Node). There is no
// skipping: without an adapter every GPU test fails, with a message that says what to install.
import { afterAll, expect } from 'vitest';
import { requestDevice } from '../../src/index.js';

let device: Promise<GPUDevice> | undefined;

export function adapterName(d: GPUDevice): string {
  const info = (d as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (!info) return 'unknown adapter';
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ');
}

export function getTestDevice(): Promise<GPUDevice> {
  if (!device) {
    device = requestDevice().then((d) => {
      console.log(`[webgpu-rnn tests] adapter: ${adapterName(d)}`);
      d.onuncapturederror = (e) => console.error('[webgpu-rnn tests] uncaptured WebGPU error:', e.error.message);
      return d;
    });
    afterAll(async () => {
      (await device)?.destroy();
      device = undefined;
    });
  }
  return device;
}

/**
 * Fails unless the device has the 'subgroups' feature (lavapipe and SwiftShader offer it, and
 * requestDevice() asks for it). Without it the library plans neither the 'subgroup' step nor the
 * quad-shared kernels (main_direct_quad, input_gemv_quad), so a test of those would silently run the
 * plain kernels instead.
 */
export function expectSubgroups(device: GPUDevice, what = 'this test'): void {
  expect(
    device.features.has('subgroups'),
    `${what} needs the 'subgroups' feature, which ${adapterName(device)} did not give the device (features: ${[...device.features].join(', ')})`,
  ).toBe(true);
}
