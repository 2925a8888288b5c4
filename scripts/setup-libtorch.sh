#!/usr/bin/env bash
# Provide LibTorch 2.9.0 for burn-tch 0.22 / tch 0.22 / torch-sys 0.22 from PyPI's
# torch==2.9.0 wheel only (torch-sys never downloads anything: LIBTORCH is set).
#
# Idempotent. Result:
#   $VENV                      python venv with torch 2.9.0 (+numpy), `import torch` works on CPU
#   $VENV/libtorch-cpu         CPU-only LibTorch view for torch-sys: include/ lib/ build-version
#   $REPO/.libtorch-env        sourceable: LIBTORCH, LD_LIBRARY_PATH, HARK_TORCH_PYTHON
#                              (path overridable with HARK_LIBTORCH_ENV_FILE)
#
# Minimal install (default, ~1.8 GB on disk): `pip install --no-deps torch==2.9.0` plus
# torch's pure-python deps, numpy and the two small CUDA wheels that libtorch_cpu.so itself
# needs (cudart, cupti). The PyPI wheel is a CUDA build: libtorch_python.so -> libtorch_cuda.so
# also needs cuBLAS/cuDNN/NCCL/... (~2.8 GB). Those are replaced by generated stub libraries
# (right SONAME + symbol versions, every function aborts with a message if ever called) put
# in torch/lib; CPU code never calls them. HARK_TORCH_FULL=1 installs the real CUDA wheels
# instead (~4.5 GB), skips the stubs, and gives a CUDA LibTorch (for `--device cuda:N`).
#
# By default Rust never sees libtorch_cuda.so: torch-sys links libtorch_cuda whenever it is in
# $LIBTORCH/lib, so LIBTORCH points at a view holding only the CPU libraries. With
# HARK_TORCH_FULL=1 LIBTORCH is the wheel's torch/ folder itself, libtorch_cuda.so included.
#
# Usage: scripts/setup-libtorch.sh      then: source .libtorch-env
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${HARK_TORCH_VENV:-$REPO/.venv-torch}"
PYTHON="${PYTHON:-python3}"
TORCH_VERSION=2.9.0
# Exact pins from torch 2.9.0's wheel metadata.
CUDA_SMALL=(nvidia-cuda-runtime-cu12==12.8.90 nvidia-cuda-cupti-cu12==12.8.90)
PY_DEPS=(filelock 'typing-extensions>=4.10.0' 'sympy>=1.13.3' 'networkx>=2.5.1' jinja2 'fsspec>=0.8.5' numpy)

log() { printf '[setup-libtorch] %s\n' "$*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
    log "creating venv $VENV"
    "$PYTHON" -m venv "$VENV"
fi
VENV="$(cd "$VENV" && pwd)"
PY="$VENV/bin/python"
# No pip cache: it would keep a second copy of the ~900 MB wheel on disk.
PIP=("$PY" -m pip install --disable-pip-version-check --no-input --no-cache-dir -q)

if [ "${HARK_TORCH_FULL:-0}" = 1 ]; then
    log "installing torch==$TORCH_VERSION with all CUDA wheels (HARK_TORCH_FULL=1)"
    "${PIP[@]}" "torch==$TORCH_VERSION" numpy
else
    log "installing torch==$TORCH_VERSION --no-deps (+ cudart, cupti, python deps)"
    "${PIP[@]}" --no-deps "torch==$TORCH_VERSION" "${CUDA_SMALL[@]}"
    # pip warns that torch's other nvidia-*/triton requirements are missing: expected.
    "${PIP[@]}" "${PY_DEPS[@]}" 2>&1 | grep -v -E "requires (nvidia-|triton)|dependency resolver|dependency conflicts" >&2 || true
fi

SP="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')"
TORCH_DIR="$SP/torch"
[ -f "$TORCH_DIR/lib/libtorch_cpu.so" ] || { log "torch not installed in $SP"; exit 1; }

# Stub any CUDA library that torch/_C.so still cannot find (none in HARK_TORCH_FULL mode).
"$PY" - "$SP" <<'PYEOF'
import collections, os, re, subprocess, sys, tempfile

sp = sys.argv[1]
outdir = os.path.join(sp, "torch", "lib")
torch_c = [os.path.join(sp, "torch", f) for f in os.listdir(os.path.join(sp, "torch"))
           if f.startswith("_C.") and f.endswith(".so")][0]

def ldd(path):
    out = subprocess.run(["ldd", path], capture_output=True, text=True, check=True).stdout
    missing, found = set(), []
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => not found", line)
        if m:
            missing.add(m.group(1))
            continue
        m = re.match(r"\s*\S+ => (/\S+) \(", line) or re.match(r"\s*(/\S+) \(", line)
        if m:
            found.append(m.group(1))
    return sorted(missing), found

def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], capture_output=True, text=True, check=True).stdout

