"""A PostgreSQL URL as libpq reads it (psycopg imported only when one is read), fit to print
without its password, and the errors about one: a URL libpq cannot read, or would read otherwise
than it looks (db/errors.py's BadDatabaseUrl), and a server that cannot be reached (CannotConnect).
Every message is one line and never holds the password."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from db.errors import BadDatabaseUrl

# libpq's parameters that hold a secret (https://www.postgresql.org/docs/current/libpq-connect.html).
SECRET_PARAMETERS = frozenset({"password", "sslpassword"})
HIDDEN = "***"


def without_password(setting: object) -> str:
    """A database setting fit to print: a URL's password, and its password= and sslpassword=
    parameters, replaced by ***; anything else as it is.

    Conservative on purpose, as it also prints URLs that libpq refuses: the password runs from the
    user name's ':' to the LAST '@' before the query, so none of it shows whether a password holding
    '@', '/' or '?' is read as libpq reads it (to the first '@') or as it was meant."""
    text = str(setting)
    scheme, separator, rest = text.partition("://")
    if not separator:
        return text
    userinfo, at, _ = _before_query(rest).rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if at and colon:
        rest = f"{user}:{HIDDEN}@{rest[len(userinfo) + 1:]}"
    # libpq's query grammar: key=value pairs joined by '&', keys percent-decoded.
    pieces = re.split(r"([?&])", f"{scheme}://{rest}")
    for index in range(2, len(pieces), 2):
        key, equals, _ = pieces[index].partition("=")
        if equals and unquote(key) in SECRET_PARAMETERS:
            pieces[index] = f"{key}={HIDDEN}"
    return "".join(pieces)


def _before_query(rest: str) -> str:
    """A URL's part after the scheme, up to its query: the first '?' after the path's '/' (or,
    without a path, after the last '@': a password may hold a '?')."""
    path = rest.find("/")
    start = path if path >= 0 else rest.rfind("@") + 1
    query = rest.find("?", start)
    return rest if query < 0 else rest[:query]


def postgres_parameters(url: str) -> dict[str, str]:
    """libpq's reading of a PostgreSQL URL (psycopg.conninfo.conninfo_to_dict). BadDatabaseUrl
    when libpq cannot read it, or when its user name or password holds a character that ends it
    early for libpq, or for a reader of RFC 3986 ('@', '/', '?', '#', '['; libpq takes
    `postgresql://u:p@ss@host/db` for user u, password p and host ss@host): those must be
    percent-encoded."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    shown = without_password(url)
    try:
        parameters = conninfo_to_dict(url)
    except ProgrammingError as error:
        problem = _quoted_parts_hidden(error, shown)
        hint = " (a % in a user name or password is written %25)" if "percent-encoded" in problem else ""
        raise BadDatabaseUrl(f"{shown} is not a PostgreSQL URL libpq can read: {problem}{hint}") from None
    scheme, _, rest = url.partition("://")
    try:
        read = conninfo_to_dict(f"{scheme}://{_before_query(rest)}")  # without the query, which may set them too
    except ProgrammingError:
        read = {}
    userinfo, _, _ = _before_query(rest).rpartition("@")
    user, _, password = userinfo.partition(":")
    misread = BadDatabaseUrl(f"{shown}: the user name or password holds a character libpq takes for the end of it;"
                             " percent-encode it (@ as %40, / as %2F, ? as %3F, # as %23, [ as %5B)")
    try:
        split = urlsplit(url)
    except ValueError:  # a '[' RFC 3986 takes for an IPv6 host's
        raise misread from None
    # As without_password reads it, and as RFC 3986 (urllib) does: both must agree with libpq.
    for reading in ((user, password), (split.username or "", split.password or "")):
        if (read.get("user") or "", read.get("password") or "") != tuple(unquote(part) for part in reading):
            raise misread
    return parameters


def _quoted_parts_hidden(error: Exception, shown: str) -> str:
    """libpq's message on a URL it cannot read, on one line, each part it quotes hidden unless the
    printable URL shows it anyway (it quotes the token it choked on: a password, say)."""
    message = " ".join(str(error).split())
    return re.sub(r'"([^"]*)"', lambda m: m[0] if m[1] in shown else f'"{HIDDEN}"', message)


def without_secrets(text: str, url: str) -> str:
    """A driver's message about connecting to `url`, on one line, with the URL printable and the
    password hidden should the message quote it (libpq does not; a password under 4 characters is
    left alone, as hiding it would hide pieces of words)."""
    text = " ".join(text.split()).replace(url, without_password(url))
    try:
        parameters = postgres_parameters(url)
    except BadDatabaseUrl:
        return text
    for key in SECRET_PARAMETERS:
        if len(parameters.get(key) or "") >= 4:
            text = text.replace(parameters[key], HIDDEN)
    return text
