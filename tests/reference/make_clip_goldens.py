#!/usr/bin/env python3
"""Generate the golden fixtures for tweedie's CLIP tokenizer and CLIPTextModel (issue #34).

Writes ``tests/fixtures/clip/``:

* ``vocab.json`` + ``merges.txt``: a tiny byte-level BPE with CLIP's layout, trained here (plain
  Python BPE, deterministic) on a small built-in corpus split by CLIP's normalizer and pre-tokenizer:
  the 256 byte symbols, the 256 byte symbols + ``</w>``, one token per merge (in merge order),
  then ``<|startoftext|>`` and ``<|endoftext|>`` (as in openai/clip-vit-large-patch14, where they
  are ids 49406 and 49407). About 950 tokens, so the fixture stays small.
* ``<name>/tokenizer/`` as Stable Diffusion's pipeline folders ship it: ``vocab.json``,
  ``merges.txt``, ``tokenizer_config.json``, ``special_tokens_map.json`` -- ``sd1`` pads with
  ``<|endoftext|>`` to 77 tokens (SD 1.x, special tokens written as AddedToken dicts), ``sd2`` pads
  with ``!`` to 32 tokens (SD 2.x's pad token, and a short maximum to test truncation cheaply);
* ``<name>/tokenizer_json/``: the same tokenizer as transformers 5's ``save_pretrained`` writes it
  (``tokenizer.json`` + ``tokenizer_config.json``, no vocab.json / merges.txt);
* ``<name>/text_encoder/``: ``config.json`` + ``model.safetensors`` of a random-weight
  ``transformers.CLIPTextModel`` saved by ``save_pretrained`` (``sd1``: 2 layers, 4 heads of 12,
  hidden 48, MLP 80, ``quick_gelu``; ``sd2``: 3 layers, 5 heads of 8, hidden 40, MLP 72, ``gelu``
  (erf), ``layer_norm_eps`` 1e-6), weights perturbed from the init so the layer norms and biases
  are not trivial;
* ``<name>/golden.json``: for every prompt of PROMPTS, the ids of ``transformers.CLIPTokenizer``
  loaded from the tokenizer folder, called as diffusers' pipelines call it
  (``padding="max_length", max_length=tokenizer.model_max_length, truncation=True``);
* ``<name>/hidden.safetensors``: ``h<i>`` = ``last_hidden_state`` [1, max_len, dim] for the first
  HIDDEN prompts, computed in float64 from the stored f32 weights (eager attention), written as f32.

Deterministic (fixed seeds). Run from the repository root:
    nice -n 19 /root/venv/bin/python tests/reference/make_clip_goldens.py
"""

import json
import os
import shutil

import torch
from safetensors.torch import save_file
from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "clip")

CORPUS = """
a photograph of an astronaut riding a horse on the moon, highly detailed, 4k, trending on artstation
a painting of a fox sitting in a field at sunrise, oil on canvas, by claude monet
portrait of a young woman with red hair, studio lighting, sharp focus, bokeh
a cute cat wearing a tiny hat, digital art, concept art, illustration
an old castle on a hill under a starry night sky, fantasy landscape, matte painting
the quick brown fox jumps over the lazy dog. it's a beautiful day, isn't it? we're going home.
a bowl of fruit on a wooden table, still life, photorealistic, 8k, ultra detailed
city street in the rain at night, neon lights, cyberpunk, cinematic, wide angle
a dog and a cat playing together in the snow, watercolor, soft colors, children's book
mountains and a lake with reflections, golden hour, national geographic photo
a robot reading a book in a library, warm light, cozy, highly detailed painting
a close-up photo of a flower with water drops, macro photography, shallow depth of field
a ship sailing on a stormy sea, dramatic clouds, by turner, masterpiece
they'll say you've done it, i'm sure he'd agree, she's the best, don't stop
the model draws pictures from text prompts; the text encoder turns words into vectors
"""

PROMPTS = [
    "a photograph of an astronaut riding a horse",
    "A Photo of a CAT, 4k; Highly-Detailed!!!",
    "don't stop: it's 3.14159 o'clock, we're here & they'll've gone",
    "  multiple   spaces\tand\nnew lines  ",
    "café naïve — 東京 😀 Ünïcödé",
    "cafe\u0301 composed by NFC",
    "",
    "wow!!! !! ! hello!",
    "the end <|endoftext|> and more",
    "UPPER lower MiXeD 123456 x2 1.5x",
    " ".join(["a very long prompt about a painting of a castle"] * 12),
    "snake_case kebab-case path/to/file.png #hashtag @user (parens) [brackets] {braces}",
]
HIDDEN = 4  # prompts whose hidden states are stored (the first ones; the long one is added too)

MODELS = {
    "sd1": dict(
        pad="<|endoftext|>",
        max_length=77,
        config=dict(hidden_size=48, intermediate_size=80, num_hidden_layers=2, num_attention_heads=4,
                    max_position_embeddings=77, hidden_act="quick_gelu", layer_norm_eps=1e-5),
        dict_tokens=True,
        seed=1,
    ),
    "sd2": dict(
        pad="!",
        max_length=32,
        config=dict(hidden_size=40, intermediate_size=72, num_hidden_layers=3, num_attention_heads=5,
                    max_position_embeddings=32, hidden_act="gelu", layer_norm_eps=1e-6),
        dict_tokens=False,
        seed=2,
    ),
}

