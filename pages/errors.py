"""A friendly page for a person whose page request went wrong (never raw JSON or a trace)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

_env = Environment(loader=PackageLoader("pages", "templates"), autoescape=select_autoescape())

TITLES = {
    "zh": {400: "请求有误", 401: "请先登录", 403: "没有权限", 404: "没有找到", 429: "请求太频繁"},
    "en": {400: "Bad request", 401: "Please sign in", 403: "Not allowed", 404: "Not found"},
}
OTHER = {"zh": "暂时无法显示此页面", "en": "This page cannot be shown right now"}
BACK = {"zh": "返回地图首页", "en": "Back to the map"}


def error_page(status: int, message: str, *, lang: str) -> str:
    """The HTML of an error page (Chinese unless ``lang`` is ``en``); ``message`` is escaped."""
    lang = "en" if lang == "en" else "zh"
    title = TITLES[lang].get(status if status != 422 else 400, OTHER[lang])
    return _env.get_template("error.html").render(
        lang=lang,
        title=title,
        message=message,
        back="/maps/stations" + ("?lang=en" if lang == "en" else ""),
        back_text=BACK[lang],
    )
