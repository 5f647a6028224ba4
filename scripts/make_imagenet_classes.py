"""Write assets/imagenet_classes.json: ImageNet-1k's 1,000 class names, so the app needs no download.

    pip download timm --no-deps -d /tmp/timm && python scripts/make_imagenet_classes.py /tmp/timm/timm-*.whl

The names come from the WordNet lemmas that timm (Apache-2.0) ships in its wheel. Class i
is the i-th WordNet ID in sorted order, the order Keras' ResNet50 outputs use
(class 0 is n01440764, "tench").
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "assets" / "imagenet_classes.json"
SYNSETS = "timm/data/_info/imagenet_synsets.txt"
LEMMAS = "timm/data/_info/imagenet_synset_to_lemma.txt"


def display_name(lemmas: list[str]) -> str:
    """The first lemma, or the second when it just spells the first out ("tabby" → "tabby cat")."""
    if len(lemmas) > 1 and lemmas[1].startswith(lemmas[0] + " "):
        return lemmas[1]
    return lemmas[0]


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        synsets = archive.read(SYNSETS).decode().split()
        lemma_lines = archive.read(LEMMAS).decode().splitlines()
    lemmas = dict(line.split("\t", 1) for line in lemma_lines if "\t" in line)
    if synsets != sorted(synsets) or len(set(synsets)) != 1000:
        raise ValueError("Expected the 1,000 ImageNet-1k WordNet IDs in sorted order.")
    classes = [{"wnid": wnid, "name": display_name(lemmas[wnid].split(", ")), "lemmas": lemmas[wnid]}
               for wnid in synsets]
    OUTPUT.write_text(json.dumps(classes, indent=0, ensure_ascii=False) + "\n")
    print(f"Wrote {len(classes)} classes to {OUTPUT}")


if __name__ == "__main__":
    main(sys.argv[1])
