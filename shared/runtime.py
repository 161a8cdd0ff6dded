"""The name of the runtime this code runs on, as /health reports it: the JS global
`navigator.userAgent` ("Cloudflare-Workers" on workerd, on Cloudflare and locally); CPython,
where the unit tests run, has no JS globals."""

import platform


def runtime_name() -> str:
    try:
        from js import navigator  # only under Pyodide
    except ImportError:
        return f"{platform.python_implementation()} {platform.python_version()}"
    return str(navigator.userAgent)
