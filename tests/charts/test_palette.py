"""The palette for every reader (issue #34): Okabe–Ito channel colours that stay apart under
deuteranopia and protanopia, keyed by channel, and attribution models that never borrow a channel's colour."""

import itertools

import matplotlib as mpl
import numpy as np
import pytest

from kpi_kit.charts import style as kp

# Machado, Oliveira & Fernandes (2009), severity 1, on linear RGB: no dependency needed
SIMULATIONS = {
    "normal": np.eye(3),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
}
MIN_DISTANCE = 15.0  # CIELAB ΔE*ab: the old palette's closest pair was 1.7 (deuteranopia); Okabe–Ito's is 17


def _lab(colour, vision: str) -> np.ndarray:
    c = np.asarray(mpl.colors.to_rgb(colour))
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    linear = np.clip(SIMULATIONS[vision] @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    xyz = xyz / [0.95047, 1.0, 1.08883]
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _distance(a, b, vision) -> float:
    return float(np.linalg.norm(_lab(a, vision) - _lab(b, vision)))


def test_the_palette_is_okabe_ito_first():
    assert kp.OKABE_ITO == ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]
    assert kp.PALETTE[:7] == kp.OKABE_ITO
    assert {kp.CHANNEL_COLOURS[c] for c in ("Paid Search", "Email", "Organic Search", "Paid Social", "Referral",
                                            "Events", "Display")} == set(kp.OKABE_ITO)


@pytest.mark.parametrize("vision", sorted(SIMULATIONS))
def test_no_two_channel_colours_are_alike_for_colour_blind_readers(vision):
    colours = sorted(set(kp.PALETTE) | set(kp.CHANNEL_COLOURS.values()))
    closest = min((_distance(a, b, vision), a, b) for a, b in itertools.combinations(colours, 2))
    assert closest[0] >= MIN_DISTANCE, closest


def test_email_and_an_unknown_channel_are_told_apart():
    """Email's orange and a client's own channel (tiktok) used to be orange and brown."""
    kp.register_channels(["Email", "tiktok", "Paid Search", "webinars"])
    try:
        tiktok, webinars = kp.channel_colour("tiktok"), kp.channel_colour("webinars")
        assert tiktok != webinars and not {tiktok, webinars} & {kp.channel_colour("Email"), kp.channel_colour("Paid Search")}
        assert {tiktok, webinars} <= set(kp.PALETTE)  # the palette's free colours first
        for vision in ("deuteranopia", "protanopia"):
            assert _distance(tiktok, kp.channel_colour("Email"), vision) >= MIN_DISTANCE
    finally:
        kp.register_channels([])
    assert kp.channel_colour("Email") == "#E69F00"  # a fixed channel keeps its colour in every report


def test_models_are_greys_and_never_a_channels_colour():
    channels = set(kp.PALETTE) | set(kp.CHANNEL_COLOURS.values()) | set(kp._FALLBACK)
    looks = set()
    for i, model in enumerate(kp.MODEL_STYLES):
        style = kp.model_style(model, i)
        r, g, b = mpl.colors.to_rgb(style["color"])
        assert r == g == b, model  # colourless: a model never reads as a channel
        for c in channels:
            assert _distance(style["color"], c, "normal") >= 5, (model, c)
        looks.add((style["color"], style["hatch"]))
    assert len(looks) == len(kp.MODEL_STYLES)  # each model its own look
    assert [m for m, (_, hatch) in kp.MODEL_STYLES.items() if hatch] == ["markov", "shapley"]
