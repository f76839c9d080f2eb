"""A persistent LLM response cache in one SQLite file.

langchain-core checks ``BaseChatModel.cache`` before every call, keyed by the serialised
prompt and the model's ``llm_string`` (its identifying parameters plus the call's kwargs, which
include ``seed`` and ``stop``). Plugging this cache in means a rerun of the same chunk with the
same model, prompt and seed is answered from disk and never reaches the LLM: builds are
resumable and repeatable, and k samples with k seeds are k distinct entries.

Generations are stored as plain JSON (text, generation info and the message as
``message_to_dict``), never pickled and never through langchain's general ``loads``, so a cache
file cannot make the process instantiate arbitrary classes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.messages import message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation

_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_cache (
    key        TEXT PRIMARY KEY,
    llm_string TEXT NOT NULL,
    prompt     TEXT NOT NULL,
    response   TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
)
"""


def _key(prompt: str, llm_string: str) -> str:
    # prompts run to kilobytes; a digest keeps the primary-key index small
    return hashlib.sha256(f"{llm_string}\x00{prompt}".encode()).hexdigest()


def _encode(generations: Sequence[Generation]) -> str:
    items: list[dict[str, Any]] = []
    for gen in generations:
        item: dict[str, Any] = {"text": gen.text, "generation_info": gen.generation_info}
        if isinstance(gen, ChatGeneration):
            item["message"] = message_to_dict(gen.message)
        items.append(item)
    return json.dumps(items, ensure_ascii=False, default=str)


def _decode(payload: str) -> list[Generation]:
    out: list[Generation] = []
    for item in json.loads(payload):
        if "message" in item:
            (message,) = messages_from_dict([item["message"]])
            out.append(ChatGeneration(message=message,
                                      generation_info=item.get("generation_info")))
        else:
            out.append(Generation(text=item["text"],
                                  generation_info=item.get("generation_info")))
    return out


class SQLiteLLMCache(BaseCache):
    """``BaseCache`` backed by one SQLite file; safe to share between threads.

    The connection is opened lazily on first use (no I/O in the constructor) and guarded by a
    lock; WAL mode lets other processes read while one writes. An unreadable entry counts as
    a miss rather than an error: the worst case is one more LLM call.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)
            conn.commit()
            self._conn = conn
        return self._conn

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        """The cached generations for this prompt and model configuration, or ``None``."""
        with self._lock:
            row = self._connection().execute(
                "SELECT response FROM llm_cache WHERE key = ?", (_key(prompt, llm_string),)
            ).fetchone()
        if row is None:
            return None
        try:
            return _decode(row[0])
        except (ValueError, KeyError, TypeError):
            return None

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """Store (or replace) the generations for this prompt and model configuration."""
        payload = _encode(return_val)
        with self._lock:
            conn = self._connection()
            conn.execute(
                "INSERT OR REPLACE INTO llm_cache (key, llm_string, prompt, response) "
                "VALUES (?, ?, ?, ?)",
                (_key(prompt, llm_string), llm_string, prompt, payload))
            conn.commit()

    def clear(self, **kwargs: Any) -> None:
        """Delete every cached response."""
        with self._lock:
            conn = self._connection()
            conn.execute("DELETE FROM llm_cache")
            conn.commit()

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._connection().execute("SELECT COUNT(*) FROM llm_cache").fetchone()
        return int(count)

    def close(self) -> None:
        """Close the connection; the next use reopens it."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


__all__ = ["SQLiteLLMCache"]
