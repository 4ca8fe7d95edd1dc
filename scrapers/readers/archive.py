"""Zip containers (xlsx, docx): checked before any library opens them.

A 40 KB xlsx can declare a sheet that inflates to gigabytes. ``zipfile`` never inflates a
member past the size its directory declares (it stops and fails the CRC check), so checking the
declared sizes up front bounds what opening the file can cost.
"""

from __future__ import annotations

import io
import zipfile

MAX_MEMBERS = 10_000


class ArchiveRefused(Exception):
    """The archive is malformed or would unpack to more than allowed; ``code`` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_zip(content: bytes, max_unpacked_bytes: int) -> zipfile.ZipFile:
    """Open ``content`` as a zip after checking its members' declared sizes.

    Raises ``ArchiveRefused`` with code 'unreadable' (not a zip: truncated, corrupted) or
    'zip_bomb' (too many members, or more than ``max_unpacked_bytes`` once unpacked).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise ArchiveRefused(
            "unreadable", f"not a valid zip container (truncated or corrupted?): {exc}"
        ) from exc
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        archive.close()
        raise ArchiveRefused("zip_bomb", f"{len(members)} members (more than {MAX_MEMBERS})")
    total = sum(member.file_size for member in members)
    if total > max_unpacked_bytes:
        biggest = max(members, key=lambda member: member.file_size)
        archive.close()
        raise ArchiveRefused(
            "zip_bomb",
            f"refused to open: members declare {total:,} bytes unpacked "
            f"(cap {max_unpacked_bytes:,}; largest {biggest.filename!r}, "
            f"{biggest.file_size:,} bytes from {biggest.compress_size:,} compressed)",
        )
    return archive
