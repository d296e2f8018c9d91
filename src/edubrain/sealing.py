"""Core fields sealed at rest (核心数据加密): ID numbers and the G 学籍号 that carries one.

An ID number is stored as a *token*: deterministic authenticated encryption (AES-SIV, RFC 5297,
from the `cryptography` package) under the bureau's data key, in text of 38 characters:

    ~1<key id: 4 × base32><base64url of 24 bytes: SIV tag (16) + ciphertext (8)>
    e.g. ~1k3fqh2T0cKq…                                      (the number packed in 8 bytes)

`~1` marks a token of format 1, the key id (4 characters) names the key that made it, so
rotation and error messages know which key a stored value needs. A G 学籍号 is "G" + ID number,
and is stored as "G" + the token of its ID number: a G number still starts with G, and the ID
number inside it still equals the pupil's `id_number` token, so joins, natural keys, `id_key`
equality and Splink blocking work on tokens exactly as on the numbers. J and L 学籍号 carry no
ID number and stay in clear. Same plaintext, same key → same token: that equality (and hence
counts of repeats) is what a copy of the files still shows; nothing else about the number does.

The key is kept outside `EDUBRAIN_HOME` (`Settings.key_file`, default
`~/.config/edubrain/data.key`, mode 0600). A bureau's KMS or 密码机 implements `KeyProvider`
instead: it hands out data keys by id (typically unwrapping an envelope-encrypted data key).
Work is vectorised: each distinct value is sealed once and mapped back with Arrow.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from edubrain.errors import ConfigError, UnavailableError
from edubrain.settings import Settings
from edubrain.standard.entities import Check, Entity
from edubrain.standard.identifiers import id_number_problem
from edubrain.warehouse import LOADS_TABLE, Warehouse

FORMAT = "1"
MARK = "~" + FORMAT
KEY_BYTES = 64  # AES-256-SIV: two 256-bit keys
_AD = [b"edubrain:id_number"]  # one context for every ID number, so G bodies equal id_numbers
_KID = r"[a-z2-7]{4}"
_B64 = r"[A-Za-z0-9_-]"
# A token inside any text (a mention key, a JSON row, an audit entry): tag + ≥1 byte ≥ 23 chars.
_PAYLOAD = 32  # base64url characters of 24 bytes
TOKEN_IN_TEXT = re.compile(rf"~1({_KID})({_B64}{{{_PAYLOAD}}})(?![A-Za-z0-9_-])")
_TOKEN = re.compile(rf"~1({_KID})({_B64}{{{_PAYLOAD}}})")
_TOKEN_RE2 = rf"~1{_KID}{_B64}{{{_PAYLOAD}}}"  # for Arrow's RE2: no look-ahead
# What is sealed: an ID number, alone or inside text (a G 学籍号's body, a quarantined row).
# (not the 18 digits of a J/L temporary number: region + birth date, no ID number inside)
# and not a run of digits inside a hash or another code: bounded by anything but letters/digits,
# except the G that makes it a 学籍号.
ID_IN_TEXT = re.compile(r"(?<![0-9A-FH-Za-fh-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
_ID_SOMEWHERE = r"\d{17}[\dXx]"  # RE2 (Arrow) has no look-behind: the rows worth a look
# Stored text that may need re-sealing: a token, or an ID number left in clear (RE2).
RESEAL_CANDIDATES = _TOKEN_RE2 + r"|\d{17}[\dXx]"
_ID_SHAPE = r"^\d{17}[\dX]$"
_ID_PLAIN = re.compile(r"\d{17}[\dX]")
_G_SHAPE = r"^G\d{17}[\dX]$"
_FILE_HEADER = "edubrain data keys v1"


class SealingError(UnavailableError):
    """A sealed value cannot be opened (wrong key file, unknown key, altered token)."""


@dataclass(frozen=True)
class DataKey:
    key_id: str
    secret: bytes  # 64 bytes, AES-256-SIV

    @staticmethod
    def new() -> DataKey:
        secret = secrets.token_bytes(KEY_BYTES)
        return DataKey(key_id_of(secret), secret)


def key_id_of(secret: bytes) -> str:
    """Four base32 characters naming a key (from its hash: says nothing usable about it)."""
    digest = hashlib.sha256(b"edubrain key id:" + secret).digest()
    return base64.b32encode(digest).decode()[:4].lower()


class KeyProvider(Protocol):
    """Where data keys come from: a key file (`FileKeyProvider`) or a bureau's KMS / 密码机.

    `current()` is the key new values are sealed under; `lookup(key_id)` any key that may still
    have sealed stored values (during a rotation: the old one too), None if unknown.
    """

    @property
    def source(self) -> str:
        """Where the keys live, for messages (a path, a KMS key name)."""
        ...

    def current(self) -> DataKey: ...

    def lookup(self, key_id: str) -> DataKey | None: ...


class FileKeyProvider:
    """Data keys in a file outside the data folder: created on first use, mode 0600.

    The file holds a header line and one `<key id> <base64 key>` line per key, the current key
    first; a second line exists only while `edubrain keys rotate` runs (or was interrupted).
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        if not path.exists():
            if not create:
                raise SealingError(f"no data key file at {path}")
            self.write([DataKey.new()], exclusive=True)
        self._keys = self._read()

    @property
    def source(self) -> str:
        return str(self.path)

    @property
    def keys(self) -> list[DataKey]:
        return list(self._keys)

    def _read(self) -> list[DataKey]:
        try:
            lines = self.path.read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError) as exc:
            raise SealingError(f"cannot read the data key file {self.path}: {exc}") from None
        header, body = " ".join(lines[:4]), lines[4:]
        keys: list[DataKey] = []
        if header == _FILE_HEADER and body and len(body) % 2 == 0:
            for kid, text in zip(body[::2], body[1::2], strict=True):
                try:
                    secret = base64.b64decode(text, validate=True)
                except (binascii.Error, ValueError):
                    secret = b""
                if len(secret) != KEY_BYTES or key_id_of(secret) != kid:
                    keys = []
                    break
                keys.append(DataKey(kid, secret))
        if not keys:
            raise SealingError(f"{self.path} is not an edubrain data key file")
        return keys

    def write(self, keys: Sequence[DataKey], *, exclusive: bool = False) -> None:
        """Replace the file's keys (current first) atomically, mode 0600."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = "\n".join(
            [_FILE_HEADER, *(f"{k.key_id} {base64.b64encode(k.secret).decode()}" for k in keys)]
        )
        target = self.path if exclusive else self.path.with_name(self.path.name + ".new")
        flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
        fd = os.open(target, flags, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(text + "\n")
            out.flush()
            os.fsync(out.fileno())
        if not exclusive:
            target.replace(self.path)
        self._keys = list(keys)

    def current(self) -> DataKey:
        return self._keys[0]

    def lookup(self, key_id: str) -> DataKey | None:
        return next((k for k in self._keys if k.key_id == key_id), None)


def _pack(number: str) -> bytes:
    """An ID number (17 digits + check character) as 8 bytes: digits × 11 + check (X = 10)."""
    check = 10 if number[17] == "X" else int(number[17])
    return (int(number[:17]) * 11 + check).to_bytes(8, "big")


def _unpack(data: bytes) -> str:
    digits, check = divmod(int.from_bytes(data, "big"), 11)
    return f"{digits:017d}" + ("X" if check == 10 else str(check))


REMEMBERED_TOKENS = 250_000
"""ID numbers a `Sealer` remembers the token of (about 50 MB). The files of one ingest name the
same pupils again and again (every exam's scores, fitness, health, homework), and sealing is
deterministic, so a token made once is reused instead of encrypted again. Past the bound the
memory starts over rather than grow."""


def is_token(value: str) -> bool:
    return _TOKEN.fullmatch(value) is not None


class Sealer:
    """Seals and opens ID numbers (and G 学籍号) with the keys of one `KeyProvider`."""

    def __init__(self, keys: KeyProvider, *, remember: int | None = None) -> None:
        self.keys = keys
        self._current = keys.current()
        self._ciphers: dict[str, AESSIV] = {}
        self._remember = REMEMBERED_TOKENS if remember is None else remember
        self._tokens: dict[str, str] = {}

    @property
    def key_id(self) -> str:
        return self._current.key_id

    def _cipher(self, key_id: str) -> AESSIV:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            key = self.keys.lookup(key_id)
            if key is None:
                raise SealingError(
                    f"a stored value is sealed under key {key_id}, which {self.keys.source} "
                    f"does not hold (current key {self._current.key_id}): wrong key file?"
                )
            cipher = self._ciphers[key_id] = AESSIV(key.secret)
        return cipher

    # -- one value ---------------------------------------------------------------------------
    def seal_id(self, plain: str) -> str:
        """The token of one ID number (already a token: returned as it is)."""
        if is_token(plain):
            return plain
        if not _ID_PLAIN.fullmatch(plain):
            raise SealingError("only an ID number (17 digits and a check character) is sealed")
        return self._seal(plain)

    def _seal(self, plain: str) -> str:
        token = self._tokens.get(plain)
        if token is None:
            ct = self._cipher(self._current.key_id).encrypt(_pack(plain), _AD)
            token = MARK + self._current.key_id + base64.urlsafe_b64encode(ct).decode()
            if len(self._tokens) >= self._remember:
                self._tokens.clear()  # bounded: start again rather than grow
            self._tokens[plain] = token
        return token

    def open_id(self, token: str) -> str:
        """The ID number a token stands for; anything else is returned as it is."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            return token
        kid, body = match.groups()
        try:
            return _unpack(self._cipher(kid).decrypt(base64.urlsafe_b64decode(body), _AD))
        except (InvalidTag, binascii.Error, ValueError):
            raise SealingError(
                f"a stored value does not open under key {kid} of {self.keys.source}: "
                "altered, or sealed under another key with the same id"
            ) from None

    def seal_student_number(self, number: str) -> str:
        """G + ID number → G + token; J/L numbers (no ID number inside) stay as they are."""
        if number.startswith("G") and re.fullmatch(_G_SHAPE, number):
            return "G" + self.seal_id(number[1:])
        return number

    def open_student_number(self, number: str) -> str:
        if number.startswith("G" + MARK):
            return "G" + self.open_id(number[1:])
        return number

    def seal_text(self, text: str) -> str:
        """Every ID-number-shaped run of digits in free text (a quarantined row) sealed."""
        return ID_IN_TEXT.sub(lambda m: self.seal_id(m.group(1).upper()), text)

    def seal_valid_ids(self, text: str) -> str:
        """Like `seal_text`, for ID numbers whose check digit holds only (rotation sealing what
        an older version left in clear, where any 18-digit run could be something else)."""

        def seal(m: re.Match[str]) -> str:
            number = m.group(1).upper()
            return self.seal_id(number) if id_number_problem(number) is None else m.group(0)

        return ID_IN_TEXT.sub(seal, text)

    def rewrite_column(self, values: pa.Array) -> pa.Array:
        """Distinct stored values → the same under the current key (rotation)."""
        return pa.array(
            [
                None if v is None else self.reseal_text(self.seal_valid_ids(v))
                for v in values.to_pylist()
            ],
            pa.string(),
        )

    def open_text(self, text: str) -> str:
        """Every token inside `text` opened."""
        return TOKEN_IN_TEXT.sub(lambda m: self.open_id(m.group(0)), text)

    def reseal_text(self, text: str) -> str:
        """Every token not under the current key re-sealed under it (rotation)."""
        current = self._current.key_id

        def again(m: re.Match[str]) -> str:
            return m.group(0) if m.group(1) == current else self.seal_id(self.open_id(m.group(0)))

        return TOKEN_IN_TEXT.sub(again, text)

    # -- columns (each distinct value once) --------------------------------------------------
    @staticmethod
    def _map_distinct(
        values: pa.Array | pa.ChunkedArray, pattern: str, fn: Callable[[str], str]
    ) -> pa.Array:
        """`fn` applied once to each distinct value matching `pattern` (RE2), mapped back.

        One hash pass (dictionary encoding) and one `take`: the pattern and `fn` only see the
        distinct values, however many rows repeat them (item scores repeat a 学籍号 ~50×).
        """
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        encoded = pc.dictionary_encode(values)
        dictionary = encoded.dictionary
        hit = pc.fill_null(pc.match_substring_regex(dictionary, pattern), False)
        rows = np.flatnonzero(np.asarray(hit.to_numpy(zero_copy_only=False)))
        if not len(rows):
            return values
        mapped = dictionary.to_pylist()
        for i in rows:
            mapped[i] = fn(mapped[i])
        result: pa.Array = pa.array(mapped, pa.string()).take(encoded.indices)
        return result

    def seal_id_column(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        return self._map_distinct(values, _ID_SHAPE, self._seal)

    def seal_student_number_column(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        return self._map_distinct(values, _G_SHAPE, lambda number: "G" + self._seal(number[1:]))

    def seal_text_column(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        return self._map_distinct(values, _ID_SOMEWHERE, self.seal_text)

    def open_column(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Tokens (and G + token) inside the values opened."""
        return self._map_distinct(values, _TOKEN_RE2, self.open_text)


def key_provider(key_file: Path, home: Path) -> FileKeyProvider:
    """The file key provider at `key_file`, refusing a key kept inside the data folder."""
    key_path, home_path = key_file.expanduser().absolute(), home.expanduser().absolute()
    if key_path.is_relative_to(home_path):
        raise ConfigError(
            f"the data key file {key_path} is inside EDUBRAIN_HOME {home_path}: keep it "
            "outside the data folder (EDUBRAIN_KEY_FILE), or a copy of the data carries its key"
        )
    return FileKeyProvider(key_path)


def sealer_for(settings: Settings) -> Sealer | None:
    """The sealer of this installation, or None where sealing is switched off (benchmarks)."""
    if not settings.seal_core_fields:
        return None
    return Sealer(key_provider(settings.data_key_path, settings.home))


def seal_core_fields(rows: pa.Table, ent: Entity, sealer: Sealer) -> pa.Table:
    """`rows` of `ent` with every ID number and G 学籍号 column sealed."""
    for f in ent.fields:
        if (
            f.check not in (Check.ID_NUMBER, Check.STUDENT_NUMBER)
            or f.name not in rows.schema.names
        ):
            continue
        i = rows.schema.get_field_index(f.name)
        column = rows.column(i)
        if f.check is Check.ID_NUMBER:
            column = sealer.seal_id_column(column)
        else:
            column = sealer.seal_student_number_column(column)
        rows = rows.set_column(i, rows.schema.field(i), column)
    return rows


def seal_text_columns(rows: pa.Table, names: Sequence[str], sealer: Sealer) -> pa.Table:
    """`rows` with ID numbers inside the text columns `names` sealed (quarantined rows)."""
    for name in names:
        i = rows.schema.get_field_index(name)
        rows = rows.set_column(i, rows.schema.field(i), sealer.seal_text_column(rows.column(i)))
    return rows


KEY_CHECK_TABLE = "sealing_key_check"
_KEY_CHECK_PLAIN = "000000000000000000"


def check_key(wh: Warehouse, sealer: Sealer | None, *, write: bool = True) -> None:
    """Refuse a key that is not the one the warehouse was sealed with.

    The warehouse keeps one sealed check value (table `sealing_key_check`, rotated with the
    rest): if the key cannot open it, nothing is read or written with that key. The first
    sealed write creates it; a warehouse that already holds loads without it was written in
    clear (an older version) and is refused until `edubrain keys rotate` seals it.
    """
    if sealer is None:
        return
    if wh.has_table(KEY_CHECK_TABLE):
        tokens = wh.to_arrow(KEY_CHECK_TABLE).column("token").to_pylist()
        if tokens:
            try:
                opened = sealer.open_id(tokens[0])
            except SealingError as exc:
                raise SealingError(
                    f"the warehouse was sealed under another key than {sealer.keys.source} "
                    f"holds ({exc})"
                ) from None
            if opened != _KEY_CHECK_PLAIN:
                raise SealingError(f"the warehouse's key check does not open: {tokens[0]}")
            return
    if wh.has_table(LOADS_TABLE) and wh.count(LOADS_TABLE):
        raise SealingError(
            "the warehouse holds data written without sealing (an older version, or "
            "EDUBRAIN_SEAL_CORE_FIELDS=false): seal it once with `edubrain keys rotate`"
        )
    if write:
        write_key_check(wh, sealer)


def write_key_check(wh: Warehouse, sealer: Sealer) -> None:
    """(Re)write the warehouse's key check under `sealer`'s current key."""
    with wh.transaction() as tx:
        tx.replace_table(KEY_CHECK_TABLE, pa.table({"token": [sealer.seal_id(_KEY_CHECK_PLAIN)]}))
