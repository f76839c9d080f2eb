"""``SQLiteLLMCache``: answers survive the process, and a repeated call never reaches the LLM."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult, Generation

from pipeline.llm import SQLiteLLMCache, invoke_llm

MESSAGES: list[BaseMessage] = [SystemMessage(content="Extract."),
                               HumanMessage(content="Apollo 11 was operated by NASA.")]


class CountingChatModel(BaseChatModel):
    """Answers ``answer-<n>`` on its n-th real call, so a cached answer is recognisable."""

    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "counting"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        self.calls += 1
        message = AIMessage(content=f"answer-{self.calls}")
        return ChatResult(generations=[ChatGeneration(message=message)])


def test_second_identical_call_is_answered_from_the_cache(tmp_path: Path) -> None:
    model = CountingChatModel(cache=SQLiteLLMCache(tmp_path / "llm.sqlite"))
    assert invoke_llm(model, MESSAGES, seed=0) == "answer-1"
    assert invoke_llm(model, MESSAGES, seed=0) == "answer-1"
    assert model.calls == 1


def test_seed_and_prompt_are_part_of_the_key(tmp_path: Path) -> None:
    model = CountingChatModel(cache=SQLiteLLMCache(tmp_path / "llm.sqlite"))
    invoke_llm(model, MESSAGES, seed=0)
    assert invoke_llm(model, MESSAGES, seed=1) == "answer-2"  # k samples differ
    other = [*MESSAGES[:-1], HumanMessage(content="Gaia was operated by ESA.")]
    assert invoke_llm(model, other, seed=0) == "answer-3"
    assert model.calls == 3


def test_a_rerun_in_a_new_process_reuses_the_file(tmp_path: Path) -> None:
    path = tmp_path / "llm.sqlite"
    first = SQLiteLLMCache(path)
    invoke_llm(CountingChatModel(cache=first), MESSAGES, seed=3)
    first.close()
    rerun = CountingChatModel(cache=SQLiteLLMCache(path))
    assert invoke_llm(rerun, MESSAGES, seed=3) == "answer-1"
    assert rerun.calls == 0


def test_round_trip_keeps_message_and_generation_info(tmp_path: Path) -> None:
    cache = SQLiteLLMCache(tmp_path / "c.sqlite")
    assert cache.lookup("p", "m") is None
    gen = ChatGeneration(message=AIMessage(content="hi", response_metadata={"x": 1}),
                         generation_info={"finish_reason": "stop"})
    cache.update("p", "m", [gen, Generation(text="plain")])
    got = cache.lookup("p", "m")
    assert got is not None and len(got) == 2
    assert isinstance(got[0], ChatGeneration)
    assert got[0].message.content == "hi" and got[0].generation_info == {"finish_reason": "stop"}
    assert got[1].text == "plain" and not isinstance(got[1], ChatGeneration)
    assert cache.lookup("p", "other model") is None
    cache.clear()
    assert cache.lookup("p", "m") is None and len(cache) == 0


def test_constructor_does_no_io(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "llm.sqlite"
    cache = SQLiteLLMCache(path)
    assert not path.exists()
    cache.update("p", "m", [Generation(text="t")])
    assert path.exists()


def test_threads_share_one_cache(tmp_path: Path) -> None:
    cache = SQLiteLLMCache(tmp_path / "c.sqlite")

    def work(i: int) -> str:
        cache.update(f"p{i}", "m", [Generation(text=str(i))])
        hit = cache.lookup(f"p{i}", "m")
        assert hit is not None
        return hit[0].text

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(work, range(64)), key=int) == [str(i) for i in range(64)]
    assert len(cache) == 64


def test_unreadable_entry_is_a_miss(tmp_path: Path) -> None:
    cache = SQLiteLLMCache(tmp_path / "c.sqlite")
    cache.update("p", "m", [Generation(text="t")])
    conn = cache._connection()
    conn.execute("UPDATE llm_cache SET response = 'not json'")
    conn.commit()
    assert cache.lookup("p", "m") is None
