// The package's public surface: src/index.ts exports exactly the names (values and types) it
// exported before the layered restructuring (the list below was taken from the index of
// 2026-12-06, before any file moved). A name added or lost here is an API change: make it on
// purpose and update the list.
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';

const EXPORTS = [
  // Added on purpose by issue 18: a run cancelled through options.signal.
  'AbortError',
  // Added on purpose by issue 20: whole recordings (session.scan) and the VAD helpers.
  'ScanOptions (type)',
  'ScanPlan (type)',
  'SegmentOptions (type)',
  'SpeechSegment (type)',
  'audioWindows',
  'segmentsToWebVtt',
  'speechSegments',
  'ACTIVATION_NAMES',
  'CellType (type)',
  'CheckpointManifest (type)',
  'CreateRnnOptions (type)',
  'DecodedTensor (type)',
  'DestroyedError',
  'DeviceLimitError',
  'DeviceLostError',
  'Direction (type)',
  'EncodeIO (type)',
  'FormatError',
  'GpuError',
  'GpuRunResult (type)',
  'InputError',
  'KernelPlan (type)',
  'LayerChoice (type)',
  'LayerWeights (type)',
  'LayersModel (type)',
  'LayersWeightData (type)',
  'Layout (type)',
  'OnnxCellType (type)',
  // Added on purpose by issue 19: ONNX feeds as onnxruntime Tensors, and streams of a session.
  'OnnxFeed (type)',
  'OnnxSession (type)',
  'OnnxStream (type)',
  'OnnxStreamOptions (type)',
  'OnnxTensor (type)',
  'Precision (type)',
  'PredictOutput (type)',
  'ProjectionVariant (type)',
  'ReadSafetensorsOptions (type)',
  'RequestDeviceOptions (type)',
  'ResolvedSpec (type)',
  'Rnn (type)',
  'RnnSpec (type)',
  'RnnStream (type)',
  'RnnWeights (type)',
  'RunOptions (type)',
  'RunResult (type)',
  'SafetensorsFloatDtype (type)',
  'SafetensorsTensor (type)',
  'ShaderContractError',
  'SpecError',
  'StepKernels (type)',
  'StepVariant (type)',
  'StreamOptions (type)',
  'Tf1LstmOptions (type)',
  'Tf1WeightData (type)',
  'TorchConfig (type)',
  'TorchTensor (type)',
  'TuneReport (type)',
  'TuneShape (type)',
  'TuningEntry (type)',
  'TuningTable (type)',
  'UnsupportedError',
  'WebGPUUnavailableError',
  'WebGpuRnnError',
  'WeightError',
  'WeightsManifestEntry (type)',
  'WeightsManifestGroup (type)',
  'createRnn',
  'fromTorch',
  'loadLayersModel',
  'loadOnnx',
  'loadTf1Lstm',
  'readSafetensors',
  'readWeightsManifest',
  'requestDevice',
];

it('src/index.ts exports exactly the names it exported before the restructuring', () => {
  const file = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.ESNext,
    target: ts.ScriptTarget.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  const names = checker
    .getExportsOfModule(module)
    .map((s) => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      return `${s.getName()}${target.flags & ts.SymbolFlags.Value ? '' : ' (type)'}`;
    })
    .sort();
  expect(names).toEqual([...EXPORTS].sort());
});

it('the runtime exports are the value names of that list', async () => {
  const lib = await import('../../src/index.js');
  expect(Object.keys(lib).sort()).toEqual(EXPORTS.filter((n) => !n.endsWith(' (type)')).sort());
});
