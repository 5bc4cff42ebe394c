"""Static file URLs that carry the request's script prefix, i.e. API Gateway's stage.

Behind API Gateway's default URL every path starts with the stage (`/prod/...`) and Zappa
passes it to Django as SCRIPT_NAME; on a custom domain there is none. Django adds the prefix
to a relative STATIC_URL only once, at its first read, which on Lambda happens at start-up
(WhiteNoise reads it), so the prefix is added here on every URL instead. WhiteNoise matches
`/static/...` on the path after the prefix, so it serves both."""

from django.contrib.staticfiles.storage import StaticFilesStorage
from django.urls import get_script_prefix


class ScriptPrefixedStaticFilesStorage(StaticFilesStorage):
    def url(self, name: str | None) -> str:
        return get_script_prefix().rstrip("/") + super().url(name)
