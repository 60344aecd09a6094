"""Every named error has a Chinese title of its own, next to its English one.

A desk client that sends Accept-Language: zh reads `title_zh`; a class that inherits its
parent's (or has none) would answer a Chinese reader with a vaguer sentence, or English.
"""
from __future__ import annotations

import re

from app.api.problem_catalogue import error_classes
from app.domain.errors import DomainError

HAN = re.compile(r"[\u4e00-\u9fff]")


def _name(cls: type[DomainError]) -> str:
    return f"{cls.__module__}.{cls.__name__}"


def test_the_walk_finds_the_named_errors():
    names = {cls.__name__ for cls in error_classes()}
    assert len(names) > 250 and {"ReceiptNotFound", "EstateClosed", "IllegalTransition", "TicketNotValid"} <= names


def test_every_error_class_has_its_own_chinese_title():
    missing = [_name(c) for c in (DomainError, *error_classes()) if "title_zh" not in vars(c)]
    assert not missing, "add title_zh next to title:\n" + "\n".join(missing)


def test_every_chinese_title_is_chinese_and_not_the_english():
    wrong = [f"{_name(c)}: {c.title_zh!r}" for c in (DomainError, *error_classes())
             if c.title_zh.strip() == c.title.strip() or not HAN.search(c.title_zh)]
    assert not wrong, "title_zh must be written in Chinese:\n" + "\n".join(wrong)


def test_every_english_title_is_the_class_own():
    # A title_zh written for an inherited English title would translate the parent's sentence.
    missing = [_name(c) for c in error_classes() if "title" not in vars(c)]
    assert not missing, missing
