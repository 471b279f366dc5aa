from tracking.contact import callable_phone, is_placeholder, placeholder_warning
from tracking.web.walker_page import call_link


def test_the_bundled_placeholder_numbers_are_never_offered_to_walkers() -> None:
    for phone in ("+32 3 000 00 00", "+32 9 000 00 00", "", "000"):
        assert is_placeholder(phone) and callable_phone(phone) == ""
    assert callable_phone("+32 3 286 90 10") == "+32 3 286 90 10"
    assert callable_phone("0470 12 34 56") == "0470 12 34 56"


def test_organisers_are_told_what_to_fill_in() -> None:
    warning = placeholder_warning("+32 3 000 00 00", "antwerp-2023")
    assert warning and "+32 3 000 00 00" in warning and "antwerp-2023" in warning
    assert placeholder_warning("+32 3 286 90 10", "antwerp-2023") is None


def test_the_call_link_is_only_for_a_real_number() -> None:
    assert call_link("+32 3 000 00 00", "Call {phone}") == ""
    link = call_link("+32 3 286 90 10", "Call {phone}")
    assert 'href="tel:+3232869010"' in link and "Call +32 3 286 90 10" in link
