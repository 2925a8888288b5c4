#!/bin/bash
# Regenerate the recorded noise bank (audio/noise/*.wav) from Debian 12 (bookworm, main)
# packages. audio/noise/bank.json says which clips are for training and which are test-only.
#
#   usage: make_noise_bank.sh OUTDIR [DEBDIR]
#
# OUTDIR  where the 16 kHz mono 16-bit PCM clips are written (created).
# DEBDIR  optional folder that already holds the exact .deb files listed in
#         PKGS below; any that are missing are fetched with `apt-get download`
#         (run `apt-get update` once first).
# Needs: apt-get, dpkg-deb, sox 14.4.2 with Ogg Vorbis support (Debian 12
# `sox` + `libsox-fmt-base`, which `sox` pulls in), coreutils, awk, grep, sed.
# Everything happens in a scratch dir that is deleted at the end.
# `sox -R` (repeatable dither) makes the output byte-identical from run to run
# given the same packages and the same sox/libvorbis builds.
set -euo pipefail
export LC_ALL=C

[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [DEBDIR]" >&2; exit 2; }
mkdir -p "$1"; O=$(cd "$1" && pwd)
DEBDIR=${2:-}; [ -z "$DEBDIR" ] || DEBDIR=$(cd "$DEBDIR" && pwd)

PKGS="scorched3d-data=44+dfsg-8
megaglest-data=3.13.0-3
wesnoth-1.16-data=1:1.16.9-1
lincity-ng-data=2.9~git20150314-5
bucklespring-data=1.4.0-2"

W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
cd "$W"
for pv in $PKGS; do
  p=${pv%%=*}; v=${pv#*=}; d=
  if [ -n "$DEBDIR" ]; then          # reuse a local copy of exactly that version
    for c in "$DEBDIR/${p}_"*.deb; do
      [ -f "$c" ] && [ "$(dpkg-deb -f "$c" Version)" = "$v" ] && { cp "$c" .; d=$(basename "$c"); break; }
    done
  fi
  if [ -z "$d" ]; then apt-get download "$pv"; d=$(ls "${p}_"*.deb); fi
  [ "$(dpkg-deb -f "$d" Version)" = "$v" ] || { echo "wrong version: $d" >&2; exit 1; }
  mkdir -p "x/$p"; dpkg-deb -x "$d" "x/$p"
done

S=x/scorched3d-data/usr/share/games/scorched3d/data/globalmods
M=x/megaglest-data/usr/share/games/megaglest
WS=x/wesnoth-1.16-data/usr/share/games/wesnoth/1.16/data/core/sounds/ambient
L=x/lincity-ng-data/usr/share/games/lincity-ng
B=x/bucklespring-data/usr/share/buckle/wav

OUTF="-r 16000 -c 1 -b 16 -e signed-integer"
FX="gain -6 highpass 40 gain -n -3"   # gain -6: headroom so the high-pass cannot clip
TMPF="-c 1 -b 32 -e floating-point"     # lossless intermediates

# --- single-file clips: name  input  trim-start  trim-length ------------------
one() { sox -R "$2" $OUTF "$O/$1.wav" trim "$3" "$4" remix - $FX; }
one wind     "$M/tilesets/winter/sounds/wind.ogg"                2    12
one ocean    "$S/none/data/wav/misc/oceanwaves.wav"              0    14
one birds    "$M/tilesets/birch_forest/sounds/day.ogg"           1    12
one crickets "$M/tilesets/dark_forest/sounds/night.ogg"          3    11
one fire     "$WS/campfire.ogg"                                  0    9.6
one engine   "$S/none/data/wav/movement/tankmove.wav"            0    11.5
one music    "$S/none/data/music/mix3_loop1.ogg"                 20   12
one music2   "$L/music/default/02 - Robert van Herk - City Blues.ogg" 160 12

# --- aircraft: helicopter (apache_1, 5.9 s) then jet (f18_2, 4.4 s), both 11.025 kHz mono
sox -R "$S/none/data/wav/misc/apache_1.wav" "$S/none/data/wav/misc/f18_2.wav" \
    $OUTF "$O/aircraft.wav" remix - $FX

# --- babble: 6 simultaneous talkers (MegaGlest unit voice lines) --------------
# each talker = that unit's *_select*/ *_ack* lines concatenated in C-locale
# name order, cut to 12 s and peak-normalised; the 6 streams are then summed.
V=$M/techs/megapack
i=0
for dp in "commondata/sounds technician" "commondata/sounds archer" \
          "commondata/sounds horseman" "factions/magic/units/battlemage/sounds battlemage" \
          "factions/norsemen/units/cudgel_lady/sounds cudgel" \
          "factions/persian/units/princess/sounds princess"; do
  set -- $dp; i=$((i+1))
  files=$(ls "$V/$1" | grep -E "^$2_(select|ack)[0-9]+\.wav\$" | sed "s#^#$V/$1/#")
  sox -R $files $TMPF -r 16000 talker$i.wav remix - trim 0 12 gain -n -3
done
sox -R -m talker1.wav talker2.wav talker3.wav talker4.wav talker5.wav talker6.wav \
    $OUTF "$O/babble.wav" $FX

# --- typing: bucklespring IBM Model M key sounds, typed text ------------------
# Each character = key-down sample (held H s) then key-up sample (until the
# next key, G s), both cut with a short fade; timings from a fixed formula.
TEXT="the quick brown fox jumps over the lazy dog. we will meet at nine tomorrow"
echo "$TEXT" | awk '
BEGIN { split("a 1e b 30 c 2e d 20 e 12 f 21 g 22 h 23 i 17 j 24 k 25 l 26 m 32 n 31 o 18 p 19 q 10 r 13 s 1f t 14 u 16 v 2f w 11 x 2d y 15 z 2c . 34", m, " ");
        for (j = 1; j < 54; j += 2) code[m[j]] = m[j+1]; code[" "] = "39" }
{ n = length($0)
  for (i = 1; i <= n; i++) {
    c = substr($0, i, 1); k = code[c]
    h = 0.070 + 0.010 * ((i * 7) % 5)
    g = 0.090 + 0.015 * ((i * 11) % 9) + (c == " " ? 0.10 : 0)
    printf "%03d %s %.3f %.3f\n", i, k, h, g } }' > keys.txt
while read -r n k h g; do
  sox -R "$B/$k-0.wav" $TMPF kd$n.wav fade 0 "$h" 0.005
  sox -R "$B/$k-1.wav" $TMPF ku$n.wav fade 0 "$g" 0.010
  echo "kd$n.wav ku$n.wav" >> seq.txt
done < keys.txt
sox -R $(cat seq.txt) $OUTF "$O/typing.wav" trim 0 12 $FX

# --- the first four clips (chain without the leading gain -6, as first made) -----------
FX0="highpass 40 gain -n -3"
sox -R "$S/none/data/wav/misc/rain.wav" $OUTF "$O/rain.wav" $FX0
LS=$L/sounds
for k in "crowd SportsCroud" "traffic TraficHigh" "machinery IndustryHigh"; do set -- $k
  sox -R "|sox $LS/${2}1.wav -p remix -" "|sox $LS/${2}2.wav -p remix -" \
         "|sox $LS/${2}3.wav -p remix -" $OUTF "$O/$1.wav" $FX0
done

cd "$O"; ls -l rain.wav crowd.wav traffic.wav machinery.wav wind.wav ocean.wav birds.wav crickets.wav fire.wav aircraft.wav \
  engine.wav music.wav music2.wav babble.wav typing.wav
