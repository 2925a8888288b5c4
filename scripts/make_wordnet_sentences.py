#!/usr/bin/env python3
"""Extract the example sentences of WordNet 3.0 (Debian package wordnet-base) into
data/wordnet_examples.txt, one per line, as written (hark normalises text on reading).

WordNet glosses carry usage examples in double quotes ("he was elected to a seat in the
Senate"). Kept: examples of 3-14 words, first occurrence only, in file order
(data.noun, data.verb, data.adj, data.adv). Licence: WordNet 3.0 licence (free use, copy,
modify and distribute with the copyright notice), see data/README.md.

    cd /tmp && apt-get download wordnet-base && dpkg-deb -x wordnet-base_*.deb wn
    python3 scripts/make_wordnet_sentences.py /tmp/wn/usr/share/wordnet data/wordnet_examples.txt
"""

import re
import sys


def main(src, out):
    seen, kept = set(), []
    for name in ("data.noun", "data.verb", "data.adj", "data.adv"):
        with open("%s/%s" % (src, name), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  ") or "|" not in line:
                    continue  # licence header
                for ex in re.findall(r'"([^"]+)"', line.split("|", 1)[1]):
                    ex = " ".join(ex.replace("...", " ").split())
                    if 3 <= len(ex.split()) <= 14 and ex.lower() not in seen:
                        seen.add(ex.lower())
                        kept.append(ex)
    with open(out, "w", encoding="utf-8") as f:
        for ex in kept:
            f.write(ex + "\n")
    print("%d examples -> %s" % (len(kept), out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
