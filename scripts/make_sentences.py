#!/usr/bin/env python3
"""Extract normalised English sentences from Jane Austen's six novels.

Source: the Debian package `r-cran-janeaustenr` (1.0.0-1), which ships the
Project Gutenberg texts of Austen's novels (public domain; the R package is
MIT) as an R lazy-load database (data/Rdata.rdb + Rdata.rdx).  This script
reads that database with a small stdlib-only R unserialiser, splits the
novels into sentences, normalises them and writes one sentence per line.

Normalisation: lowercase a-z, space and apostrophe only; digits spelled out;
Mr/Mrs/Dr/St expanded; punctuation stripped; spaces collapsed.

Usage (see data/README.md):
    apt-get download r-cran-janeaustenr
    dpkg-deb -x r-cran-janeaustenr_1.0.0-1_all.deb /tmp/janeaustenr
    python3 scripts/make_sentences.py \
        --rdata /tmp/janeaustenr/usr/lib/R/site-library/janeaustenr/data/Rdata \
        --out data/sentences.txt

Stdlib only (Python >= 3.8).
"""

import argparse
import bz2
import gzip
import lzma
import re
import struct
import sys
import unicodedata
import zlib

# ----------------------------------------------------------------------------
# Minimal R unserialiser (XDR format, versions 2 and 3).  Supports the types
# used by data packages: NULL, symbols, pairlists, character/int/real/logical
# vectors, generic vectors and reference back-links.
# ----------------------------------------------------------------------------

NILVALUE_SXP = 254
REFSXP = 255
GLOBALENV_SXP = 253
EMPTYENV_SXP = 242
BASEENV_SXP = 241
MISSINGARG_SXP = 251
BASENAMESPACE_SXP = 247
UNBOUNDVALUE_SXP = 252


class RReader:
    def __init__(self, data):
        self.d = data
        self.p = 0
        self.refs = []

    def int(self):
        (v,) = struct.unpack_from(">i", self.d, self.p)
        self.p += 4
        return v

    def bytes(self, n):
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def header(self):
        fmt = self.bytes(2)
        if fmt != b"X\n":
            raise ValueError("only XDR serialisation supported, got %r" % fmt)
        version = self.int()
        self.int()  # writer R version
        self.int()  # min reader version
        if version == 3:
            n = self.int()
            self.bytes(n)  # native encoding
        return self.item()

    def item(self):
        flags = self.int()
        typ = flags & 0xFF
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))
        if typ == NILVALUE_SXP:
            return None
        if typ in (GLOBALENV_SXP, EMPTYENV_SXP, BASEENV_SXP, MISSINGARG_SXP,
                   BASENAMESPACE_SXP, UNBOUNDVALUE_SXP):
            return None
        if typ == REFSXP:
            idx = flags >> 8
            if idx == 0:
                idx = self.int()
            return self.refs[idx - 1]
        if typ == 1:  # SYMSXP
            name = self.item()
            self.refs.append(name)
            return name
        if typ in (2, 6):  # LISTSXP / LANGSXP: pairlist
            out = []
            while True:
                attr = self.item() if has_attr else None
                tag = self.item() if has_tag else None
                car = self.item()
                out.append((tag, car))
                # CDR: read next node header inline
                flags = self.int()
                typ = flags & 0xFF
                if typ == NILVALUE_SXP:
                    break
                if typ not in (2, 6):
                    self.p -= 4
                    self.item()
                    break
                has_attr = bool(flags & (1 << 9))
                has_tag = bool(flags & (1 << 10))
            return dict(out) if all(t is not None for t, _ in out) else out
        if typ == 9:  # CHARSXP
            n = self.int()
            if n == -1:
                return None
            s = self.bytes(n)
            enc = "latin-1" if flags & (1 << 12 + 2) else "utf-8"
            return s.decode(enc, errors="replace")
        if typ in (10, 13):  # LGLSXP, INTSXP
            n = self.int()
            vals = list(struct.unpack_from(">%di" % n, self.d, self.p))
            self.p += 4 * n
            val = vals
        elif typ == 14:  # REALSXP
            n = self.int()
            vals = list(struct.unpack_from(">%dd" % n, self.d, self.p))
            self.p += 8 * n
            val = vals
        elif typ == 16:  # STRSXP
            n = self.int()
            val = [self.item() for _ in range(n)]
        elif typ in (19, 20):  # VECSXP, EXPRSXP
            n = self.int()
            val = [self.item() for _ in range(n)]
        else:
            raise ValueError("unsupported R SEXP type %d at %d" % (typ, self.p))
        if has_attr:
            attrs = self.item()
            if isinstance(attrs, dict) and "names" in attrs and typ == 19:
                return dict(zip(attrs["names"], val))
        return val


def decompress_chunk(blob):
    """R lazy-load chunk: 4-byte big-endian length + compressed payload."""
    (n,) = struct.unpack(">I", blob[:4])
    body = blob[4:]
    if body[:2] in (b"x\x9c", b"x\xda", b"x\x01", b"x^"):
        return zlib.decompress(body)
    kind, body = body[:1], body[1:]
    if kind == b"2":
        return bz2.decompress(body)
    if kind == b"Z":
        return lzma.decompress(body)
    if kind == b"0":
        return body[:n]
    return zlib.decompress(blob[4:])


