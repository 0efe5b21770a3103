"""HTTP/1.1 on raw sockets, for the tests that send what no well-behaved client would."""

import socket
from urllib.parse import urlsplit


def connect_to(url: str, timeout: float = 30) -> socket.socket:
    address = urlsplit(url)
    return socket.create_connection((address.hostname, address.port), timeout=timeout)


def request_head(length: int) -> bytes:
    return (f"POST / HTTP/1.1\r\nHost: collector\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def read_reply(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one HTTP/1.1 reply with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed before a reply: {data!r}"
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    status_line, *lines = head.decode().split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in lines)}
    while len(rest) < int(headers.get("content-length", 0)):
        rest += sock.recv(65536)
    return int(status_line.split()[1]), headers, rest


def closed(sock: socket.socket) -> bool:
    """Whether the other side has closed the connection (what it sent before is read and dropped);
    False while it is open with nothing to read."""
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        while chunk := sock.recv(65536):
            pass
        return chunk == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.settimeout(timeout)
