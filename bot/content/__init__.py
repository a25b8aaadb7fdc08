"""Commune content: the files clerks edit, their validator and the database loader."""
