import pytest
import tiktoken

from promptslim.errors import InputError
from promptslim.prompt import Prompt
from promptslim.runtime import CallOptions
from promptslim.tokens import check_target, count_text, count_tokens, prompt_tokens, text_counter

TEXT = "Classify the ticket: 'My invoice #4411 was charged twice — please refund!' 你好 <|endoftext|>"


@pytest.mark.parametrize("target, encoding", [("gpt-4o", "o200k_base"), ("gpt-4", "cl100k_base")])
def test_counts_agree_with_tiktoken(target, encoding):
    enc = tiktoken.get_encoding(encoding)
    assert count_tokens(TEXT, target) == len(enc.encode(TEXT, disallowed_special=()))


@pytest.mark.parametrize("target, encoding", [("gpt-4o", "o200k_base"), ("gpt-4", "cl100k_base")])
def test_line_by_line_counts_are_tiktokens_whole_text_counts(target, encoding):
    enc = tiktoken.get_encoding(encoding)
    texts = [
        "Line one.\nLine two  \nthree\n\n\nFour!\n/usr/bin\n.\n/x\r\nCRLF line\r\n  indented\n\tTab\nend\n",
        "Summarise:\n- item\n1. first\nÉtape\n你好\nok\n \n \nA\n{{name}}\nB ' s\nit's\n'\nll\n",
        "no break at all",
        "\n\nstarts with breaks\n",
    ]
    for text in texts + [t.replace("\n", "\n ") for t in texts]:
        assert count_text(text, target) == len(enc.encode_ordinary(text)), text
        assert count_text(text, target) == len(enc.encode_ordinary(text)), text  # remembered lines


def test_chat_counts_add_openai_message_overhead():
    enc = tiktoken.get_encoding("o200k_base")
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    expected = 3 + sum(3 + len(enc.encode(m["role"])) + len(enc.encode(m["content"])) for m in messages)
    assert count_tokens(Prompt.of(messages), "gpt-4o", mode="chat") == expected


def test_unknown_target_lists_known_ones():
    with pytest.raises(InputError, match="gpt-4o"):
        check_target("gpt-99-ultra")


class WordBackend:
    """A backend whose tokenizer splits on whitespace."""

    def count_text(self, text: str) -> int:
        return len(text.split())


def test_text_counter_is_tiktoken_for_api_targets_and_the_backends_tokenizer_for_local():
    assert text_counter("gpt-4")(TEXT) == count_text(TEXT, "gpt-4") > 0
    assert text_counter("gpt-4o")("") == 0
    assert text_counter("local", WordBackend())("one two three") == 3


def test_prompt_tokens_add_chat_overhead_on_api_targets_and_count_local_texts_one_by_one():
    chat = Prompt.of([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}])
    assert prompt_tokens(chat, "gpt-4o", text_counter("gpt-4o")) == count_tokens(chat, "gpt-4o", mode="chat")
    assert prompt_tokens(chat, "local", text_counter("local", WordBackend())) == 4


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["completion", "chat"])
def test_local_counts_match_what_the_model_reads(local_backend, mode):
    prompt = Prompt("Translate to French: good morning")
    counted = count_tokens(prompt, "local", mode=mode, backend=local_backend)
    used = local_backend.complete(prompt, CallOptions(mode=mode, max_tokens=2)).prompt_tokens
    assert counted == used
    assert counted == len(local_backend.llm.tokenize(b"Translate to French: good morning")) or mode == "chat"


@pytest.mark.slow
def test_chat_template_overhead_is_counted(local_backend):
    prompt = Prompt("hello")
    assert count_tokens(prompt, "local", mode="chat", backend=local_backend) > count_tokens(
        prompt, "local", mode="completion", backend=local_backend
    )


def test_offline_without_cached_encodings_is_one_actionable_line(cli, tmp_path):
    prompt = tmp_path / "p.txt"
    prompt.write_text("hello")
    env = {
        "TIKTOKEN_CACHE_DIR": str(tmp_path / "empty"),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
    }
    proc = cli("count", str(prompt), "--target", "gpt-4o", env=env)
    assert proc.returncode == 1
    assert "TIKTOKEN_CACHE_DIR" in proc.err
    assert "Traceback" not in proc.err and len(proc.err.strip().splitlines()) == 1
