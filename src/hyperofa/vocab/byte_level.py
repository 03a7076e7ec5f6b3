"""Byte-level BPE spelling (GPT-2, RoBERTa, Llama 3, Qwen): every byte is written as one printable
character (`Ġ` for a space, `Ċ` for a newline), so a token is a byte string in disguise.

`byte_level_text` turns a token back into text. Where its bytes are not valid UTF-8 (a token that
ends inside a multi-byte character, common in byte-level vocabularies) the bad bytes are written
`<0xNN>`, the spelling of SentencePiece's byte-fallback pieces: distinct tokens stay distinct, a
lone byte token matches the byte-fallback piece of the same byte, and lowercasing never turns one
byte into another (`Ð`, byte 0xD0, lowercases to `ð`, byte 0xF0, in the disguised spelling).
"""

from __future__ import annotations

from functools import cache


@cache
def byte_to_char() -> dict[int, str]:
    """GPT-2's `bytes_to_unicode`: printable Latin-1 bytes stand for themselves, the other 68 bytes
    for U+0100 onwards in byte order (space → `Ġ` U+0120, newline → `Ċ` U+010A)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    spelled = {b: chr(b) for b in printable}
    others = [b for b in range(256) if b not in spelled]
    spelled.update({b: chr(256 + i) for i, b in enumerate(others)})
    return dict(sorted(spelled.items()))


@cache
def char_to_byte() -> dict[str, int]:
    return {c: b for b, c in byte_to_char().items()}


def byte_level_bytes(token: str) -> bytes | None:
    """The bytes a byte-level token spells, or None if it holds a character outside the byte
    alphabet (an added token written as plain text)."""
    table = char_to_byte()
    if not all(c in table for c in token):
        return None
    return bytes(table[c] for c in token)


def byte_level_text(token: str) -> str:
    """The text a byte-level token spells (invalid UTF-8 bytes as `<0xNN>`); a token outside the
    byte alphabet is returned as it is."""
    data = byte_level_bytes(token)
    return token if data is None else decode_bytes(data)


def decode_bytes(data: bytes) -> str:
    """UTF-8 text of `data`, each byte that is not part of a valid character written `<0xNN>`."""
    out: list[str] = []
    while data:
        try:
            out.append(data.decode("utf-8"))
            break
        except UnicodeDecodeError as err:
            out.append(data[: err.start].decode("utf-8"))
            out.extend(f"<0x{b:02X}>" for b in data[err.start : err.end])
            data = data[err.end :]
    return "".join(out)
