"""Enums whose members are their text: they compare equal to, print as and store in Parquet/JSON like the strings
they replace (``FindingKind.REGRESSION == "regression"``), on every Python the project supports (3.10 has no StrEnum)."""

from __future__ import annotations

import enum


class TextEnum(str, enum.Enum):  # noqa: UP042 (StrEnum formats differently in f-strings on 3.11)
    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)
