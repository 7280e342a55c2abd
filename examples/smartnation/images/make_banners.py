"""Draw the newsletter banner of each wave: images/<wave id>.png, 600 x 200.

The campaign name and the wave's title in the campaign colours (navy and yellow), with the
title in each language, since one banner serves all four. Run it again after renaming a
wave or changing a title:

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
NAVY, YELLOW, WHITE, PALE = (18, 53, 91), (242, 183, 5), (255, 255, 255), (190, 208, 230)
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size)


def fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The largest font up to `size` that fits the text in `width` pixels."""
    while size > 9 and draw.textlength(text, font=font(size, bold)) > width:
        size -= 1
    return font(size, bold)


def banner(name: str, titles: dict[str, str]) -> Image.Image:
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
    title = titles["nl"]
    draw.text((left, 82), title, font=fit(draw, title, 19, text_width, bold=True), fill=WHITE)
    y = 114
    for lang in ("fr", "de", "en"):
        line = titles.get(lang)
        if line:
            draw.text((left, y), line, font=fit(draw, line, 14, text_width), fill=PALE)
            y += 20
    return image


def main() -> None:
    spec = yaml.safe_load(CAMPAIGN.read_text(encoding="utf-8"))
    name = spec["campaign"]["name"]["nl"]
    for wave in spec["waves"]:
        path = HERE / f"{wave['id']}.png"
        banner(name, wave["title"]).save(path, optimize=True)
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
