"""RQ job functions. Jobs take ids, never ORM objects, and open their own app context."""
