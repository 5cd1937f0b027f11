"""The approximate tokenizer: exact character offsets, and an estimate that a real subword
tokenizer (all-MiniLM-L6-v2's WordPiece) does not exceed by more than a small margin on
English prose, code, and Chinese, Japanese and Korean text, so chunks cut with it fit."""
from __future__ import annotations

import importlib
import inspect
import os
from pathlib import Path
from typing import Any

import pytest

from search.ingest.chunk import chunk_text
from search.models.approx_tokenizer import ApproxTokenizer

MARGIN = 0.03  # a chunk may take at most 3% more model tokens than estimated

CHINESE = (
    "语义搜索按照意思而不是字面来查找文件。你可以用自己的话描述要找的内容，例如“去年夏天去京都旅行的笔记”，"
    "系统会把问题和文档都转换成向量，再比较它们之间的距离。索引建立在本地电脑上，文件不会离开你的机器。"
    "如果电脑没有显卡，也可以把模型放在另一台有图形处理器的服务器上运行，通过网络发送文本并取回向量。"
    "长文档会被切成若干段，每段不超过模型能读的长度，这样才不会在末尾丢失内容。"
)
JAPANESE = (
    "意味検索は、言葉そのものではなく意味でファイルを探します。たとえば「去年の夏に京都へ行ったときのメモ」の"
    "ように自分の言葉で書けば、質問と文書をベクトルに変換して、その近さを比べます。インデックスはローカルの"
    "コンピューターに作られ、ファイルが外に出ることはありません。GPUのない環境では、モデルを別のサーバーで"
    "動かし、ネットワーク越しにテキストを送ってベクトルを受け取ることもできます。長い文書はいくつかの"
    "チャンクに分割されます。"
)
KOREAN = (
    "의미 검색은 글자 그대로가 아니라 뜻으로 파일을 찾습니다. 예를 들어 작년 여름 교토 여행 메모처럼 자신의 "
    "말로 설명하면, 질문과 문서를 벡터로 바꾸어 서로의 거리를 비교합니다. 색인은 내 컴퓨터에 만들어지고 "
    "파일은 밖으로 나가지 않습니다. 그래픽 카드가 없으면 다른 서버에서 모델을 실행하고 네트워크로 텍스트를 "
    "보내 벡터를 받을 수도 있습니다. 긴 문서는 여러 조각으로 나뉩니다."
)


def prose() -> str:
    """English prose nobody here wrote: the docstrings of standard-library modules."""
    names = ["argparse", "json", "textwrap", "shutil", "subprocess", "pathlib", "logging", "csv", "datetime",
             "decimal", "fractions", "itertools", "functools", "collections", "heapq", "bisect", "unittest",
             "doctest", "pickle", "zipfile", "tarfile", "sqlite3", "email", "http.server", "string"]
    return "\n\n".join(inspect.getdoc(importlib.import_module(n)) or "" for n in names)


def code() -> str:
    lib = Path(os.__file__).parent
    return "".join((lib / name).read_text(encoding="utf-8") for name in ["argparse.py", "textwrap.py", "shutil.py"])


@pytest.fixture(scope="module")
def minilm_tokenizer(minilm_path: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(minilm_path)


def test_offsets_are_exact_and_every_character_is_counted() -> None:
    tok = ApproxTokenizer()
    text = "getElementById(x) → 42 ms; 東京へ行く 한국어 привет\n\n    return None  # done 🎉"
    out = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    spans = out["offset_mapping"]
    assert len(out["input_ids"]) == len(spans)
    assert [text[a:b] for a, b in spans] == [
        "get", "Elem", "ent", "By", "Id", "(", "x", ")", "→", "4", "2", "ms", ";", "東", "京", "へ", "行", "く",
        "한", "한", "국", "국", "어", "어", "пр", "ив", "ет", "\n\n    ", "retu", "rn", "None", "  ", "#", "done", "🎉",
    ]
    covered = {i for a, b in spans for i in range(a, b)}
    assert {i for i, c in enumerate(text) if not c.isspace()} <= covered
    assert all(a < b for a, b in spans)
    # in order, never overlapping; a Korean syllable is two tokens on the same character
    assert all(after == before or after[0] >= before[1] for before, after in zip(spans, spans[1:]))
    batch = tok(["one two", "three"])["input_ids"]
    assert [len(ids) for ids in batch] == [2, 2] and batch[0] == tok("one two")["input_ids"]
    assert tok.count("") == 0 and tok("")["input_ids"] == []


@pytest.mark.parametrize("kind", ["prose", "code", "chinese", "japanese", "korean"])
def test_chunks_cut_with_it_fit_minilms_tokens(kind: str, minilm_tokenizer: Any) -> None:
    text = {"prose": prose, "code": code, "chinese": lambda: CHINESE * 3, "japanese": lambda: JAPANESE * 3,
            "korean": lambda: KOREAN * 3}[kind]()
    approx = ApproxTokenizer()
    chunks = chunk_text(text, approx, 256, 32)
    assert chunks and "".join(c.text for c in chunks)
    estimated = real = 0
    for chunk in chunks:
        guess = approx.count(chunk.text)
        count = len(minilm_tokenizer(chunk.text, add_special_tokens=False)["input_ids"])
        assert guess <= 256
        assert count <= guess * (1 + MARGIN), (count, guess, chunk.text[:200])
        estimated, real = estimated + guess, real + count
    # conservative, but not so much that chunks shrink to nothing
    assert 0.5 * estimated <= real <= estimated, (real, estimated)
