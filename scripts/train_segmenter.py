"""Trains the demo app's word segmenter: a character-level bidirectional LSTM that restores the spaces
of text typed without them ("thequickbrownfox" -> "the quick brown fox"), on the fortunes corpus
(scripts/corpus.py).

    /usr/bin/python3 scripts/train_segmenter.py [--minutes 10] [--seed 1234]

Text is lower-cased and reduced to letters and single spaces; the input is the letters alone, one-hot
over a..z, and the target of each letter is whether a word boundary (a space, or the end of a line)
follows it. Model: BiLSTM (1 layer, 128 units per direction) and a linear head on [forward; backward]
to one logit; dropout while training (DROPOUT, LETTER_DROPOUT). CPU only. Writes:
  demo/app/models/segmenter.safetensors  the BiLSTM (PyTorch names under 'lstm.') and the head, f32
  demo/app/models/segmenter.json         sizes, seed, steps, final loss, held-out boundary F1
  test/fixtures/app/segmenter.json       PyTorch's outputs for a fixed held-out sentence (test oracle)
"""
import os

# Before torch loads its BLAS: one BLAS thread. These GEMMs are small (batch × 4H), and on 2 cores a
# second thread made each step 2-4x slower (OpenBLAS's threads fighting torch's OpenMP ones).
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import corpus  # noqa: E402
import training  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), '..')
LETTERS = 'abcdefghijklmnopqrstuvwxyz'
HIDDEN = 128
# Regularisation. 1.4M training letters are few for a 128-unit BiLSTM: without it, 15 minutes ended at
# a training loss of 0.025 and a held-out F1 of 0.941 (memorised, not learnt).
DROPOUT = 0.3          # on the BiLSTM's outputs, before the head
LETTER_DROPOUT = 0.1   # whole input letters zeroed while training, so that context must stand in for them


def words_of(entries):
    """Each entry's lines as lists of lower-case letter-only words."""
    lines = []
    for e in entries:
        for line in e.split('\n'):
            ws = [w for w in re.sub(r'[^a-z]+', ' ', line.lower()).split() if w]
            if ws:
                lines.append(ws)
    return lines


def encode(lines):
    """Concatenated letters and, per letter, 1 if a word ends there."""
    ids, ends = [], []
    for ws in lines:
        for w in ws:
            ids.extend(LETTERS.index(c) for c in w)
            ends.extend([0] * (len(w) - 1) + [1])
    return torch.tensor(ids), torch.tensor(ends, dtype=torch.float)


class Segmenter(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(len(LETTERS), HIDDEN, 1, bidirectional=True)
        self.head = nn.Linear(2 * HIDDEN, 1)
        self.drop = nn.Dropout(DROPOUT)

    def forward(self, x):
        if self.training and LETTER_DROPOUT:
            x = x * (torch.rand(x.shape[:-1]) >= LETTER_DROPOUT).float().unsqueeze(-1)
        y, _ = self.lstm(x)
        return self.head(self.drop(y)).squeeze(-1)


def one_hot(ids):
    return nn.functional.one_hot(ids, len(LETTERS)).float()


def f1(model, ids, ends, window=200):
    tp = fp = fn = 0
    with torch.no_grad():
        for i in range(0, len(ids), window):
            p = torch.sigmoid(model(one_hot(ids[i:i + window]).unsqueeze(1)).squeeze(1)) > 0.5
            t = ends[i:i + window] > 0.5
            tp += (p & t).sum().item()
            fp += (p & ~t).sum().item()
            fn += (~p & t).sum().item()
    prec, rec = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return 2 * prec * rec / max(prec + rec, 1e-9), prec, rec


def main():
    args = training.parse_args(__doc__)
    train, held = corpus.split()
    ids, ends = encode(words_of(train))
    held_ids, held_ends = encode(words_of(held))
    model = Segmenter()
    T, B = 60, 64
    g = torch.Generator().manual_seed(args.seed)

    def batch_loss():
        i = torch.randint(0, len(ids) - T, (B,), generator=g).tolist()
        x = torch.stack([ids[j:j + T] for j in i], dim=1)
        t = torch.stack([ends[j:j + T] for j in i], dim=1)
        return nn.functional.binary_cross_entropy_with_logits(model(one_hot(x)), t)

    step, train_loss = training.train_for(model, args.minutes, batch_loss, lr=5e-3, decay=True)
    model.eval()
    score, prec, rec = f1(model, held_ids, held_ends)
    print(f'final: {step} steps, train loss {train_loss:.4f}, held-out boundary F1 {score:.4f} (precision {prec:.4f}, recall {rec:.4f})')

    models = os.path.join(ROOT, 'demo/app/models')
    os.makedirs(models, exist_ok=True)
    tensors = {f'lstm.{k}': v for k, v in model.lstm.state_dict().items()}
    tensors.update({f'head.{k}': v for k, v in model.head.state_dict().items()})
    training.write_safetensors(os.path.join(models, 'segmenter.safetensors'), tensors)
    meta = {'letters': LETTERS, 'hiddenSize': HIDDEN, 'dropout': DROPOUT, 'letterDropout': LETTER_DROPOUT, 'seed': args.seed, 'steps': step, 'minutes': args.minutes,
            'trainLoss': round(train_loss, 4), 'heldOutF1': round(score, 4), 'precision': round(prec, 4), 'recall': round(rec, 4),
            'heldOutLetters': len(held_ids),
            'command': f'/usr/bin/python3 scripts/train_segmenter.py --minutes {args.minutes:g} --seed {args.seed} --threads {args.threads}'}
    with open(os.path.join(models, 'segmenter.json'), 'w') as f:
        json.dump(meta, f, indent=2)

    sentence = ' '.join(words_of(held)[3])
    letters = sentence.replace(' ', '')
    with torch.no_grad():
        x = one_hot(torch.tensor([LETTERS.index(c) for c in letters])).unsqueeze(1)
        y, (h, c) = model.lstm(x)
        logits = model.head(y).squeeze(-1).squeeze(-1)
    fixtures = os.path.join(ROOT, 'test/fixtures/app')
    os.makedirs(fixtures, exist_ok=True)
    with open(os.path.join(fixtures, 'segmenter.json'), 'w') as f:
        json.dump({'sentence': sentence, 'letters': letters, 'Y': y.flatten().tolist(), 'Y_h': h.flatten().tolist(),
                   'Y_c': c.flatten().tolist(), 'logits': logits.flatten().tolist()}, f)


if __name__ == '__main__':
    main()
