import pytest

from bot.content.loader import load_content


@pytest.fixture
def loaded(session) -> None:
    """The sample content of the three communes."""
    load_content(session)
    session.commit()