def load_rdata(prefix):
    """Return {object name: R value} from PREFIX.rdx / PREFIX.rdb."""
    with open(prefix + ".rdx", "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    else:
        raw = decompress_chunk(raw)
    index = RReader(raw).header()
    with open(prefix + ".rdb", "rb") as f:
        rdb = f.read()
    out = {}
    for name, (off, length) in index["variables"].items():
        off, length = int(off), int(length)
        out[name] = RReader(decompress_chunk(rdb[off:off + length])).header()
    return out


# ----------------------------------------------------------------------------
# Text normalisation
# ----------------------------------------------------------------------------

ONES = ("zero one two three four five six seven eight nine ten eleven twelve "
        "thirteen fourteen fifteen sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
ORD = {"one": "first", "two": "second", "three": "third", "five": "fifth",
       "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}


def num2words(n):
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return ONES[n // 100] + " hundred" + ("" if rest == 0 else " and " + num2words(rest))
    for div, word in ((10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand")):
        if n >= div:
            rest = n % div
            head = num2words(n // div) + " " + word
            if rest == 0:
                return head
            return head + (" and " if rest < 100 else " ") + num2words(rest)
    raise ValueError(n)


def ordinal(words):
    parts = words.split()
    last = parts[-1]
    if last in ORD:
        last = ORD[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join(parts[:-1] + [last])


def spell_number(m):
    digits, suffix = m.group(1), (m.group(2) or "").lower()
    n = int(digits)
    if 1100 <= n <= 1999 and n % 100 != 0 and not suffix:
        # read four-digit years the usual way: 1811 -> eighteen eleven
        hi, lo = divmod(n, 100)
        w = num2words(hi) + " " + (num2words(lo) if lo >= 10 else "oh " + num2words(lo))
    else:
        w = num2words(n)
    if suffix in ("st", "nd", "rd", "th"):
        w = ordinal(w)
    return " " + w + " "


ABBREV = [
    (r"\bMrs\.", "Missus"), (r"\bMr\.", "Mister"), (r"\bDr\.", "Doctor"),
    (r"\bSt\.", "Saint"), (r"\bMessrs\.", "Messieurs"), (r"&c\.?", "et cetera"),
    (r"\bMrs\b", "Missus"), (r"\bMr\b", "Mister"),
]


def normalise(s):
    s = unicodedata.normalize("NFKD", s)
    s = s.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.replace("&", " and ")
    s = re.sub(r"\u00a3\s*([\d,]+)", r"\1 pounds", s)  # pound sign
    s = re.sub(r"(\d),(\d{3})", r"\1\2", s)
    s = re.sub(r"(\d+)(st|nd|rd|th)?\b", spell_number, s, flags=re.I)
    s = s.lower()
    s = re.sub(r"[^a-z' ]+", " ", s)
    # keep apostrophes only inside words (don't, o'clock); drop quote marks
    s = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", s)
    return re.sub(r"\s+", " ", s).strip()


SENT_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)_]*\s+(?=[\"'\u201c\u2018(_]*[A-Z0-9])")


def split_sentences(paragraph):
    p = paragraph
    for pat, rep in ABBREV:
        p = re.sub(pat, rep, p)
    return [x.strip() for x in SENT_END.split(p) if x.strip()]


def paragraphs(lines):
    buf = []
    for line in lines:
        line = (line or "").strip()
        if not line:
            if buf:
                yield " ".join(buf)
                buf = []
            continue
        buf.append(line)
    if buf:
        yield " ".join(buf)


HEADING = re.compile(r"^(chapter|volume|book)\b|^(the )?end\b|^finis\b|^by\b.*austen|^jane austen", re.I)
# editorial matter appended by a modern edition (not Austen's text): stop there
STOP = re.compile(r"^A NOTE ON THE TEXT")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rdata", required=True,
                    help="path prefix of the janeaustenr lazy-load DB (…/data/Rdata)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--min-words", type=int, default=3)
    ap.add_argument("--max-words", type=int, default=20)
    args = ap.parse_args(argv)

    objs = load_rdata(args.rdata)
    books = ["sensesensibility", "prideprejudice", "mansfieldpark", "emma",
             "northangerabbey", "persuasion"]
    seen = set()
    out = []
    stats = {}
    for b in books:
        lines = objs[b]
        n0 = len(out)
        for para in paragraphs(lines):
            if STOP.match(para):
                break
            if HEADING.match(para) and len(para.split()) <= 6:
                continue
            if para.isupper():
                continue
            for sent in split_sentences(para):
                raw = sent
                # skip fragments with unbalanced structure or odd chars
                if re.search(r"[\[\]{}|<>*=#@/\\]", raw):
                    continue
                norm = normalise(raw)
                nw = len(norm.split())
                if not (args.min_words <= nw <= args.max_words):
                    continue
                # drop initials / elided names ("missus f", "general s")
                if any(len(w) == 1 and w not in ("a", "i", "o") for w in norm.split()):
                    continue
                if norm in seen:
                    continue
                seen.add(norm)
                out.append(norm)
        stats[b] = len(out) - n0
    with open(args.out, "w", encoding="ascii", newline="\n") as f:
        for s in out:
            f.write(s + "\n")
    vocab = {w for s in out for w in s.split()}
    words = sum(len(s.split()) for s in out)
    print("wrote %d sentences (%d words, vocab %d) to %s" % (len(out), words, len(vocab), args.out))
    for b in books:
        print("  %-18s %6d" % (b, stats[b]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
