"""The training corpus of the demo app's models: the fortune cookies of Debian's `fortunes` package.

The files are BSD-licensed (Copyright (c) 1991 The Regents of the University of California; see
/usr/share/doc/fortunes/copyright and demo/app/models/LICENSE-fortunes.txt). Each file holds
entries separated by lines with a single '%'. We keep entries of printable ASCII only, collapse
runs of whitespace inside a line, and split them deterministically into training and held-out
parts (every 20th entry is held out).
"""
import glob
import os
import re

FORTUNE_DIR = '/usr/share/games/fortunes'


def entries():
    out = []
    for path in sorted(glob.glob(os.path.join(FORTUNE_DIR, '*'))):
        if path.endswith('.dat') or path.endswith('.u8') or os.path.isdir(path) or os.path.islink(path):
            continue
        with open(path, 'rb') as f:
            raw = f.read()
        try:
            text = raw.decode('ascii')
        except UnicodeDecodeError:
            continue
        for entry in text.split('\n%\n'):
            entry = entry.strip('\n%')
            lines = [re.sub(r'[ \t]+', ' ', l).strip() for l in entry.split('\n')]
            entry = '\n'.join(l for l in lines if l)
            if entry and all(c == '\n' or 32 <= ord(c) < 127 for c in entry):
                out.append(entry)
    return out


def split():
    """(training entries, held-out entries)."""
    all_entries = entries()
    train = [e for i, e in enumerate(all_entries) if i % 20 != 0]
    held = [e for i, e in enumerate(all_entries) if i % 20 == 0]
    return train, held
