"""benchmarks/request_path.py's server: the benchmark settings with the rate limits on, as in
production (counted in Redis: part of the request path measured), set high enough that no
request of the benchmark is refused."""

from benchmarks.settings import *  # noqa: F403
from benchmarks.settings import RATELIMITS

RATELIMIT_ENABLE = True
RATELIMITS = {**RATELIMITS, "api": "100000000/m"}