def dynsyms(path):
    for line in readelf("--dyn-syms", path).splitlines():
        p = line.split()
        if len(p) >= 8 and p[0].endswith(":") and p[0][:-1].isdigit():
            yield p[4], p[6], p[7]  # bind, ndx, name[@version]

def verneeds(path):
    out = readelf("-V", path)
    out = out.split("Version needs section", 1)[1] if "Version needs section" in out else ""
    cur, res = None, collections.defaultdict(set)
    for line in out.splitlines():
        m = re.search(r"File: (\S+)", line)
        if m:
            cur = m.group(1)
            continue
        m = re.search(r"Name: (\S+)", line)
        if m and cur:
            res[cur].add(m.group(1))
    return res

missing, found = ldd(torch_c)
if not missing:
    print("[setup-libtorch] torch/_C.so: all shared libraries resolve (real CUDA libs or stubs already present)", file=sys.stderr)
    sys.exit(0)
py = os.path.realpath(sys.executable)
found = [torch_c, py] + found + ldd(py)[1]
defined, und, vers = set(), {}, collections.defaultdict(set)
for lib in found:
    for bind, ndx, name in dynsyms(lib):
        if ndx != "UND":
            defined.add(name.split("@")[0])
        elif bind == "GLOBAL":
            und[name] = None
    for f, names in verneeds(lib).items():
        vers[f] |= names
ver2so = {v: so for so in missing for v in vers.get(so, ())}
per_so = {so: collections.defaultdict(set) for so in missing}
unversioned = set()
for name in und:
    base, _, ver = name.partition("@")
    ver = ver.lstrip("@").split(" ")[0]
    if base in defined:
        continue
    if not ver:
        unversioned.add(base)
    elif ver in ver2so:
        per_so[ver2so[ver]][ver].add(base)
    else:
        sys.exit(f"[setup-libtorch] cannot place versioned symbol {name}")
tmp = tempfile.mkdtemp()
for i, so in enumerate(missing):
    syms = sorted(unversioned.union(*per_so[so].values()))
    c = ["#include <stdio.h>", "#include <stdlib.h>",
         "static void fail(const char *s) { fprintf(stderr, \"hark: %s called, but " + so +
         " is a CPU-only stub made by scripts/setup-libtorch.sh (no CUDA)\\n\", s); abort(); }"]
    c += [f'void f{j}(void) __asm__("{s}"); void f{j}(void) {{ fail("{s}"); }}' for j, s in enumerate(syms)]
    vmap = []
    for k, v in enumerate(sorted(vers.get(so, ()))):
        c.append(f"int hark_stub_marker_{k} = 0;")
        vmap.append(f"{v} {{ global: hark_stub_marker_{k}; " + "".join(f'"{s}"; ' for s in sorted(per_so[so][v])) + "};")
    cf, mf = os.path.join(tmp, f"s{i}.c"), os.path.join(tmp, f"s{i}.map")
    with open(cf, "w") as f:
        f.write("\n".join(c) + "\n")
    args = ["cc", "-shared", "-fPIC", "-O0", "-o", os.path.join(outdir, so), f"-Wl,-soname,{so}", cf]
    if vmap:
        with open(mf, "w") as f:
            f.write("\n".join(vmap) + "\n")
        args.append(f"-Wl,--version-script={mf}")
    subprocess.run(args, check=True)
    print(f"[setup-libtorch] stub {so}: {len(syms)} symbols", file=sys.stderr)
