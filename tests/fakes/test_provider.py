import requests

from tests.fakes.provider import Answer, FakeProvider


def test_scripted_answers_in_order_then_the_last_repeats() -> None:
    with FakeProvider() as fake:
        fake.answer("/messages", Answer(429, {"e": 1}), Answer(201, {"sid": "SM1"}))
        statuses = [
            requests.post(f"{fake.url}/v1/messages", data={"a": "b"}).status_code for _ in range(3)
        ]
        assert statuses == [429, 201, 201]
        assert fake.requests_to("/messages")[0].form == {"a": "b"}
        assert requests.get(f"{fake.url}/other").status_code == 404
