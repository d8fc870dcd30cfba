import io
import time

from cli.progress import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_on_a_terminal() -> None:
    out = Terminal()
    with progress("checking rows", stream=out) as report:
        for i in range(1, 5):
            report(i, 4)
        time.sleep(0.3)
    text = out.getvalue()
    assert "[" + "#" * 28 + "] 4/4" in text
    assert "checking rows: done in" in text


def test_plain_lines_off_a_terminal() -> None:
    out = io.StringIO()
    with progress("building", stream=out):
        pass
    assert out.getvalue().splitlines()[0] == "building …"
    assert out.getvalue().splitlines()[1].startswith("building: done in")
