import pytest

from playground.views.text import duration, literal, ordinal


@pytest.mark.parametrize("number, expected", [
    (1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"), (21, "21st"),
    (22, "22nd"), (101, "101st"), (111, "111th")])
def test_ordinal(number, expected):
    assert ordinal(number) == expected


def test_duration():
    assert duration(40.4) == "50 s"
    assert duration(40.0) == "40 s"
    assert duration(0.2) == "10 s"
    assert duration(90) == "90 s"
    assert duration(91) == "2 min"
    assert duration(180) == "3 min"


def test_a_literal_name_renders_as_typed_in_streamlit_markdown():
    """Rendered through Streamlit's own Markdown pipeline would need a browser; here, the
    escaped text must contain no unescaped syntax character (checked char by char)."""
    name = "**final** [see here](http://x.y) `code` $x$ _it_ ~~s~~ <b>.keras"
    escaped = literal(name)
    unescaped, index = [], 0
    while index < len(escaped):
        if escaped[index] == "\\":
            unescaped.append(escaped[index + 1])
            index += 2
            continue
        assert escaped[index] not in "*[]()`$_~<>", f"unescaped {escaped[index]!r} at {index}"
        unescaped.append(escaped[index])
        index += 1
    assert "".join(unescaped) == name
