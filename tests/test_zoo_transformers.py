"""The transformer zoo against published figures, and every method on it.

``clip_b16`` (instances/clip_b16.yaml) is open_clip's ``ViT-B-16``. open_clip's model
profile (mlfoundations/open_clip ``docs/model_profile.csv``, row ``ViT-B-16``) gives
149.62 M params (86.19 image, 63.43 text) and 41.09 GFLOPs (35.13 image, 5.96 text)
at 2 FLOPs per MAC. Worked by hand:

- image: ViT-B/16 without its 1000-class head, 86,567,656 − 769,000 = 85,798,656,
  plus the 768 × 512 projection 393,216: 86,191,872 params; MACs 17,563,828,224 −
  768,000 (head) + 768·512 (projection, one class token) = 17,563,453,440;
- text: embedding 49,408·512 = 25,296,896, positions 77·512 = 39,424, 12 layers of
  2,048 (norms) + 4·(512² + 512) + 512·2048 + 2048 + 2048·512 + 512 = 3,152,384,
  final norm 1,024, projection 512² = 262,144: 63,428,096 params; MACs 12 ·
  (77·3,145,728 + 2·77·77·512) + 512² (projection, one token) + 77·512 (lookups,
  hitm's convention: one row read each) = 2,979,809,792;
- the pair's score: 512 MACs and a 1-param logit scale.
"""

from __future__ import annotations

from helpers import INSTANCES

from hitm import analyze, build_problem, compare, load_instance


def _clip():
    inst = load_instance(INSTANCES / "clip_b16.yaml")
    return inst, analyze(inst.network, inst.hardware)


def test_clip_matches_open_clips_profile() -> None:
    _inst, a = _clip()
    image = [layer for layer in a.layers if layer.name.startswith(("visual", "image_embed"))]
    text = [
        layer
        for layer in a.layers
        if not layer.name.startswith(("visual", "image_embed", "similarity", "logit"))
    ]
    image_params, image_macs = sum(x.params for x in image), sum(x.macs for x in image)
    text_params, text_macs = sum(x.params for x in text), sum(x.macs for x in text)
    assert (image_params, image_macs) == (86_191_872, 17_563_453_440)
    assert (text_params, text_macs) == (63_428_096, 2_979_809_792)
    assert a.totals["params"] == image_params + text_params + 1 == 149_619_969
    assert a.totals["macs"] == image_macs + text_macs + 512
    # The published profile, rounded as it is printed.
    assert (round(image_params / 1e6, 2), round(text_params / 1e6, 2)) == (86.19, 63.43)
    assert round(a.totals["params"] / 1e6, 2) == 149.62
    assert (round(2 * image_macs / 1e9, 2), round(2 * text_macs / 1e9, 2)) == (35.13, 5.96)
    assert round(2 * a.totals["macs"] / 1e9, 2) == 41.09


def test_every_method_agrees_on_clip_at_its_default_budget() -> None:
    """8 chips: the image tower's projections and MLPs on two copies each, 158.4 µs."""
    inst, a = _clip()
    result = compare(build_problem(a, inst.budget), time_limit=30)
    assert result.agree
    proven = {(r.bottleneck_ps, r.crossbars_used) for r in result.results if r.status == "optimal"}
    assert proven == {(158_400_000, 124_564)}
