// What kind of adapter a GPUDevice runs on, for the kernel defaults (plan.ts defaultChoice).
import type { AdapterKind } from '../plan/plan.js';

/** CPU implementations of WebGPU as they name themselves in GPUAdapterInfo. */
const EMULATED = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|basic render|software/i;

/** The device's adapter info as a readable line (GPUDevice.adapterInfo; blank where a browser hides it). */
export function adapterDescription(device: GPUDevice): string {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (!info) return 'unknown adapter';
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') || 'unknown adapter';
}

/** 'emulated' for a CPU implementation (or a fallback adapter), else 'gpu'. */
export function adapterKind(device: GPUDevice): AdapterKind {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).adapterInfo;
  if (!info) return 'gpu';
  if (info.isFallbackAdapter) return 'emulated';
  return EMULATED.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`) ? 'emulated' : 'gpu';
}
