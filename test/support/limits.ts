// A view of a GPUDevice whose limits are lowered (the library reads them through deviceCaps), so that
// tests reach the paths a device with smaller limits takes (refusals, runs split over seqLen) with
// small models. Everything else is the real device.
export function withLimits(device: GPUDevice, lower: Partial<Record<keyof GPUSupportedLimits, number>>): GPUDevice {
  const limits = new Proxy(device.limits, { get: (t, k) => (k in lower ? lower[k as keyof GPUSupportedLimits] : Reflect.get(t, k)) });
  return new Proxy(device, {
    get: (t, k) => (k === 'limits' ? limits : typeof Reflect.get(t, k) === 'function' ? Reflect.get(t, k).bind(t) : Reflect.get(t, k)),
  });
}
