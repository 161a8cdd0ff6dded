"""GraphiQL's page for GET /graphql (playground/graphiql.html is its static twin, loading the same
files). Its scripts come from unpkg, on the origin where the caller's key lives: each is pinned
to an exact version and carries its SRI hash (sha384 of the file in that version's npm tarball,
which is what unpkg serves), so that the browser runs nothing but those bytes."""

from html import escape

UNPKG = "https://unpkg.com"
# (URL, integrity): the stylesheet, then the scripts in the order they must run.
GRAPHIQL_STYLESHEET = (f"{UNPKG}/graphiql@4.1.2/graphiql.min.css",
                       "sha384-1el1QShFBnnXTx9x/Cprg82hZWKt0ry29OAYIXt05swbi0KcZDFoj0CWguMpopJr")
GRAPHIQL_SCRIPTS = (
    (f"{UNPKG}/react@18.3.1/umd/react.production.min.js",
     "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z"),
    (f"{UNPKG}/react-dom@18.3.1/umd/react-dom.production.min.js",
     "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1"),
    (f"{UNPKG}/graphiql@4.1.2/graphiql.min.js",
     "sha384-9XdHu7ajgGJziD4J1zNBKQ842Q/+zZfDv+ib1eMhZWBH6hPAs806x+Jbcf0yNO6B"),
)


def _attributes(url: str, integrity: str) -> str:
    return f'"{escape(url)}" integrity="{integrity}" crossorigin="anonymous"'


_STYLESHEET = f'<link rel="stylesheet" href={_attributes(*GRAPHIQL_STYLESHEET)}>'
_SCRIPTS = "\n".join(f"<script src={_attributes(url, integrity)}></script>" for url, integrity in GRAPHIQL_SCRIPTS)

GRAPHIQL_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Inference UI GraphQL</title>
{_STYLESHEET}
<style>body{{margin:0;height:100vh}}#graphiql{{height:100vh}}</style></head>
<body><div id="graphiql">Loading GraphiQL…</div>
{_SCRIPTS}
<script>
const fetcher = GraphiQL.createFetcher({{ url: location.pathname }});
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {{ fetcher, defaultHeaders: '{{"Authorization": "Bearer <your key>"}}' }}));
</script></body></html>"""
GRAPHIQL_CSP = (
    f"default-src 'none'; script-src {UNPKG} 'unsafe-inline'; style-src {UNPKG} 'unsafe-inline'; "
    f"connect-src 'self'; img-src data:; font-src {UNPKG}"
)
