"""bm25s on the same BEIR folder: English stop words + PyStemmer stemming,
title + text, top 100 per test query, single thread. Prints one JSON object."""
import gzip, json, math, os, sys, time

import bm25s
import Stemmer


def read_jsonl(path):
    if not os.path.exists(path):
        path += ".gz"
        f = gzip.open(path, "rt", encoding="utf-8")
    else:
        f = open(path, encoding="utf-8")
    with f:
        return [json.loads(l) for l in f if l.strip()]


def main():
    d = sys.argv[1]
    corpus = read_jsonl(os.path.join(d, "corpus.jsonl"))
    queries = {q["_id"]: q["text"] for q in read_jsonl(os.path.join(d, "queries.jsonl"))}
    qrels = {}
    with open(os.path.join(d, "qrels", "test.tsv")) as f:
        next(f)
        for line in f:
            q, doc, g = line.rstrip("\n").split("\t")[:3]
            if int(g) > 0:
                qrels.setdefault(q, {})[doc] = int(g)
    stemmer = Stemmer.Stemmer("english")
    started = time.perf_counter()
    texts = [(c.get("title", "") + " " + c.get("text", "")).strip() for c in corpus]
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    index_seconds = time.perf_counter() - started
    ids = sorted(q for q in qrels if q in queries)
    started = time.perf_counter()
    q_tokens = bm25s.tokenize([queries[q] for q in ids], stopwords="en", stemmer=stemmer, show_progress=False)
    docs, _ = retriever.retrieve(q_tokens, k=100, n_threads=1, show_progress=False)
    seconds = time.perf_counter() - started
    ndcg = recall = 0.0
    for row, q in zip(docs, ids):
        ranked = [corpus[i]["_id"] for i in row]
        rel = qrels[q]
        dcg = sum((2 ** rel.get(doc, 0) - 1) / math.log2(i + 2) for i, doc in enumerate(ranked[:10]))
        ideal = sorted(rel.values(), reverse=True)[:10]
        idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
        ndcg += dcg / idcg
        recall += sum(1 for doc in ranked if doc in rel) / len(rel)
    n = len(ids)
    print(json.dumps({"peer": "bm25s", "version": bm25s.__version__, "ndcg@10": ndcg / n, "recall@100": recall / n,
                      "queries": n, "index_seconds": index_seconds, "queries_per_second": n / seconds,
                      "note": "queries/s includes query tokenisation, as ours does"}))


main()
