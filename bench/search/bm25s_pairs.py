"""bm25s on a question-pair file (the BQ CSV: sentence1,sentence2,label) under
the protocol of `wantloop eval search --pairs`: every distinct sentence2 is a
document, every label-1 sentence1 a query, scored by the rank of the pair's own
sentence2 in the top 10 (top-1 accuracy, MRR@10). Text is lower-cased, NFKC
normalised, stripped of punctuation and white space, and cut into its characters and
overlapping character bigrams (of the variants tried — bigrams of the raw text,
without spaces, without punctuation, and with characters added — the strongest
on both BQ files). Prints one JSON object."""
import csv, json, sys, time, unicodedata

import bm25s
from bm25s.tokenization import Tokenized


def bigrams(text):
    t = "".join(c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum())
    return [t[i:i + 2] for i in range(len(t) - 1)] + list(t)


def main():
    path = sys.argv[1]
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    pool, index_of = [], {}
    queries = []
    for r in rows:
        s2 = r["sentence2"]
        if s2 not in index_of:
            index_of[s2] = len(pool)
            pool.append(s2)
        if r["label"].strip() == "1":
            queries.append((r["sentence1"], index_of[s2]))
    started = time.perf_counter()
    vocab = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in bigrams(s)] for s in pool]
    retriever = bm25s.BM25()
    retriever.index(Tokenized(ids=ids, vocab=vocab), show_progress=False)
    index_seconds = time.perf_counter() - started
    started = time.perf_counter()
    q_ids = [[vocab[t] for t in bigrams(q) if t in vocab] for q, _ in queries]
    top1 = rr = 0.0
    no_hits = 0
    for (q, gold), qi in zip(queries, q_ids):
        if not qi:
            no_hits += 1
            continue
        docs, scores = retriever.retrieve(Tokenized(ids=[qi], vocab=vocab), k=10, n_threads=1, show_progress=False)
        ranked = [int(d) for d, s in zip(docs[0], scores[0]) if s > 0]
        if not ranked:
            no_hits += 1
        if gold in ranked:
            rank = ranked.index(gold)
            top1 += rank == 0
            rr += 1.0 / (rank + 1)
    seconds = time.perf_counter() - started
    n = len(queries)
    print(json.dumps({"peer": "bm25s", "version": bm25s.__version__, "top1": top1 / n, "mrr@10": rr / n,
                      "queries": n, "pool": len(pool), "no_hits": no_hits, "index_seconds": index_seconds,
                      "queries_per_second": n / seconds, "tokens": "characters and character bigrams"}))


main()
