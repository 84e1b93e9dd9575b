"""Make the online shows' HLS recordings with Debian's ffmpeg (no recordings of anyone, no network).

    apt-get install -y ffmpeg        # the Makefile's DEBIAN_TEST_PACKAGES has it
    python3 content/make_show_hls.py [--force]

For each `[[show]]` of content/tickets.toml, ffmpeg draws a short sample of its own (a moving test
pattern with the show's title as a caption, and a pentatonic melody of sine tones), encodes it as H.264
240p + AAC mono at a low bit rate and cuts it into 4-second MPEG-TS segments with an HLS playlist in
content/shows/<slug>/ (index.m3u8, seg000.ts, ...). The files are committed; a show whose directory
already exists is kept unless --force is given. They are served only through signed, short-lived URLs
(GET /shows/{slug}), never from /media.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tomllib
from pathlib import Path

CONTENT = Path(__file__).resolve().parent
OUT = CONTENT / "shows"
SECONDS = 24
# 宫商角徵羽 on C: one note a second, a little tune the sample plays
NOTES = [261.6, 293.7, 329.6, 392.0, 440.0, 392.0, 329.6, 293.7]


def make(slug: str, force: bool) -> None:
    target = OUT / slug
    if target.exists() and not force:
        return
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    tones = "+".join(
        f"0.2*sin(2*PI*{f}*t)*between(mod(t,{len(NOTES)}),{i},{i + 1})" for i, f in enumerate(NOTES)
    )
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=426x240:rate=25:duration={SECONDS}",
            "-f", "lavfi", "-i", f"aevalsrc='{tones}':s=22050:d={SECONDS}",
            "-vf", "drawtext=text='%{pts\\:hms}':x=10:y=10:fontsize=20:fontcolor=white:box=1:boxcolor=black@0.5",
            "-c:v", "libx264", "-profile:v", "baseline", "-preset", "veryfast", "-b:v", "150k", "-g", "100",
            "-keyint_min", "100", "-sc_threshold", "0",
            "-c:a", "aac", "-b:a", "32k", "-ac", "1",
            "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod",
            "-hls_segment_filename", str(target / "seg%03d.ts"),
            str(target / "index.m3u8"),
        ],
        check=True,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    shows = tomllib.loads((CONTENT / "tickets.toml").read_text(encoding="utf-8")).get("show", [])
    for show in shows:
        make(show["slug"], args.force)
        print(show["slug"], sorted(p.name for p in (OUT / show["slug"]).iterdir()))


if __name__ == "__main__":
    main()
