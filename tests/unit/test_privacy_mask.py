"""Masking of personal numbers in free text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fazhizhen.services.privacy import id_card_valid, luhn_valid, mask_pii, mask_value

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def luhn_complete(prefix: str) -> str:
    for d in "0123456789":
        if luhn_valid(prefix + d):
            return prefix + d
    raise AssertionError


VALID_ID = "11010519491231002X"
VALID_CARD = "6222021234567890128"  # 19 digits, Luhn-valid
assert luhn_valid(VALID_CARD) and id_card_valid(VALID_ID)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话13812345678", "电话138****5678"),
        ("手机 138-1234-5678 联系", "手机 138****5678 联系"),
        ("手机 138 1234 5678", "手机 138****5678"),
        ("+86 13812345678", "+86 138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("全角１３８１２３４５６７８号码", "全角138****5678号码"),
        ("座机 010-12345678", "座机 010-****5678"),
        ("座机 (0755)1234567", "座机 (0755)****4567"),
        (f"身份证{VALID_ID}", "身份证110105********002X"),
        (f"身份证{VALID_ID.lower()}", "身份证110105********002x"),
        ("老身份证110105491231002", "老身份证110105******002"),
        (f"卡号{VALID_CARD}", "卡号6222***********0128"),
        ("卡号 6222 0212 3456 7890 128", "卡号 6222***********0128"),
        ("邮箱 zhang.san@example.com.cn", "邮箱 z***@example.com.cn"),
        ("邮箱 li＠qq.com", "邮箱 l***@qq.com"),
        # not personal numbers: left alone
        ("欠款 12345 元，2023年5月", "欠款 12345 元，2023年5月"),
        ("订单号110105194912310021", "订单号110105194912310021"),  # bad ID checksum
        ("卡号6222021234567890123", "卡号6222021234567890123"),  # fails Luhn
        ("编号 23812345678", "编号 23812345678"),  # not a mobile prefix
        ("1381234567890123", "1381234567890123"),  # longer run of digits
        ("", ""),
    ],
)
def test_mask_examples(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


def test_none_and_nested_values() -> None:
    assert mask_pii(None) is None
    assert mask_value({"a": ["13812345678", 5], "b": None}) == {"a": ["138****5678", 5], "b": None}


digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
filler = st.text(alphabet=st.sampled_from("的了是我你好，。 abc"), max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(3, 9).map(str),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    filler,
    filler,
)
def test_any_mobile_number_is_masked(second: str, rest: str, before: str, after: str) -> None:
    number = "1" + second + rest
    out = mask_pii(before + number + after)
    assert out is not None and number not in out and number[-4:] in out


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=16, max_size=16).filter(lambda s: s[0] != "0"), filler, filler)
def test_any_valid_id_number_is_masked(first17_tail: str, before: str, after: str) -> None:
    number = with_check_digit("1" + first17_tail)
    out = mask_pii(before + number + after)
    assert out is not None and number not in out


@settings(max_examples=200, deadline=None)
@given(st.integers(15, 18).flatmap(lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)), filler)
def test_any_luhn_card_is_masked(prefix: str, before: str) -> None:
    card = luhn_complete("6" + prefix[1:])
    out = mask_pii(before + card + "。")
    assert out is not None and card not in out


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_masking_is_idempotent_and_never_raises(text: str) -> None:
    once = mask_pii(text)
    assert mask_pii(once) == once
