"""The baseline: bare Flask answering what our endpoints answer, doing nothing else."""

from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return jsonify(database="up", redis="up", status="ok")

    @app.post("/webhooks/at/sms")
    def at_sms():
        request.form.get("text")  # parse the form, as any endpoint must
        return ""

    @app.post("/webhooks/at/ussd")
    def at_ussd():
        request.form.get("text")
        return (
            "CON Communes+ Cotonou\n1 Budget\n2 Compte administratif\n3 Projets",
            200,
            {"Content-Type": "text/plain; charset=utf-8"},
        )

    return app
