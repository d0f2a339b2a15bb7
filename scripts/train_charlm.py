"""Trains the demo app's character-level text generator: a 2-layer LSTM 256 over one-hot characters,
with a linear head to the next character's logits, on the fortunes corpus (scripts/corpus.py).

    /usr/bin/python3 scripts/train_charlm.py [--minutes 10] [--seed 1234]

CPU only (Debian's python3-torch), deterministic for a seed and thread count. Writes:
  demo/app/models/charlm.safetensors  the LSTM (PyTorch names under 'lstm.') and the head, f16
  demo/app/models/charlm.onnx         one step: (x [1, 1, V], h0, c0) -> (logits, hn, cn), f32 (of the f16 weights)
  demo/app/models/charlm.json         vocabulary, sizes, seed, steps, final losses
  test/fixtures/app/charlm.json       PyTorch's float32 outputs for a fixed prompt (test oracle)
"""
import os

# Before torch loads its BLAS: one BLAS thread. These GEMMs are small (batch × 4H), and on 2 cores a
# second thread made each step 2-4x slower (OpenBLAS's threads fighting torch's OpenMP ones).
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import corpus  # noqa: E402
import training  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), '..')
VOCAB = '\n' + ''.join(chr(c) for c in range(32, 127))
HIDDEN = 256
LAYERS = 2


class CharLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(len(VOCAB), HIDDEN, LAYERS)
        self.head = nn.Linear(HIDDEN, len(VOCAB))

    def forward(self, x, state=None):
        y, state = self.lstm(x, state)
        return self.head(y), state


def encode(text):
    index = {c: i for i, c in enumerate(VOCAB)}
    return torch.tensor([index[c] for c in text], dtype=torch.long)


def one_hot(ids):
    return nn.functional.one_hot(ids, len(VOCAB)).float()


def main():
    args = training.parse_args(__doc__)
    train, held = corpus.split()
    data = encode('\n\n'.join(train) + '\n\n')
    held_data = encode('\n\n'.join(held) + '\n\n')
    model = CharLM()
    T, B = 40, 48
    g = torch.Generator().manual_seed(args.seed)

    def batch_loss():
        i = torch.randint(0, len(data) - T - 1, (B,), generator=g)
        seq = torch.stack([data[j:j + T + 1] for j in i.tolist()], dim=1)  # [T+1, B]
        logits, _ = model(one_hot(seq[:-1]))
        return nn.functional.cross_entropy(logits.reshape(-1, len(VOCAB)), seq[1:].reshape(-1))

    step, train_loss = training.train_for(model, args.minutes, batch_loss, decay=True)
    model.eval()
    with torch.no_grad():
        n = min(len(held_data) - 1, 50000)
        logits, _ = model(one_hot(held_data[:n]).unsqueeze(1))
        held_loss = nn.functional.cross_entropy(logits.squeeze(1), held_data[1:n + 1]).item()
    print(f'final: {step} steps, train loss {train_loss:.3f} nats/char, held-out {held_loss:.3f} nats/char '
          f'({held_loss / math.log(2):.3f} bits/char)')

    models = os.path.join(ROOT, 'demo/app/models')
    os.makedirs(models, exist_ok=True)
    tensors = {f'lstm.{k}': v.half() for k, v in model.lstm.state_dict().items()}
    tensors.update({f'head.{k}': v.half() for k, v in model.head.state_dict().items()})
    training.write_safetensors(os.path.join(models, 'charlm.safetensors'), tensors)

    meta = {'vocab': VOCAB, 'hiddenSize': HIDDEN, 'numLayers': LAYERS, 'seed': args.seed, 'steps': step,
            'minutes': args.minutes, 'trainLoss': round(train_loss, 4), 'heldOutLoss': round(held_loss, 4),
            'command': f'/usr/bin/python3 scripts/train_charlm.py --minutes {args.minutes:g} --seed {args.seed} --threads {args.threads}'}
    with open(os.path.join(models, 'charlm.json'), 'w') as f:
        json.dump(meta, f, indent=2)

    # The oracle of the app's tests: the f16-stored weights, run by PyTorch in float32.
    fixture_model = CharLM()
    fixture_model.lstm.load_state_dict({k[5:]: v.float() for k, v in tensors.items() if k.startswith('lstm.')})
    fixture_model.head.load_state_dict({k[5:]: v.float() for k, v in tensors.items() if k.startswith('head.')})
    # ONNX: the same f16-rounded weights, so that the safetensors and the ONNX paths share one oracle.
    class OneStep(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x, h0, c0):
            logits, (h, c) = self.m(x, (h0, c0))
            return logits, h, c

    z = torch.zeros(LAYERS, 1, HIDDEN)
    torch.onnx.export(OneStep(fixture_model), (torch.zeros(1, 1, len(VOCAB)), z, z), os.path.join(models, 'charlm.onnx'),
                      input_names=['x', 'h0', 'c0'], output_names=['logits', 'hn', 'cn'], opset_version=14)
    prompt = 'The quick brown fox'
    with torch.no_grad():
        x = one_hot(encode(prompt)).unsqueeze(1)
        y, (h, c) = fixture_model.lstm(x)
        logits = fixture_model.head(y)
    fixtures = os.path.join(ROOT, 'test/fixtures/app')
    os.makedirs(fixtures, exist_ok=True)
    with open(os.path.join(fixtures, 'charlm.json'), 'w') as f:
        json.dump({'prompt': prompt, 'Y': y.flatten().tolist(), 'Y_h': h.flatten().tolist(), 'Y_c': c.flatten().tolist(),
                   'logits': logits.flatten().tolist()}, f)


if __name__ == '__main__':
    main()
