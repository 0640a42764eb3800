"""Streams: multipart uploads that never hold a whole file in memory, and the SSE parser."""

from __future__ import annotations

import json
import mimetypes
import os
import uuid
from typing import IO, Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union

CHUNK = 256 * 1024

# A file to upload: a path, an open binary file, or (name, file or bytes[, media type]).
FileLike = Union[str, "os.PathLike[str]", IO[bytes], Tuple[Any, ...]]


class _Part:
    def __init__(self, header: bytes, source: Union[bytes, IO[bytes], str], size: Optional[int], close: bool):
        self.header = header
        self.source = source
        self.size = size
        self.close = close


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _file_part(boundary: str, item: FileLike) -> _Part:
    media_type: Optional[str] = None
    if isinstance(item, tuple):
        name, source = str(item[0]), item[1]
        if len(item) > 2:
            media_type = item[2]
    elif isinstance(item, (str, os.PathLike)):
        source = os.fspath(item)
        name = os.path.basename(source)
    else:
        source = item
        name = os.path.basename(str(getattr(item, "name", "file")))
    media_type = media_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    header = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{_quote(name)}"\r\n'
        f"Content-Type: {media_type}\r\n\r\n"
    ).encode()
    if isinstance(source, (bytes, bytearray)):
        return _Part(header, bytes(source), len(source), False)
    if isinstance(source, str):
        return _Part(header, source, os.path.getsize(source), True)
    size: Optional[int] = None
    try:
        size = os.fstat(source.fileno()).st_size - source.tell()
    except (AttributeError, OSError, ValueError):
        size = None
    return _Part(header, source, size, False)


class Multipart:
    """A multipart/form-data body: text fields first (the API wants them before the files), then files, streamed."""

    def __init__(self, fields: Dict[str, str], files: Iterable[FileLike]):
        self.boundary = "docket-" + uuid.uuid4().hex
        self._fields = b"".join(
            (f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote(k)}"\r\n\r\n').encode()
            + v.encode()
            + b"\r\n"
            for k, v in fields.items()
        )
        self._parts: List[_Part] = [_file_part(self.boundary, f) for f in files]
        self._end = f"--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def length(self) -> Optional[int]:
        """The body's size when every file's is known (then no chunked encoding is needed)."""
        if any(p.size is None for p in self._parts):
            return None
        return len(self._fields) + sum(len(p.header) + p.size + 2 for p in self._parts) + len(self._end)  # type: ignore[operator]

    def __iter__(self) -> Iterator[bytes]:
        yield self._fields
        for part in self._parts:
            yield part.header
            if isinstance(part.source, bytes):
                yield part.source
            elif isinstance(part.source, str):
                with open(part.source, "rb") as f:
                    yield from iter(lambda: f.read(CHUNK), b"")
            else:
                yield from iter(lambda: part.source.read(CHUNK), b"")  # type: ignore[union-attr]
            yield b"\r\n"
        yield self._end


class SseParser:
    """Turns the lines of a text/event-stream into (id, event, data) messages."""

    def __init__(self) -> None:
        self._id: Optional[str] = None
        self._event: Optional[str] = None
        self._data: List[str] = []

    def feed(self, line: str) -> Optional[Tuple[Optional[str], str, str]]:
        line = line.rstrip("\r\n")
        if line == "":
            if not self._data and self._event is None:
                return None
            message = (self._id, self._event or "message", "\n".join(self._data))
            self._event, self._data = None, []
            return message
        if line.startswith(":"):
            return None  # a comment: the server's keep-alive
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "id":
            self._id = value
        elif name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