with open(os.path.join(outdir, "HARK_CUDA_STUBS.txt"), "a") as f:
    f.write("".join(s + "\n" for s in missing))
still, _ = ldd(torch_c)
if still:
    sys.exit(f"[setup-libtorch] still unresolved after stubbing: {still}")
PYEOF

log "checking import torch (CPU)"
"$PY" -c '
import torch, numpy, torch.nn.functional as F
assert torch.__version__.split("+")[0] == "'"$TORCH_VERSION"'", torch.__version__
y, _ = torch.nn.LSTM(3, 4)(torch.randn(5, 2, 3))
lp = torch.randn(6, 1, 4).log_softmax(2)
loss = F.ctc_loss(lp, torch.tensor([[1, 2]]), torch.tensor([6]), torch.tensor([2]))
print("[setup-libtorch] import torch OK:", torch.__version__, "cuda:", torch.cuda.is_available(),
      "lstm", tuple(y.shape), "ctc %.3f" % loss.item(), "numpy", numpy.__version__)
' >&2

if [ "${HARK_TORCH_FULL:-0}" = 1 ]; then
    # CUDA: LibTorch is the wheel's own torch/ folder (include/, lib/ with libtorch_cuda.so,
    # whose RPATH finds the nvidia-* wheels); hark's build.rs keeps libtorch_cuda linked.
    VIEW="$TORCH_DIR"
else
    # CPU-only LibTorch view (symlinks). lib/ must NOT contain libtorch_cuda.so.
    VIEW="$VENV/libtorch-cpu"
    mkdir -p "$VIEW/lib"
    ln -sfn "$TORCH_DIR/include" "$VIEW/include"
    ln -sfn "$TORCH_DIR/share" "$VIEW/share"
    for f in libtorch_cpu.so libc10.so libgomp.so.1 libshm.so; do
        ln -sfn "$TORCH_DIR/lib/$f" "$VIEW/lib/$f"
    done
    # torch-sys links -ltorch; the wheel's libtorch.so pulls in libtorch_cuda.so, so alias it.
    ln -sfn libtorch_cpu.so "$VIEW/lib/libtorch.so"
    # libtorch_cpu.so needs these two at load time (its $ORIGIN RPATH does not survive symlinks).
    for f in "$SP"/nvidia/cuda_runtime/lib/libcudart.so.* "$SP"/nvidia/cuda_cupti/lib/libcupti.so.*; do
        [ -e "$f" ] && ln -sfn "$f" "$VIEW/lib/$(basename "$f")"
    done
    "$PY" -c 'import torch; print(torch.__version__)' >"$VIEW/build-version"
    [ -e "$VIEW/lib/libcudart.so.12" ] && [ -e "$VIEW/lib/libcupti.so.12" ] \
        || { log "libcudart.so.12 / libcupti.so.12 missing from $VIEW/lib"; exit 1; }
fi

ENVFILE="${HARK_LIBTORCH_ENV_FILE:-$REPO/.libtorch-env}"
cat >"$ENVFILE" <<EOF
# Generated by scripts/setup-libtorch.sh; source it before cargo build/test/run.
export LIBTORCH="$VIEW"
unset LIBTORCH_USE_PYTORCH LIBTORCH_INCLUDE LIBTORCH_LIB LIBTORCH_STATIC TORCH_CUDA_VERSION
case ":\${LD_LIBRARY_PATH:-}:" in
  *":$VIEW/lib:"*) ;;
  *) export LD_LIBRARY_PATH="$VIEW/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" ;;
esac
export HARK_TORCH_PYTHON="$PY"
EOF

log "done; wrote $ENVFILE. Environment needed by cargo (build and run):"
cat <<EOF
export LIBTORCH=$VIEW
unset LIBTORCH_USE_PYTORCH
export LD_LIBRARY_PATH=$VIEW/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
export HARK_TORCH_PYTHON=$PY   # python with torch for fixture scripts
# or simply: source $ENVFILE
EOF
