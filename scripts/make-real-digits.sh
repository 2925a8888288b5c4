#!/bin/sh
# A small yardstick of REAL spoken digits (people, not TTS) from Debian main packages, for the
# digits grammar (docs/language-models.md): 33 single-digit clips by four speakers.
#
#   scripts/make-real-digits.sh /work/corpus/real-digits
#
# writes DIR/real-digits.jsonl over the packages' own clips (Ogg Vorbis / WAV, read by hark as
# they are; nothing is converted or committed):
# - tuxpaint-stamps-default (GPL-2): symbols/math/N.ogg and N_en_GB.ogg, 0-9, two speakers;
# - warzone2100-data (GPL-2+): audio/memressp/cmndrvoc/N.ogg in base.wz, 0-9, one speaker;
# - openarena-081-misc (GPL-2+): sound/feedback/{one,two,three}.wav in pak6-misc.pk3, the
#   announcer.
# Never used for training or tuning: it only measures.
set -eu
out=$1
mkdir -p "$out/debs" "$out/files"
cd "$out/debs"
for p in tuxpaint-stamps-default warzone2100-data openarena-081-misc; do
    ls ${p}_*.deb >/dev/null 2>&1 || apt-get download "$p"
done
for d in *.deb; do dpkg -x "$d" "$out/files"; done
cd "$out/files"
python3 - "$out" <<'PY'
import json, os, sys, zipfile
out = sys.argv[1]
files = os.path.join(out, "files")
words = "zero one two three four five six seven eight nine".split()
rows = []
math = os.path.join(files, "usr/share/tuxpaint/stamps/symbols/math")
for n, w in enumerate(words):
    rows.append((os.path.join(math, f"{n}.ogg"), w, "tuxpaint:schoolsplay"))
    rows.append((os.path.join(math, f"{n}_en_GB.ogg"), w, "tuxpaint:en_GB"))
clips = os.path.join(out, "clips")
os.makedirs(clips, exist_ok=True)
with zipfile.ZipFile(os.path.join(files, "usr/share/games/warzone2100/base.wz")) as z:
    for n, w in enumerate(words):
        dest = os.path.join(clips, f"warzone2100_{n}.ogg")
        with open(dest, "wb") as f:
            f.write(z.read(f"audio/memressp/cmndrvoc/{n}.ogg"))
        rows.append((dest, w, "warzone2100:commander"))
with zipfile.ZipFile(os.path.join(files, "usr/share/games/openarena/baseoa/pak6-misc.pk3")) as z:
    for w in ("one", "two", "three"):
        dest = os.path.join(clips, f"openarena_{w}.wav")
        with open(dest, "wb") as f:
            f.write(z.read(f"sound/feedback/{w}.wav"))
        rows.append((dest, w, "openarena:announcer"))
missing = [a for a, _, _ in rows if not os.path.isfile(a)]
if missing:
    sys.exit(f"missing clips: {missing}")
with open(os.path.join(out, "real-digits.jsonl"), "w") as f:
    for audio, text, speaker in rows:
        f.write(json.dumps({"audio": audio, "text": text, "speaker": speaker}) + "\n")
print(f"{len(rows)} clips -> {out}/real-digits.jsonl")
PY
