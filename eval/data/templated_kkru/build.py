#!/usr/bin/env python3
"""Build pairs/<name>/{kk.txt,ru.txt,gold.tsv} from src/<name>.src.
Format: '@kk' / '@ru' switch side; each line 'ID| text' where ID '-' = no counterpart,
any other ID must occur exactly once on each side (gold link)."""
import sys, os, re, glob
base = os.path.dirname(os.path.abspath(__file__))
def build(path):
    name = os.path.basename(path)[:-4]
    side = None; L = {'kk': [], 'ru': []}
    for raw in open(path, encoding='utf-8'):
        raw = raw.rstrip('\n')
        if not raw.strip() or raw.startswith('##'): continue
        if raw.strip() in ('@kk', '@ru'): side = raw.strip()[1:]; continue
        tag, _, text = raw.partition('| ')
        text = re.sub(r'\s+', ' ', text).strip()
        assert side and text and '|' not in tag, (path, raw)
        L[side].append((tag.strip(), text))
    ids = {s: {} for s in L}
    for s in L:
        for i, (t, _) in enumerate(L[s]):
            if t != '-':
                assert t not in ids[s][t] if False else t not in ids[s], (name, s, 'dup', t)
                ids[s][t] = i
    assert set(ids['kk']) == set(ids['ru']), (name, set(ids['kk']) ^ set(ids['ru']))
    d = os.path.join(base, 'pairs', name); os.makedirs(d, exist_ok=True)
    for s in L:
        with open(os.path.join(d, s + '.txt'), 'w', encoding='utf-8') as f:
            f.write(''.join(t + '\n' for _, t in L[s]))
    gold = sorted((ids['kk'][t], ids['ru'][t]) for t in ids['kk'])
    with open(os.path.join(d, 'gold.tsv'), 'w') as f:
        f.write(''.join(f'{a}\t{b}\n' for a, b in gold))
    nk, nr, ng = len(L['kk']), len(L['ru']), len(gold)
    print(f'{name}\tkk={nk}\tru={nr}\tgold={ng}\tgold/kk={ng/nk:.2f}\tgold/ru={ng/nr:.2f}')
for p in sorted(glob.glob(os.path.join(base, 'src', '*.src'))):
    build(p)
