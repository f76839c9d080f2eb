"""llama.cpp grammars for the embedded model: JSON-schema shape plus *grounded* strings.

A JSON schema may mark string properties with ``"x-verikg-grounded": true``: their value must
be copied from the document the prompt carries between ``<document>`` tags. For the embedded
model those properties are compiled into a grammar that admits only spans of that document
(whole words, up to ``MAX_MENTION_WORDS``, within one sentence), so a small model cannot
misspell, abbreviate or invent a name: measured on the sample corpus, ungrounded Gemma 3 270M
wrote "Aries 5" for "Ariane 5", "JWST", class labels from the prompt and names from the
examples. The evidence contract still checks every answer; for the embedded model it now
passes by construction. Other backends ignore the marker (``strip_markers`` removes it before
a schema is sent to an API).

The spans are written as a character trie, so at any point the grammar keeps only the few
alternatives that share the prefix written so far.

This module also holds the llama-cpp-python ``Llama`` subclass that checks a grammar lazily
(see ``llama_class``).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from typing import Any

from pipeline.text.hostile import DOCUMENT_CLOSE, DOCUMENT_OPEN

#: Schema keyword marking a string property whose value must be copied from the document.
GROUNDED = "x-verikg-grounded"
#: Bump when the mention rules change: it is part of the embedded model's cache key.
GROUNDING_VERSION = "spans-v1"
MAX_MENTION_WORDS = 8
MAX_MENTION_CHARS = 80

_PLACEHOLDER = "__VERIKG_GROUNDED__"
_WORD = re.compile(r"\S+")
_TRIM = " \t\r\n.,;:!?()[]{}\"'`*#_"
_SENTENCE_END = ".!?"


def strip_markers(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` without VeriKG's keywords, for APIs that validate schemas."""
    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items() if k != GROUNDED}
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node
    return clean(schema)  # type: ignore[no-any-return]


def has_grounded_fields(schema: dict[str, Any]) -> bool:
    return GROUNDED in json.dumps(schema)


def find_document(texts: Sequence[str]) -> str | None:
    """The fenced document of the last text that has one (the chunk, not the examples)."""
    for text in reversed(texts):
        start = text.rfind(DOCUMENT_OPEN)
        end = text.rfind(DOCUMENT_CLOSE)
        if 0 <= start < end:
            return text[start + len(DOCUMENT_OPEN):end].strip()
    return None


