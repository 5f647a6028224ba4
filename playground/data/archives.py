"""Pictures out of an uploaded zip whose folders are the classes, read in memory and never
extracted: Keras' `image_dataset_from_directory` layout (`cats/001.jpg`, `dogs/…`), with or
without one folder around it.

A zip comes from anyone, so its directory is checked before any picture is inflated: the
number of entries, each entry's and the total's uncompressed size, and each entry's
compression ratio (a zip bomb's is in the thousands). Entries that are symbolic links,
nested zips, or paths that climb out (`../`, `/etc/…`) are set aside with a note; the
leftovers of macOS and Windows (`__MACOSX/`, `._*`, `.DS_Store`, `Thumbs.db`) quietly.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from playground.data.images import FORMATS
from playground.spec.own_images import (
    IGNORED_FOLDERS,
    IGNORED_NAMES,
    MAX_COMPRESSION_RATIO,
    MAX_ENTRY_MEGABYTES,
    MAX_ZIP_ENTRIES,
    MAX_ZIP_MEGABYTES,
    OwnImagesRefused,
)

PICTURE_ENDINGS = tuple(f".{ending.lower()}" for _, *endings in FORMATS.values() for ending in endings)
ARCHIVE_ENDINGS = (".zip", ".tar", ".gz", ".tgz", ".7z", ".rar")
COMPRESSION_CHECK_BYTES = 1 << 20  # small entries may compress far (a plain PNG), harmlessly


class ArchiveRefused(OwnImagesRefused):
    """A zip that is not read at all; the message names it and says why."""


@dataclass(frozen=True)
class ArchivePicture:
    class_name: str  # the folder the picture is in
    file_name: str  # its path in the zip, for messages
    raw: bytes


@dataclass
class ArchiveContents:
    pictures: list[ArchivePicture] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was set aside, and why, one line each


def read_class_folders(raw: bytes, name: str) -> ArchiveContents:
    """The pictures of a zip of class folders, each with its class; ArchiveRefused if the zip
    cannot be read or breaks a bound."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise ArchiveRefused(f"{name} is not a zip file this app can read ({error}). Make one with "
                             "your system's “Compress” command, one folder per class.") from None
    with archive:
        entries = [entry for entry in archive.infolist() if not entry.is_dir()]
        check_bounds(entries, name)
        contents = ArchiveContents()
        for entry in entries:
            picture_or_note(archive, entry, contents)
    if not contents.pictures:
        raise ArchiveRefused(f"{name} holds no pictures in class folders. Put each class's pictures in "
                             "a folder named after the class (cats/…, dogs/…), then zip the folders.")
    return contents


def check_bounds(entries: list[zipfile.ZipInfo], name: str) -> None:
    if len(entries) > MAX_ZIP_ENTRIES:
        raise ArchiveRefused(f"{name} holds {len(entries):,} files; the limit is {MAX_ZIP_ENTRIES:,}. "
                             "Zip fewer pictures.")
    total = sum(entry.file_size for entry in entries)
    if total > MAX_ZIP_MEGABYTES * 2**20:
        raise ArchiveRefused(f"{name} unpacks to {total / 2**20:,.0f} MB; the limit is "
                             f"{MAX_ZIP_MEGABYTES} MB. Zip fewer or smaller pictures.")
    for entry in entries:
        ratio = entry.file_size / max(1, entry.compress_size)
        if entry.file_size > COMPRESSION_CHECK_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise ArchiveRefused(f"{name} is refused: {entry.filename!r} would unpack {ratio:,.0f} times "
                                 "larger than it is stored, as a zip bomb does.")


def picture_or_note(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, contents: ArchiveContents) -> None:
    """Add the entry's picture to `contents`, or a note saying why not, or nothing for clutter."""
    path = PurePosixPath(entry.filename.replace("\\", "/"))
    if not path.parts or ignored(path):  # "." or "./" name no file
        return
    if entry.filename.startswith(("/", "\\")) or ".." in path.parts or ":" in path.parts[0]:
        contents.notes.append(f"{entry.filename}: skipped, its path leaves the zip's folders.")
        return
    if stat.S_ISLNK(entry.external_attr >> 16):
        contents.notes.append(f"{entry.filename}: skipped, it is a link to another file.")
        return
    if path.suffix.lower() in ARCHIVE_ENDINGS:
        contents.notes.append(f"{entry.filename}: skipped, archives inside the zip are not opened. "
                              "Unpack it and zip its folders instead.")
        return
    if len(path.parts) < 2:
        contents.notes.append(f"{entry.filename}: skipped, it is in no class folder.")
        return
    if entry.file_size > MAX_ENTRY_MEGABYTES * 2**20:
        contents.notes.append(f"{entry.filename}: skipped, {entry.file_size / 2**20:,.0f} MB is over the "
                              f"{MAX_ENTRY_MEGABYTES} MB limit for one picture.")
        return
    try:
        raw = archive.read(entry)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as error:
        contents.notes.append(f"{entry.filename}: skipped, it cannot be unpacked ({error}).")
        return
    contents.pictures.append(ArchivePicture(path.parts[-2], entry.filename, raw))


def ignored(path: PurePosixPath) -> bool:
    """Clutter that other tools leave: macOS's resource forks and folder files, Windows' thumbnails."""
    return (any(part in IGNORED_FOLDERS for part in path.parts) or path.name in IGNORED_NAMES
            or path.name.startswith("._"))
