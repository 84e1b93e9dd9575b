"""The baseline for /healthz: a bare Litestar app with one route answering the same body."""

from litestar import Litestar, get


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar(route_handlers=[healthz], logging_config=None, debug=False)
