#!/usr/bin/env python3
"""A noise bank that draws babble and crowd more often, for the digits model's babble-heavy epochs
(models/digits/README.md, session 33: `bank-babble`).

    python3 scripts/make-babble-heavy-bank.py SRC_BANK OUT_BANK [--repeat 3] [--hold-out babble_real3.wav]

Links every clip of SRC_BANK (a bank made by scripts/make-real-babble-bank.sh) into OUT_BANK and
writes OUT_BANK/bank.json listing the babble clips (every type with "babble" in it: babble-tts,
babble-real) and the crowd clip REPEAT times each (training draws a
clip uniformly from the list), and leaving out the --hold-out clips altogether, so that a dev set
can be judged in a babble no epoch heard. Standard library only.
"""
import argparse
import json
import os


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src")
    parser.add_argument("out")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hold-out", action="append", help="default: babble_real3.wav")
    args = parser.parse_args()
    args.hold_out = args.hold_out or ["babble_real3.wav"]
    bank = json.load(open(os.path.join(args.src, "bank.json")))
    os.makedirs(args.out, exist_ok=True)
    clips = []
    for clip in bank["clips"]:
        if clip["file"] in args.hold_out:
            continue
        link = os.path.join(args.out, clip["file"])
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.realpath(os.path.join(args.src, clip["file"])), link)
        heavy = "babble" in clip["type"] or clip["type"] == "crowd"
        for copy in range(args.repeat if heavy else 1):
            name = clip["name"] if copy == 0 else f"{clip['name']}-x{copy + 1}"
            clips.append(dict(clip, name=name))
    about = (f"{args.src} with babble and crowd clips listed {args.repeat} times; "
             f"held out: {', '.join(args.hold_out)} (scripts/make-babble-heavy-bank.py)")
    with open(os.path.join(args.out, "bank.json"), "w") as out:
        json.dump({"about": about, "clips": clips}, out, indent=1)
    print(f"{len(clips)} entries ({len(set(c['file'] for c in clips))} clips) in {args.out}/bank.json")


if __name__ == "__main__":
    main()
