"""Draw the banner of each wave in each language: images/<wave id>.<lang>.png, 600 x 200, and
the logo of the public pages (subscribe, preferences): images/logo.png, 400 x 80 (shown at half).

The campaign name and the wave's title in the campaign colours (navy and yellow), both in
the banner's language: a reader sees the words of their own language, large enough to read.
The newsletters and posts in that language point at it. Run it again after renaming a wave or
changing a title:

    .venv/bin/python examples/smartnation/images/make_banners.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import yaml
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
CAMPAIGN = HERE.parent / "campaign.yaml"
WIDTH, HEIGHT = 600, 200
NAVY, YELLOW, WHITE = (18, 53, 91), (242, 183, 5), (255, 255, 255)
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size)


def fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The largest font up to `size` that fits the text in `width` pixels."""
    while size > 9 and draw.textlength(text, font=font(size, bold)) > width:
        size -= 1
    return font(size, bold)


def wrap(draw: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """The text in lines that each fit `width` pixels, broken between words."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=face) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def banner(name: str, title: str) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), NAVY)
    draw = ImageDraw.Draw(image, "RGBA")
    # Three overlapping circles on the right: you, us, all of us.
    for (x, y, r), colour in zip(
        ((505, 70, 62), (455, 135, 50), (548, 150, 42)),
        ((242, 183, 5, 230), (255, 255, 255, 60), (120, 170, 225, 150)),
        strict=True,
    ):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    draw.rectangle((0, HEIGHT - 8, WIDTH, HEIGHT), fill=YELLOW)
    left, text_width = 28, 370
    draw.text((left, 22), "#SmartNation", font=font(15, bold=True), fill=YELLOW)
    draw.text((left, 44), name, font=fit(draw, name, 22, text_width, bold=True), fill=WHITE)
    # The title on up to two lines, as large as fits (never under 18 px).
    size = 26
    while size > 18 and len(wrap(draw, title, font(size, bold=True), text_width)) > 2:
        size -= 1
    face = font(size, bold=True)
    y = 86
    for line in wrap(draw, title, face, text_width):
        draw.text((left, y), line, font=face, fill=WHITE)
        y += size + 8
    return image


def logo() -> Image.Image:
    """The word mark on white: a navy square with a yellow bar, then "SmartNation" in navy."""
    image = Image.new("RGB", (400, 80), WHITE)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 79, 79), radius=12, fill=NAVY)
    draw.rectangle((16, 52, 63, 63), fill=YELLOW)
    draw.text((96, 40), "SmartNation", font=font(40, bold=True), fill=NAVY, anchor="lm")
    return image


def main() -> None:
    spec = yaml.safe_load(CAMPAIGN.read_text(encoding="utf-8"))
    info = spec["campaign"]
    logo().save(HERE / "logo.png", optimize=True)
    print("wrote images/logo.png")
    for wave in spec["waves"]:
        for lang in info["languages"]:
            path = HERE / f"{wave['id']}.{lang}.png"
            banner(info["name"][lang], wave["title"][lang]).save(path, optimize=True)
            print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
