"""The baseline: bare Flask answering the same JSON as /healthz, with no checks."""

from flask import Flask, jsonify


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return jsonify(database="up", redis="up", status="ok")

    return app
