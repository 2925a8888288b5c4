"""Replace a model dir's weights by its last checkpoint's (the final epoch), updating the size
and SHA-256 in config.json. Used once for the ablation runs trained before hark kept models by
dev CER (they had kept an epoch-1 model whose empty output scored exactly 100% WER).
Usage: python3 bench/keep_last_epoch.py MODEL_DIR..."""
import hashlib
import json
import shutil
import sys
from pathlib import Path

for d in map(Path, sys.argv[1:]):
    src = d / "checkpoint" / "model.bpk"
    cfg = json.loads((d / "config.json").read_text())
    dst = d / cfg["weights"]["file"]
    shutil.copyfile(src, dst)
    data = dst.read_bytes()
    cfg["weights"]["bytes"] = len(data)
    cfg["weights"]["sha256"] = hashlib.sha256(data).hexdigest()
    (d / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    state = json.loads((d / "checkpoint" / "state.json").read_text())
    print(f"{d}: weights of epoch {state['epoch']} (step {state['step']})")
