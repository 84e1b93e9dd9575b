"""Make the tours' narration audio with Debian's speech synthesiser (no recordings, no network).

    apt-get install -y espeak-ng opus-tools
    python3 content/make_audio.py            # every stop of content/tours.toml and every item of
                                             # content/exhibitions/*.toml, zh and en

For each stop: `espeak-ng -v cmn` (Mandarin) or `-v en-gb` reads the stop's narration to a WAV file,
and `opusenc --bitrate 16 --downmix-mono` turns it into content/media/audio/<poi>.<lang>.opus
(Ogg Opus, about 2 KB a second); an exhibition item's commentary goes to
content/media/audio/exhibitions/<exhibition>.<item>.<lang>.opus. Files that already exist are kept unless --force is given.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import tomllib
from pathlib import Path

CONTENT = Path(__file__).resolve().parent
OUT = CONTENT / "media" / "audio"
VOICES = {"zh": ["-v", "cmn", "-s", "165"], "en": ["-v", "en-gb", "-s", "160"]}


def make(text: str, lang: str, target: Path) -> None:
    with tempfile.NamedTemporaryFile(suffix=".wav") as wav:
        subprocess.run(["espeak-ng", *VOICES[lang], "-w", wav.name, text], check=True)
        subprocess.run(
            ["opusenc", "--quiet", "--bitrate", "16", "--downmix-mono", "--comp", "10", wav.name, str(target)],
            check=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--force", action="store_true", help="remake files that exist")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    tours = tomllib.loads((CONTENT / "tours.toml").read_text(encoding="utf-8"))["tour"]
    for tour in tours:
        for stop in tour["stop"]:
            for lang in ("zh", "en"):
                target = OUT / f"{stop['poi']}.{lang}.opus"
                if args.force or not target.exists():
                    make(stop["text"][lang], lang, target)
    (OUT / "exhibitions").mkdir(exist_ok=True)
    for path in sorted((CONTENT / "exhibitions").glob("*.toml")):
        exhibition = tomllib.loads(path.read_text(encoding="utf-8"))
        for item in exhibition["item"]:
            for lang in ("zh", "en"):
                target = OUT / "exhibitions" / f"{exhibition['slug']}.{item['key']}.{lang}.opus"
                if args.force or not target.exists():
                    make(item["commentary"][lang], lang, target)
    total = sum(p.stat().st_size for p in OUT.rglob("*.opus"))
    print(f"{len(list(OUT.rglob('*.opus')))} files, {total / 1e6:.1f} MB in {OUT.relative_to(CONTENT.parent)}")


if __name__ == "__main__":
    main()
