"""Charts in notebooks that read in Chinese: a CJK font for matplotlib, found on this machine."""

from __future__ import annotations

#: fonts with Chinese glyphs, in order of preference (Debian: fonts-wqy-zenhei, fonts-noto-cjk)
CJK_FONTS = ("Noto Sans CJK SC", "WenQuanYi Zen Hei", "Source Han Sans SC", "Microsoft YaHei")


def use_cjk_font() -> str | None:
    """Make matplotlib draw Chinese text with an installed CJK font; its name, or None."""
    import matplotlib as mpl
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            mpl.rcParams["font.sans-serif"] = [name, *mpl.rcParams["font.sans-serif"]]
            mpl.rcParams["font.family"] = "sans-serif"
            mpl.rcParams["axes.unicode_minus"] = False
            return name
    return None