BOS, EOS = "<|startoftext|>", "<|endoftext|>"


def bytes_to_unicode():
    """GPT-2 / CLIP's byte-to-character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def train_vocab(num_merges=400):
    """A tiny BPE in CLIP's layout: (vocab dict, merges list of 'a b'). Trained here (plain Python,
    ties broken by the pair's text, so reruns give the same files) on CORPUS as CLIP's tokenizer
    splits it: normalised, pre-tokenized, byte-level characters, '</w>' on each word's last symbol."""
    pre = Tokenizer(models.BPE())
    norm = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()])
    pre.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""),
                             behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False),
    ])
    counts = {}
    for line in CORPUS.strip().splitlines():
        for w, _ in pre.pre_tokenizer.pre_tokenize_str(norm.normalize_str(line)):
            syms = tuple(list(w[:-1]) + [w[-1] + "</w>"])
            counts[syms] = counts.get(syms, 0) + 1
    merges = []
    for _ in range(num_merges):
        pairs = {}
        for syms, n in counts.items():
            for p in zip(syms, syms[1:]):
                pairs[p] = pairs.get(p, 0) + n
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(" ".join(best))
        merged = {}
        for syms, n in counts.items():
            out, i = [], 0
            while i < len(syms):
                if i + 1 < len(syms) and (syms[i], syms[i + 1]) == best:
                    out.append(syms[i] + syms[i + 1])
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + n
        counts = merged
    chars = list(bytes_to_unicode().values())
    vocab = {}
    for c in chars:
        vocab[c] = len(vocab)
    for c in chars:
        vocab[c + "</w>"] = len(vocab)
    for m in merges:
        a, b = m.split(" ")
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    vocab[BOS] = len(vocab)
    vocab[EOS] = len(vocab)
    return vocab, merges


def token(content, as_dict):
    if not as_dict:
        return content
    return {"__type": "AddedToken", "content": content, "lstrip": False, "normalized": True,
            "rstrip": False, "single_word": False}


def write_tokenizer(dst, vocab, merges, spec):
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(dst, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(dst, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
    d = spec["dict_tokens"]
    cfg = {
        "add_prefix_space": False,
        "bos_token": token(BOS, d),
        "do_lower_case": True,
        "eos_token": token(EOS, d),
        "errors": "replace",
        "model_max_length": spec["max_length"],
        "pad_token": token(spec["pad"], d),
        "tokenizer_class": "CLIPTokenizer",
        "unk_token": token(EOS, d),
    }
    with open(os.path.join(dst, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    stm = {"bos_token": token(BOS, d), "eos_token": token(EOS, d), "pad_token": token(spec["pad"], d),
           "unk_token": token(EOS, d)}
    with open(os.path.join(dst, "special_tokens_map.json"), "w") as f:
        json.dump(stm, f, indent=2)


def main():
    torch.manual_seed(0)
    vocab, merges = train_vocab()
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    for name, spec in MODELS.items():
        base = os.path.join(ROOT, name)
        write_tokenizer(os.path.join(base, "tokenizer"), vocab, merges, spec)
        tk = CLIPTokenizer.from_pretrained(os.path.join(base, "tokenizer"))
        assert tk.model_max_length == spec["max_length"], tk.model_max_length
        # the same tokenizer as transformers 5 saves it: tokenizer.json + tokenizer_config.json only
        tk.save_pretrained(os.path.join(base, "tokenizer_json"))
        ids = []
        for p in PROMPTS:
            enc = tk(p, padding="max_length", max_length=tk.model_max_length, truncation=True)
            ids.append(enc["input_ids"])
        torch.manual_seed(spec["seed"])
        cfg = CLIPTextConfig(vocab_size=len(vocab), bos_token_id=vocab[BOS], eos_token_id=vocab[EOS],
                             pad_token_id=vocab[spec["pad"]], **spec["config"])
        model = CLIPTextModel(cfg)
        with torch.no_grad():
            for n, p in model.named_parameters():
                if n.endswith("bias"):
                    p.copy_(0.1 * torch.randn_like(p))
                elif "layer_norm" in n and n.endswith("weight"):
                    p.copy_(1.0 + 0.2 * torch.randn_like(p))
                elif "embedding" in n:
                    p.copy_(torch.randn_like(p))
                else:
                    p.copy_(torch.randn_like(p) / p.shape[-1] ** 0.5)
        te = os.path.join(base, "text_encoder")
        model.save_pretrained(te, safe_serialization=True)
        ref = CLIPTextModel.from_pretrained(te, attn_implementation="eager").double().eval()
        hidden = {}
        which = list(range(HIDDEN)) + [PROMPTS.index(max(PROMPTS, key=len))]
        with torch.no_grad():
            for i in which:
                out = ref(input_ids=torch.tensor([ids[i]])).last_hidden_state
                hidden[f"h{i}"] = out.float().contiguous()
        save_file(hidden, os.path.join(base, "hidden.safetensors"))
        with open(os.path.join(base, "golden.json"), "w", encoding="utf-8") as f:
            json.dump({"prompts": PROMPTS, "ids": ids, "hidden": which,
                       "max_length": spec["max_length"]}, f, ensure_ascii=False, indent=1)
        print(name, "vocab", len(vocab), "merges", len(merges), "ids[1]", ids[1][:12])


if __name__ == "__main__":
    main()