def candidate_mentions(text: str, *, max_words: int = MAX_MENTION_WORDS,
                       max_chars: int = MAX_MENTION_CHARS) -> list[str]:
    """Every run of 1..``max_words`` whole words of ``text`` that stays inside one sentence
    and one line, trimmed of surrounding punctuation: exact substrings of ``text``."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    found: set[str] = set()
    for i, (start, _) in enumerate(words):
        for j in range(i, min(i + max_words, len(words))):
            if j > i:
                prev_end = words[j - 1][1]
                if text[prev_end - 1] in _SENTENCE_END or "\n" in text[prev_end:words[j][0]]:
                    break
            span = text[start:words[j][1]].strip(_TRIM)
            if span and len(span) <= max_chars:
                found.add(span)
    return sorted(found)


def _gbnf_literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


def _trie_expression(strings: Sequence[str]) -> str:
    """A GBNF expression matching exactly ``strings``, factored as a character trie."""
    trie: dict[str, Any] = {}
    for s in strings:
        node = trie
        for ch in s:
            node = node.setdefault(ch, {})
        node[""] = {}  # end marker; real edges are single non-empty characters

    def expr(node: dict[str, Any]) -> str:
        alternatives = []
        for ch, child in node.items():
            if ch == "":
                continue
            run = ch
            while len(child) == 1 and "" not in child:  # compress single-child chains
                ((nxt, child),) = child.items()
                run += nxt
            rest = expr(child)
            alternatives.append(_gbnf_literal(run) + (f" {rest}" if rest else ""))
        if not alternatives:
            return ""
        body = alternatives[0] if len(alternatives) == 1 else "(" + " | ".join(alternatives) + ")"
        return f"({body})?" if "" in node else body

    return expr(trie)


def schema_grammar(schema: dict[str, Any], document: str | None) -> str:
    """GBNF for ``schema``; grounded strings admit only mentions of ``document``.

    Without a document (or without marked fields) the marked strings are plain strings.
    """
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    mentions = [json.dumps(m, ensure_ascii=False)[1:-1]
                for m in candidate_mentions(document or "")]
    if not mentions or not has_grounded_fields(schema):
        return str(json_schema_to_gbnf(json.dumps(strip_markers(schema))))

    def substitute(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get(GROUNDED):
                return {"enum": [_PLACEHOLDER]}
            return {k: substitute(v) for k, v in node.items()}
        if isinstance(node, list):
            return [substitute(v) for v in node]
        return node

    gbnf = str(json_schema_to_gbnf(json.dumps(substitute(copy.deepcopy(schema)))))
    literal = _gbnf_literal(json.dumps(_PLACEHOLDER))
    if literal not in gbnf:  # the converter changed how it writes constants
        return str(json_schema_to_gbnf(json.dumps(strip_markers(schema))))
    gbnf = gbnf.replace(literal, '"\\"" grounded-mention "\\""')
    return f"{gbnf}\ngrounded-mention ::= {_trie_expression(mentions)}\n"


def llama_class() -> type[Any]:
    """llama-cpp-python's ``Llama``, subclassed to check the grammar lazily.

    Stock llama-cpp-python applies the grammar to every token of the vocabulary before each
    sample; Gemma's vocabulary has 262k tokens, so a JSON grammar cut generation from ~34 to
    ~11 tokens/s here. llama.cpp's own sampler does it the other way round: sample freely,
    check only that token against the grammar, and run the full constrained sampling only when
    it is rejected. That yields the same distribution (a rejected draw is redrawn from the
    constrained one) at nearly the unconstrained speed, so we do the same.
    """
    import ctypes

    import llama_cpp
    import numpy as np
    from llama_cpp import Llama
    from llama_cpp import _internals as internals

    needed = ("llama_sampler_apply", "llama_get_logits_ith", "llama_token_data_array")
    if not (all(hasattr(llama_cpp, name) for name in needed)
            and hasattr(internals, "LlamaTokenDataArray")
            and hasattr(Llama, "_init_sampler")):
        return Llama  # another llama-cpp-python layout: correct, only slower

    class VerifyFirstSampler:
        """Duck-types ``internals.LlamaSampler`` (``sample``/``close``) for ``Llama.generate``."""

        def __init__(self, llama: Any, chain: Any, grammar: Any) -> None:
            self._chain = chain
            self._grammar = internals.LlamaSampler()
            self._grammar.add_grammar(llama._model, grammar)
            self._one = (llama_cpp.llama_token_data * 1)()
            self._one_array = llama_cpp.llama_token_data_array(
                data=ctypes.cast(self._one, llama_cpp.llama_token_data_p), size=1,
                selected=-1, sorted=False)
            self._all = internals.LlamaTokenDataArray(n_vocab=llama._n_vocab)
            self._n_vocab = llama._n_vocab

        def _allowed(self, token: int) -> bool:
            self._one[0] = llama_cpp.llama_token_data(token, 0.0, 0.0)
            self._one_array.size, self._one_array.selected = 1, -1
            llama_cpp.llama_sampler_apply(self._grammar.sampler, ctypes.byref(self._one_array))
            return bool(np.isfinite(self._one[0].logit))

        def sample(self, ctx: Any, idx: int = -1) -> int:
            token = int(self._chain.sample(ctx, idx))
            if not self._allowed(token):
                logits = np.ctypeslib.as_array(
                    llama_cpp.llama_get_logits_ith(ctx.ctx, idx), shape=(self._n_vocab,))
                self._all.copy_logits(logits)
                cur = ctypes.byref(self._all.candidates)
                llama_cpp.llama_sampler_apply(self._grammar.sampler, cur)
                llama_cpp.llama_sampler_apply(self._chain.sampler, cur)
                token = int(self._all.candidates_data.id[self._all.candidates.selected])
                # the chain saw the rejected draw too; only its penalty history keeps it,
                # and the embedded model leaves the penalties neutral
                self._chain.accept(token)
            self._grammar.accept(token)
            return token

        def close(self) -> None:
            self._chain.close()
            self._grammar.close()

    class VerifyFirstLlama(Llama):  # type: ignore[misc]
        def _init_sampler(self, **kwargs: Any) -> Any:  # type: ignore[override]
            grammar = kwargs.pop("grammar", None)
            chain = super()._init_sampler(**kwargs)
            return chain if grammar is None else VerifyFirstSampler(self, chain, grammar)

    return VerifyFirstLlama


__all__ = [
    "GROUNDED",
    "candidate_mentions",
    "find_document",
    "llama_class",
    "schema_grammar",
    "strip_markers",
]
