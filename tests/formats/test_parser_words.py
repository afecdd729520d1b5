"""The parsers' and pydantic's words in ours: English as the library wrote it, Russian from
the catalogue, and anything not listed quoted after our sentence."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backchannel.errors import CaseFileErrors, validation_problem
from backchannel.formats.documents import parse_document
from backchannel.i18n import translations

RU = translations("ru")


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=5)
    size: int = Field(ge=1)
    day: date


def _problems(data: dict[str, object]) -> dict[str, tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        Form.model_validate(data)
    return {
        str(e["loc"][0]): (validation_problem(e).render(), validation_problem(e).render(RU))
        for e in caught.value.errors()
    }


def test_pydantic_problems_are_said_in_our_words() -> None:
    found = _problems({"name": "toolong", "size": "x", "day": "2026-12-07", "colour": 1})
    assert found["name"] == ("takes at most 5 characters", "допускается не больше 5 символов")
    assert found["size"] == ("must be a whole number", "должно быть целым числом")
    assert found["colour"] == ("is not a field of this request", "такого поля в этом запросе нет")
    assert _problems({"name": "a", "size": 0, "day": "2026-12-07"})["size"][1] == (
        "должно быть не меньше 1"
    )


def test_a_problem_we_do_not_list_is_quoted_after_our_sentence() -> None:
    english, russian = _problems({"name": "a", "size": 1, "day": "soon"})["day"]
    assert english.startswith("is not valid: 'Input should be a valid date")
    assert russian.startswith("недопустимое значение; сообщение проверки: 'Input should be")


@pytest.mark.parametrize(
    ("text", "json_syntax", "english", "russian"),
    [
        (
            "a: [1, 2\nb: 3\n",
            False,
            "not valid YAML: expected ',' or ']', but got ':' at column 2 "
            "(while parsing a flow sequence, which starts on line 1)",
            "некорректный YAML: ожидалась «,» или «]», а найдено: ':', столбец 2 "
            "(при разборе списка в квадратных скобках, начало в строке 1)",
        ),
        (
            "a: 'open\n",
            False,
            "not valid YAML: found the end of the file at column 1 "
            "(while scanning a quoted scalar, which starts on line 1)",
            "некорректный YAML: файл неожиданно закончился, столбец 1 "
            "(при чтении текста в кавычках, начало в строке 1)",
        ),
        (
            '{"a": [1, 2,]}',
            True,
            "not valid JSON: Expecting value at column 13",
            "некорректный JSON в столбце 13: ожидалось значение",
        ),
    ],
)
def test_syntax_errors_read_in_russian(
    text: str, json_syntax: bool, english: str, russian: str
) -> None:
    with pytest.raises(CaseFileErrors) as caught:
        parse_document(text, "f", json_syntax=json_syntax)
    (error,) = caught.value.errors
    shown = error.text.params["message"]
    assert str(shown) == english
    assert shown.render(RU) == russian
