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

``vit_gpt2_caption`` (instances/vit_gpt2_caption.yaml) is Hugging Face's
VisionEncoderDecoderModel of ViTConfig() and GPT2Config(add_cross_attention=True), whose
params transformers counts as 239,195,904: encoder 86,389,248 (with a 590,592-param pooler
the decoder never reads, left out here) and decoder 152,806,656
(tests/data/count_transformers.py). Decoder params by hand: wte 50,257·768 = 38,597,376,
wpe 1,024·768 = 786,432, 12 blocks of 3 norms (4,608), self- and cross-attention
(2 × 2,362,368) and MLP (4,722,432), final norm 1,536; the head is tied to wte. MACs,
20 steps: per step 12 × (4 + 2 + 2) × 768² (projections; the cross keys and values are
outside the loop) + 12 × 2 × 768·3072 (MLP) + 768·50,257 (head) = 137,687,808, so
2,753,756,160; 20 + 1 one-row lookups (768 each; wpe once); the cross keys and values on
197 tokens once: 12 × 2 × 197·768² = 2,788,687,872; the cached self-attention products
12 × 2 × 768 × (1 + ... + 20) = 3,870,720; the cross products 12 × 2 × 20 × 197·768 =
72,622,080: 5,618,952,960 in the decoder, 17,563,060,224 in the encoder.
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


def test_the_vit_gpt2_captioner_matches_hugging_face_and_the_hand_count() -> None:
    inst = load_instance(INSTANCES / "vit_gpt2_caption.yaml")
    a = analyze(inst.network, inst.hardware)
    encoder = [x for x in a.layers if x.name.startswith("encoder")]
    decoder = [x for x in a.layers if not x.name.startswith("encoder")]
    assert sum(x.params for x in encoder) == 86_389_248 - 590_592
    assert sum(x.params for x in decoder) == 152_806_656
    assert sum(x.macs for x in encoder) == 17_563_060_224
    assert sum(x.macs for x in decoder) == 5_618_952_960
    assert a.layer("lm_head").params == 0 and a.layer("lm_head").crossbars == 18_852  # tied
    assert a.layer("h.0.crossattention.k").loop is None  # the encoder's keys, once
    assert a.layer("h.0.attn.scores").macs == 12 * 64 * 210  # the cache: 1 + ... + 20 keys


def test_every_method_agrees_on_the_captioner_and_the_loop_sets_the_period() -> None:
    """The decoder loop, 20 steps of 250.004 µs (145 MVMs of 1.6 µs, a one-hot lookup,
    12 × (1.28 + 0.02) µs of cache writes, and the encoder keys' and values' 12 × 3.84 µs
    written once), is 5.00008 ms whatever the copies: the naive design is optimal."""
    inst = load_instance(INSTANCES / "vit_gpt2_caption.yaml")
    result = compare(build_problem(analyze(inst.network, inst.hardware), inst.budget), 30)
    assert result.agree
    proven = {(r.bottleneck_ps, r.crossbars_used) for r in result.results if r.status == "optimal"}
    assert proven == {(5_000_080_000, 142_068)}


def test_the_blip_vqa_towers_match_hugging_face() -> None:
    """BlipForQuestionAnswering(BlipConfig()): vision 86,090,496 params at 384×384 (577
    tokens), so 86,090,496 − 380·768 = 85,798,656 at this file's 224×224; question encoder
    137,258,496 and answer decoder 137,881,148 exactly (its LM head's matrix tied to its
    word embedding; its transform, norm and bias 622,652). Image MACs as ViT-B/16 to its
    final norm: 17,563,060,224."""
    inst = load_instance(INSTANCES / "blip_vqa.yaml")
    a = analyze(inst.network, inst.hardware)

    def tower(prefix: str) -> tuple[int, int]:
        part = [x for x in a.layers if x.name.startswith(prefix)]
        return sum(x.params for x in part), sum(x.macs for x in part)

    assert tower("vision") == (86_090_496 - 380 * 768, 17_563_060_224)
    assert tower("enc.")[0] == 137_258_496
    assert tower("dec.")[0] == 137_881_148
    assert a.totals["params"] == 361_230_140 - 380 * 768


def test_every_method_agrees_on_blip_vqa_and_the_answer_loop_sets_the_period() -> None:
    """10 answer steps of 260.124 µs: 146 MVMs (233.6 µs), a lookup (0.1), the cache
    writes 12 × (96 + 1) rows × 20 ns (23.28) and a tenth of the question keys' and values'
    once-per-inference writes, 12 × (96 + 35) × 20 ns / 10 (3.144): 2.60124 ms."""
    inst = load_instance(INSTANCES / "blip_vqa.yaml")
    result = compare(build_problem(analyze(inst.network, inst.hardware), inst.budget), 30)
    assert result.agree
    proven = {(r.bottleneck_ps, r.crossbars_used) for r in result.results if r.status == "optimal"}
    assert proven == {(2_601_240_000, 195_240)}
