"""``teacher serve --model PATH``: a small LLaMA saved in Hugging Face format, served over OpenAI's API."""


import openai
import pytest
from teacher_helpers import ALPACA_STOP, needs_mirror, served_from_cli

from alpaca_lessons.data import read_seed_tasks
from alpaca_lessons.generation.teacher import TeacherServer
from alpaca_lessons.generation.teacher.local import LocalModel

PROMPT = "1. Instruction: Name three rivers.\n1. Input:\n<noinput>\n1. Output:\n"


pytestmark = needs_mirror  # the tokenizer is trained on the seed tasks


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    """A 2-layer LLaMA with random weights and a byte-level BPE trained here on the seed tasks."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("models") / "tiny-llama"
    text = [f"{t.instruction}\n{t.instances[0].input}\n{t.instances[0].output}" for t in read_seed_tasks()]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(text, trainers.BpeTrainer(vocab_size=600, special_tokens=["<s>", "</s>"],
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>")
    tokenizer.save_pretrained(folder)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def server(tiny_llama):
    with TeacherServer(LocalModel(tiny_llama)) as running:
        yield running


def client(server):
    return openai.OpenAI(base_url=server.base_url, api_key="local", max_retries=0, timeout=60)


def test_completions_with_n_usage_and_seeds(server):
    model = server.model
    answer = client(server).completions.create(model="tiny-llama", prompt=[PROMPT, "Hello"], n=2, max_tokens=12,
                                               temperature=1.0, seed=3)
    assert [c.index for c in answer.choices] == [0, 1, 2, 3]
    assert answer.usage.prompt_tokens == model.count_tokens(PROMPT) + model.count_tokens("Hello")
    assert 0 < answer.usage.completion_tokens <= 4 * 12
    assert all(c.finish_reason in ("stop", "length") for c in answer.choices)
    again = client(server).completions.create(model="tiny-llama", prompt=[PROMPT, "Hello"], n=2, max_tokens=12,
                                              temperature=1.0, seed=3)
    assert [c.text for c in again.choices] == [c.text for c in answer.choices]
    assert len({c.text for c in answer.choices}) > 1


def test_length_and_stop_finish_reasons(server):
    ask = lambda **kw: client(server).completions.create(model="tiny-llama", prompt=PROMPT, max_tokens=24,  # noqa: E731
                                                         temperature=0.0, **kw).choices[0]
    plain = ask()
    assert plain.finish_reason == "length" and plain.text
    stop = plain.text[len(plain.text) // 2:][:3]
    stopped = ask(stop=[stop, *ALPACA_STOP[:2]])
    assert stopped.finish_reason == "stop" and stopped.text == plain.text[: plain.text.index(stop)]


def test_chat_and_the_context_window(server):
    chat = client(server).chat.completions.create(model="tiny-llama", messages=[{"role": "user", "content": PROMPT}],
                                                  max_tokens=8, temperature=0.0)
    completion = client(server).completions.create(model="tiny-llama", prompt=PROMPT, max_tokens=8, temperature=0.0)
    assert chat.choices[0].message.content == completion.choices[0].text
    with pytest.raises(openai.BadRequestError, match="maximum context length is 256"):
        client(server).completions.create(model="tiny-llama", prompt=PROMPT, max_tokens=250)


@pytest.mark.slow
def test_the_cli_serves_a_model_folder(tiny_llama):
    with served_from_cli(str(tiny_llama)) as (base_url, lines):
        api = openai.OpenAI(base_url=base_url, api_key="local", max_retries=0, timeout=60)
        assert [m.id for m in api.models.list().data] == ["tiny-llama"]
        assert "LlamaForCausalLM" in "".join(lines)
        answer = api.completions.create(model="tiny-llama", prompt=PROMPT, max_tokens=5, temperature=0.0)
        assert answer.usage.completion_tokens <= 5


def test_the_course_models_bfloat16_checkpoint_is_served_in_float32_on_a_cpu():
    import torch

    from alpaca_lessons.models.modeling import course_model_dir

    served = LocalModel(course_model_dir())  # stored in bfloat16 to stay small; bf16 matmuls crawl on CPUs
    assert served.model.dtype == torch.float32 and served.name == "tuned"


@pytest.mark.gpu
def test_teacher_serve_runs_a_model_folder_on_a_gpu():  # `teacher serve --model PATH --device cuda`
    import torch

    from alpaca_lessons.generation.teacher.base import Sampling
    from alpaca_lessons.models.modeling import course_model_dir

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    served = LocalModel(course_model_dir(), device="cuda")
    done = served.complete("### Instruction:\nName three colors.\n\n### Response:\n",
                           Sampling(max_tokens=16, temperature=0.0, top_p=1.0, stop=()), draw=0)
    assert served.model.device.type == "cuda" and done.finish_reason in ("stop", "length")
