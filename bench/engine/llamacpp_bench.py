#!/usr/bin/env python3
"""llama.cpp throughput on a GGUF model: batched prefill and batched greedy decode.

Run by the Java benchmark driver as a subprocess (and by hand):

    python3 bench/engine/llamacpp_bench.py --model ~/.cache/cna/models/SmolLM2-135M-Instruct.Q4_1.gguf \
        [--batches 1,4,16] [--prompt-tokens 64] [--decode-steps 32] [--threads 2] [--repeats 3]

Prints exactly one JSON object on stdout, progress on stderr:

    {"engine": "llama.cpp", "version": "...", "threads": 2,
     "results": [{"batch": 1, "prefill_tok_s": ..., "decode_tok_s": ...}, ...], ...}

Method (llama-cpp-python's low-level ctypes API, i.e. libllama itself):
  * For each batch size B a fresh context with n_seq_max = B, non-unified KV cache
    (llama.cpp's default), n_ctx = B x (prompt + decode steps + 1, rounded up to the 256
    cells llama.cpp pads each sequence to), n_batch = n_ubatch = max(B x prompt, 512), default
    KV type (f16), no flash attention, n_threads = n_threads_batch = --threads.
  * Prompt: a fixed English text tokenized and cut/repeated to exactly --prompt-tokens
    tokens; every sequence gets the same prompt (sequence s uses seq_id s).
  * Prefill: one llama_batch holding all B x P tokens (logits only at each sequence's last
    token) and one llama_decode call. prefill_tok_s = B x P / wall time.
  * Decode: --decode-steps steps, each one llama_batch with one token per sequence (all
    with logits) and one llama_decode, then llama.cpp's greedy sampler picks every
    sequence's next token (sampling time is included). decode_tok_s = B x steps / wall
    time of the steps, i.e. aggregate generated tokens per second.
  * The KV cache is cleared before each run. One untimed warm-up run per batch size,
    then --repeats timed runs; the reported figures are the medians (all runs listed).

Written for llama-cpp-python 0.3.36 (libllama 0.5.0-dev); python 3.11.
"""
import argparse
import ctypes
import json
import os
import platform
import statistics
import sys
import time

