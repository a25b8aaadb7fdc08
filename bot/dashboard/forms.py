"""What a dashboard form or an API call hands to the functions that write.

Write functions take plain values (never the Flask request), check them, and
raise FormInvalid with a message per field; the HTML page shows them beside
the fields, the JSON API returns them with 422. Messages are already in the
staff's language.
"""

from __future__ import annotations


class FormInvalid(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {why}" for name, why in errors.items()))
        self.errors = errors
