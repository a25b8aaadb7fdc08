from pathlib import Path

from bot import create_app


def test_healthy(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"database": "up", "redis": "up", "status": "ok"}


def test_redis_down_is_503(tmp_path: Path, database_url: str) -> None:
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": database_url,
            "REDIS_URL": f"unix://{tmp_path}/nobody-listens.sock",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"database": "up", "redis": "down", "status": "degraded"}


def test_database_down_is_503(tmp_path: Path, redis_url: str) -> None:
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            # A directory cannot be opened as a database file.
            "DATABASE_URL": f"sqlite:///{tmp_path}",
            "REDIS_URL": redis_url,
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "down"
    assert response.get_json()["redis"] == "up"


def test_unknown_path_is_json_404(client) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Not Found"
