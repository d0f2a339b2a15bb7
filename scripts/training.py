"""What the demo app's two training scripts share: their command line, the time-budgeted training loop
(Adam, gradient clipping at 1, a progress line every 200 steps), and writing safetensors files.
"""
import argparse
import time

import torch
from torch import nn


def parse_args(description):
    """--minutes (the time budget), --seed, --threads; seeds torch and sets its thread count."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument('--minutes', type=float, default=10)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    return args


def train_for(model, minutes, batch_loss, lr=3e-3, decay=False):
    """Trains `model` until `minutes` have passed: each step takes batch_loss() (the loss of a fresh
    random batch), clips the gradient norm to 1 and steps Adam at `lr`, or with `decay` at a rate
    that falls linearly with the time used to a tenth of `lr` at the end. Returns (steps, the mean
    loss of the last 200 steps)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    start = time.time()
    step = 0
    losses = []
    while time.time() - start < minutes * 60:
        loss = batch_loss()
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        if decay:
            for group in opt.param_groups:
                group['lr'] = lr * (1 - 0.9 * min(1.0, (time.time() - start) / (minutes * 60)))
        opt.step()
        losses.append(loss.item())
        step += 1
        if step % 200 == 0:
            print(f'step {step} loss {sum(losses[-200:]) / 200:.4f} ({time.time() - start:.0f} s)', flush=True)
    return step, sum(losses[-200:]) / len(losses[-200:])


def write_safetensors(path, tensors):
    """A safetensors file (header JSON, then the raw little-endian data) without the safetensors package."""
    import json
    import struct
    header = {}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        arr = t.detach().contiguous().cpu()
        dtype = {'torch.float32': 'F32', 'torch.float16': 'F16'}[str(arr.dtype)]
        data = arr.numpy().tobytes()
        header[name] = {'dtype': dtype, 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