PROMPT_TEXT = (
    "The history of the ocean is the history of the planet itself. Long before the "
    "first cells appeared, water vapour from volcanic eruptions condensed into rain that "
    "fell for millions of years, filling the basins of the young Earth. Minerals washed "
    "from the rocks made the water salty, and currents driven by the sun and the spin of "
    "the planet carried heat from the equator to the poles. "
)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def parse_args():
    ap = argparse.ArgumentParser(description="llama.cpp batched prefill/decode benchmark")
    ap.add_argument("--model", required=True, help="path to a GGUF file")
    ap.add_argument("--batches", default="1,4,16", help="comma-separated batch sizes")
    ap.add_argument("--prompt-tokens", type=int, default=64)
    ap.add_argument("--decode-steps", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per batch size")
    ap.add_argument("--verbose", action="store_true", help="llama.cpp logs to stderr")
    args = ap.parse_args()
    args.batches = [int(b) for b in args.batches.split(",") if b.strip()]
    if not args.batches or min(args.batches) < 1:
        ap.error("--batches needs positive integers")
    if args.prompt_tokens < 1 or args.decode_steps < 1 or args.repeats < 1:
        ap.error("--prompt-tokens, --decode-steps and --repeats must be >= 1")
    return args


def main():
    args = parse_args()
    model_path = os.path.abspath(os.path.expanduser(args.model))
    if not os.path.isfile(model_path):
        log(f"no such model file: {model_path}")
        sys.exit(2)

    import llama_cpp
    import llama_cpp._logger as llama_logger

    llama_logger.set_verbose(args.verbose)
    L = llama_cpp
    L.llama_backend_init()

    mparams = L.llama_model_default_params()
    if cpu_has_amx():
        # llama.cpp's AMX buffer type segfaults on these machines; the other CPU kernels stay on
        mparams.use_extra_bufts = False
    model = L.llama_model_load_from_file(model_path.encode("utf-8"), mparams)
    if not model:
        log(f"llama.cpp could not load {model_path}")
        sys.exit(2)
    vocab = L.llama_model_get_vocab(model)

    prompt = tokenize(L, vocab, args.prompt_tokens)
    log(f"model {model_path}; prompt {len(prompt)} tokens; threads {args.threads}")

    results = []
    for b in args.batches:
        results.append(bench_batch(L, model, prompt, b, args))

    L.llama_model_free(model)
    version = L.llama_version()
    out = {
        "engine": "llama.cpp",
        "version": "libllama %s (llama-cpp-python %s)"
        % (version.decode() if isinstance(version, bytes) else version, L.__version__),
        "threads": args.threads,
        "results": results,
        "model": model_path,
        "model_bytes": os.path.getsize(model_path),
        "prompt_tokens": len(prompt),
        "decode_steps": args.decode_steps,
        "repeats": args.repeats,
        "statistic": "median",
        "system_info": L.llama_print_system_info().decode().strip(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
    }
    print(json.dumps(out), flush=True)


def cpu_has_amx():
    try:
        with open("/proc/cpuinfo") as f:
            return " amx" in f.read()
    except OSError:
        return False


def tokenize(L, vocab, n_tokens):
    """PROMPT_TEXT tokenized (no BOS/special tokens), repeated and cut to n_tokens."""
    text = PROMPT_TEXT.encode("utf-8")
    buf = (L.llama_token * (len(text) + 8))()
    n = L.llama_tokenize(vocab, text, len(text), buf, len(buf), False, False)
    if n <= 0:
        raise RuntimeError("tokenize failed: %d" % n)
    base = list(buf[:n])
    toks = []
    while len(toks) < n_tokens:
        toks.extend(base)
    return toks[:n_tokens]


def bench_batch(L, model, prompt, b, args):
    p, steps = len(prompt), args.decode_steps
    # Non-unified KV cache (the default): each sequence gets n_ctx / n_seq_max cells,
    # padded by llama.cpp to a multiple of 256, so ask for exactly that.
    n_ctx = b * ((p + steps + 1 + 255) // 256 * 256)
    n_batch = max(b * p, 512)

    cparams = L.llama_context_default_params()
    cparams.n_ctx = n_ctx
    cparams.n_batch = n_batch
    cparams.n_ubatch = n_batch
    cparams.n_seq_max = b
    cparams.n_threads = args.threads
    cparams.n_threads_batch = args.threads
    cparams.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
    cparams.no_perf = True
    ctx = L.llama_init_from_model(model, cparams)
    if not ctx:
        raise RuntimeError(f"llama_init_from_model failed for batch {b} (n_ctx {n_ctx})")
    ctx_info = {
        "n_ctx": int(L.llama_n_ctx(ctx)),
        "n_ctx_seq": int(L.llama_n_ctx_seq(ctx)),
        "n_batch": n_batch,
        "n_ubatch": n_batch,
        "kv_unified": bool(cparams.kv_unified),
    }
    mem = L.llama_get_memory(ctx)
    sampler = L.llama_sampler_init_greedy()
    batch = L.llama_batch_init(max(b * p, b), 0, b)

    def fill(entries):
        """entries: list of (token, pos, seq_id, want_logits)"""
        for i, (tok, pos, seq, want) in enumerate(entries):
            batch.token[i] = tok
            batch.pos[i] = pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
            batch.logits[i] = 1 if want else 0
        batch.n_tokens = len(entries)

    def decode():
        rc = L.llama_decode(ctx, batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc} (batch {b})")
        L.llama_synchronize(ctx)

    def one_run():
        L.llama_memory_clear(mem, True)
        fill([(t, i, s, i == p - 1) for s in range(b) for i, t in enumerate(prompt)])
        t0 = time.perf_counter()
        decode()
        # logits of sequence s are at batch index s*p + p - 1
        nxt = [L.llama_sampler_sample(sampler, ctx, s * p + p - 1) for s in range(b)]
        t_prefill = time.perf_counter() - t0

        t0 = time.perf_counter()
        for step in range(steps):
            fill([(nxt[s], p + step, s, True) for s in range(b)])
            decode()
            nxt = [L.llama_sampler_sample(sampler, ctx, s) for s in range(b)]
        t_decode = time.perf_counter() - t0
        return t_prefill, t_decode

    try:
        log(f"batch {b}: context {ctx_info}; warm-up")
        one_run()
        runs = []
        for r in range(args.repeats):
            tp, td = one_run()
            runs.append(
                {
                    "prefill_s": round(tp, 5),
                    "decode_s": round(td, 5),
                    "prefill_tok_s": round(b * p / tp, 2),
                    "decode_tok_s": round(b * steps / td, 2),
                }
            )
            log(
                f"batch {b} run {r + 1}/{args.repeats}: prefill {b * p} tok in {tp:.3f}s "
                f"({b * p / tp:.1f} tok/s), decode {b * steps} tok in {td:.3f}s "
                f"({b * steps / td:.1f} tok/s)"
            )
    finally:
        L.llama_batch_free(batch)
        L.llama_sampler_free(sampler)
        L.llama_free(ctx)

    return {
        "batch": b,
        "prefill_tok_s": round(statistics.median(r["prefill_tok_s"] for r in runs), 2),
        "decode_tok_s": round(statistics.median(r["decode_tok_s"] for r in runs), 2),
        "prefill_tokens": b * p,
        "decode_tokens": b * steps,
        "context": ctx_info,
        "runs": runs,
    }


if __name__ == "__main__":
    main()
