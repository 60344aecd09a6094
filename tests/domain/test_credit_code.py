"""统一社会信用代码 (GB 32100-2015): 18 characters of a 31-letter alphabet, the last a check character."""
import pytest

from app.domain.registry.company import check_credit_code, credit_code_check_char

# Codes as printed on real business licences (public registers).
REAL = ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"]


@pytest.mark.parametrize("code", REAL)
def test_real_codes_pass(code):
    assert check_credit_code(code) == code
    assert credit_code_check_char(code[:17]) == code[17]


def test_lower_case_and_spaces_are_normalised():
    assert check_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize(("code", "says"), [
    ("91350100M000100Y44", "check character of 91350100M000100Y4 is 3"),
    ("91350100M000100Y4", "18 characters"),
    ("91350100M000100Y433", "18 characters"),
    ("91350100I000100Y43", "'I'"),  # I, O, S, V, Z are not in the alphabet
    ("9135010OM000100Y43", "'O'"),
])
def test_bad_codes_say_why(code, says):
    with pytest.raises(ValueError, match=says):
        check_credit_code(code)


def test_every_single_mistyped_character_is_caught():
    code = REAL[0]
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for i in range(17):
        for other in alphabet.replace(code[i], ""):
            typo = code[:i] + other + code[i + 1:]
            with pytest.raises(ValueError):
                check_credit_code(typo)
