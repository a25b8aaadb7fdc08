import pytest

from bot.content.loader import load_content

# The weekly digest goes out as a broadcast: the same faked bulk SMS API.
from tests.broadcasts.conftest import fake_at  # noqa: F401


@pytest.fixture
def loaded(session) -> None:
    """The sample content of the three communes."""
    load_content(session)
    session.commit()
