"""``alpaca-lessons export gguf MODEL_DIR --quant q8_0 --out model.gguf``: a model folder as a GGUF file for
llama.cpp (``models.gguf_export``), with its 2-D weights in the chosen format; nothing of llama.cpp is needed."""

from __future__ import annotations

import argparse

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.models.quantize import FORMATS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``export`` and its one format so far, ``gguf``."""
    parser = subparsers.add_parser("export", help="write a model folder in another format (GGUF for llama.cpp)")
    formats = parser.add_subparsers(dest="format", required=True)
    gguf = formats.add_parser("gguf", help="a GGUF file llama.cpp loads (quantized or not)",
                              description="Write a local Hugging Face LLaMA folder as one GGUF file.")
    gguf.add_argument("model_dir", metavar="MODEL_DIR", help="a local Hugging Face LLaMA folder (with tokenizer.json)")
    gguf.add_argument("--quant", choices=list(FORMATS), default="q8_0",
                      help="format of the 2-D weights: q8_0 (8.5 bits a weight; the default), q4_0 (4.5), f16, "
                           "bf16 or f32; norm weights stay f32")
    gguf.add_argument("--out", required=True, help="the .gguf file to write")
    gguf.set_defaults(func=_gguf)


def _gguf(args: argparse.Namespace) -> int:
    from alpaca_lessons.models.gguf_export import export_gguf

    try:
        print(export_gguf(args.model_dir, args.out, args.quant))
    except (FileNotFoundError, ValueError) as exc:
        raise DataError(str(exc)) from None
    return 0
