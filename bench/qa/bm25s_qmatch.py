"""bm25s on question-pair files (sentence1,sentence2,label) under the protocol
of `wantloop eval qmatch`, so both sides are measured on the same task.

Retrieval: every distinct sentence of the test file is an entry; each label-1
pair whose two sentences differ queries them all with its sentence1; the
query's own text is not a candidate; gold `any` = every sentence paired
positively with the query in the file, `own` = the pair's sentence2.
Pair classification: BM25 similarity of the two sentences (the mean of each
one's score against the other over its score against itself, in an index of
the file's sentences), thresholded at the value most accurate on the train
file. Tokens: characters and character bigrams of the NFKC-lowercased text
without punctuation or spaces. Prints one JSON object."""
import csv, json, sys, time, unicodedata

import numpy as np
import bm25s
from bm25s.tokenization import Tokenized


def tokens(text):
    t = "".join(c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum())
    return [t[i:i + 2] for i in range(len(t) - 1)] + list(t)


def read(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return [(r["sentence1"], r["sentence2"], r["label"].strip() == "1") for r in csv.DictReader(f)]


class Index:
    def __init__(self, pairs):
        self.entries, self.id = [], {}
        for a, b, _ in pairs:
            for s in (a, b):
                if s not in self.id:
                    self.id[s] = len(self.entries)
                    self.entries.append(s)
        self.vocab = {}
        ids = [[self.vocab.setdefault(t, len(self.vocab)) for t in tokens(s)] for s in self.entries]
        self.retriever = bm25s.BM25()
        self.retriever.index(Tokenized(ids=ids, vocab=self.vocab), show_progress=False)

    def scores(self, text):
        q = [self.vocab[t] for t in tokens(text) if t in self.vocab]
        if not q:
            return np.zeros(len(self.entries))
        return self.retriever.get_scores(q)


def similarities(pairs):
    index = Index(pairs)
    cache = {}

    def s(text):
        if text not in cache:
            cache[text] = index.scores(text)
        return cache[text]

    out = []
    for a, b, label in pairs:
        ia, ib = index.id[a], index.id[b]
        sa, sb = s(a), s(b)
        ab = sa[ib] / sa[ia] if sa[ia] > 0 else 0.0
        ba = sb[ia] / sb[ib] if sb[ib] > 0 else 0.0
        out.append((float(ab + ba) / 2, label))
    return out


def best_threshold(scored):
    scored = sorted(scored)
    correct = sum(1 for _, l in scored if l)
    best, at = correct, scored[0][0] - 1e-9
    for i, (s, l) in enumerate(scored):
        correct += -1 if l else 1
        if i + 1 == len(scored) or scored[i + 1][0] > s:
            if correct > best:
                best, at = correct, (s + scored[i + 1][0]) / 2 if i + 1 < len(scored) else s + 1e-9
    return at


def auc(scored):
    from scipy.stats import rankdata
    s = np.array([x for x, _ in scored])
    y = np.array([l for _, l in scored])
    r = rankdata(s)
    p, n = y.sum(), len(y) - y.sum()
    return float((r[y].sum() - p * (p + 1) / 2) / (p * n))


def main():
    train, test = read(sys.argv[1]), read(sys.argv[2])
    threshold = best_threshold(similarities(train))
    scored = similarities(test)
    tp = sum(1 for s, l in scored if s >= threshold and l)
    fp = sum(1 for s, l in scored if s >= threshold and not l)
    fn = sum(1 for s, l in scored if s < threshold and l)
    correct = sum(1 for s, l in scored if (s >= threshold) == l)
    started = time.perf_counter()
    index = Index(test)
    partners = {}
    for a, b, l in test:
        if l and a != b:
            partners.setdefault(a, set()).add(b)
            partners.setdefault(b, set()).add(a)
    queries = [(a, b) for a, b, l in test if l and a != b]
    fig = {"any": [0.0, 0.0], "own": [0.0, 0.0]}
    for a, b in queries:
        s = index.scores(a).copy()
        s[index.id[a]] = -1.0
        top = [int(d) for d in np.argsort(-s, kind="stable")[:10] if s[d] > 0]
        for name, gold in (("any", {index.id[x] for x in partners[a]}), ("own", {index.id[b]})):
            for rank, d in enumerate(top):
                if d in gold:
                    fig[name][0] += rank == 0
                    fig[name][1] += 1.0 / (rank + 1)
                    break
    seconds = time.perf_counter() - started
    n = len(queries)
    print(json.dumps({
        "peer": "bm25s", "version": bm25s.__version__, "tokens": "characters and character bigrams",
        "pairs": {"accuracy": correct / len(scored), "f1": 2 * tp / (2 * tp + fp + fn), "auc": auc(scored),
                  "threshold": threshold},
        "retrieval": {"entries": len(index.entries), "queries": n,
                      "any": {"top1": fig["any"][0] / n, "mrr@10": fig["any"][1] / n},
                      "own": {"top1": fig["own"][0] / n, "mrr@10": fig["own"][1] / n},
                      "queries_per_second": n / seconds},
    }))


main()
