import json

import pytest

from promptslim.errors import InputError
from promptslim.prompt import Prompt, load_prompt, read_text


def test_render_fills_variables_by_plain_substitution():
    prompt = Prompt("Hi {{name}}, {{ name }}! {{other}}")
    out = prompt.render({"name": "{{other}}", "other": "x"})
    assert out.text == "Hi {{other}}, {{other}}! x"  # values are not expanded again


def test_missing_variable_is_named():
    with pytest.raises(InputError, match="'city'"):
        Prompt("Weather in {{city}}").render({})


def test_chat_prompt_variables_and_messages():
    prompt = Prompt.of([{"role": "system", "content": "Be {{tone}}."}, {"role": "user", "content": "{{q}}"}])
    assert prompt.variables() == ["tone", "q"]
    assert prompt.render({"tone": "brief", "q": "why?"}).as_messages()[1] == {"role": "user", "content": "why?"}
    with pytest.raises(InputError):
        prompt.as_text()


def test_read_text_strips_only_the_final_newline(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text("Answer:\n\n", encoding="utf-8")
    assert read_text(f) == "Answer:\n"


@pytest.mark.parametrize(
    "content, message",
    [(b"", "empty"), (b"  \n\t", "empty"), (b"\xff\xfeabc", "UTF-8"), (b"ab\x00cd", "binary")],
)
def test_read_text_rejects_bad_files(tmp_path, content, message):
    f = tmp_path / "p.txt"
    f.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_text(f)


def test_read_text_missing_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_text(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="is a folder"):
        read_text(tmp_path)


CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "{{q}}"}]


@pytest.mark.parametrize(
    "name, content",
    [
        ("chat.json", json.dumps(CHAT)),
        (
            "spec.yaml",
            "name: x\nmessages:\n  - {role: system, content: Be brief.}\n  - {role: user, content: '{{q}}'}\n",
        ),
        ("spec.json", json.dumps({"name": "x", "messages": CHAT})),
    ],
)
def test_prompt_files_hold_chat_messages(tmp_path, name, content):
    (tmp_path / name).write_text(content, encoding="utf-8")
    assert load_prompt(tmp_path / name) == Prompt.of(CHAT)


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("p.txt", '[{"role": "user", "content": "hi"}]\n', '[{"role": "user", "content": "hi"}]'),
        ("spec.yml", "prompt: |\n  Say {{x}}.\n", "Say {{x}}."),
        ("other.json", '{"schema": {"type": "object"}}\n', '{"schema": {"type": "object"}}'),
        ("prose.yaml", "Summarise this: {{text}}\n", "Summarise this: {{text}}"),
    ],
)
def test_other_prompt_files_are_text(tmp_path, name, content, expected):
    (tmp_path / name).write_text(content, encoding="utf-8")
    assert load_prompt(tmp_path / name) == Prompt(text=expected)


def test_a_broken_message_names_the_file(tmp_path):
    (tmp_path / "chat.json").write_text(json.dumps([{"role": "user"}]), encoding="utf-8")
    with pytest.raises(InputError, match="chat.json: "):
        load_prompt(tmp_path / "chat.json")
