"""The demo case in Russian: what ``backchannel demo --language ru`` names its dialogue,
agenda, parties and people.

The bundled example (``examples/us_russia_ukraine.yaml``) names its issues and options by
identifiers (``freeze_on_line_of_contact``); the English demo shows them as words
(``freeze on line of contact``), the Russian demo as below. Each entry is keyed by the
example's identifier, so that a position's ratings and red lines name the same option the
agenda shows. A test checks that every issue, option and party of the example has its
Russian name here.
"""

from __future__ import annotations

from collections.abc import Mapping

TITLE = "Диалог США и России по «треку 1,5» об украинском урегулировании"

ISSUES: Mapping[str, tuple[str, str]] = {
    "territory": (
        "Территория",
        "Линия прекращения огня и статус территорий, которые контролирует Россия.",
    ),
    "alignment": (
        "Блоковый статус",
        "Блоковый статус Украины и гарантии её безопасности.",
    ),
    "armed_forces_limits": (
        "Численность армии",
        "Ограничения численности вооружённых сил Украины.",
    ),
    "sanctions": ("Санкции", "Западные санкции против России."),
    "prisoners": ("Пленные", "Военнопленные и задержанные."),
    "black_sea": ("Чёрное море", "Судоходство в Чёрном море и зерновой коридор."),
    "nuclear_arms_control": (
        "Контроль над ядерным оружием",
        "Контроль над стратегическими вооружениями после истечения ДСНВ 5 февраля 2026 года.",
    ),
    "zaporizhzhia_npp": ("Запорожская АЭС", "Запорожская атомная электростанция."),
}
"""Each issue's name and one-line description."""

OPTIONS: Mapping[str, str] = {
    # territory
    "withdrawal_1991_borders": "отвод войск к границам 1991 года",
    "freeze_on_line_of_contact": "заморозка по линии соприкосновения",
    "donbas_ceded_28_points": "уступка Донбасса (план из 28 пунктов)",
    "four_regions_ceded": "уступка четырёх областей",
    # alignment
    "nato_path_open": "путь в НАТО открыт",
    "european_force_no_nato": "европейский контингент без НАТО",
    "istanbul_neutrality": "нейтралитет по стамбульской формуле",
    "constitutional_nato_ban": "отказ от НАТО в конституции",
    # armed forces limits
    "no_cap": "без потолка",
    "cap_600k": "потолок 600 тысяч",
    "cap_250k": "потолок 250 тысяч",
    "cap_85k": "потолок 85 тысяч",
    # sanctions
    "maintained_until_withdrawal": "сохраняются до отвода войск",
    "sector_relief_agri_swift": "отраслевое смягчение: агроэкспорт и возврат в SWIFT",
    "staged_lifting_g8": "поэтапная отмена и возвращение в «восьмёрку»",
    "all_lifted": "отмена всех санкций",
    # prisoners
    "case_by_case_swaps": "обмены в индивидуальном порядке",
    "batch_pow_exchanges": "групповые обмены военнопленными",
    "all_for_all_and_children": "всех на всех и возвращение детей",
    # Black Sea
    "revive_grain_initiative": "возобновление зерновой сделки",
    "us_navigation_deal": "соглашение о судоходстве при посредничестве США",
    "navigation_after_sanctions_relief": "судоходство после смягчения санкций",
    "status_quo_ukrainian_corridor": "статус-кво: украинский коридор",
    # nuclear arms control
    "lapse_no_follow_on": "истечение без нового договора",
    "mutual_central_limits_one_year": "год взаимного соблюдения центральных ограничений",
    "extension_with_inspections": "продление с возобновлением инспекций",
    # Zaporizhzhia nuclear power plant
    "iaea_five_principles": "пять принципов МАГАТЭ",
    "ukrainian_control_iaea": "украинский контроль под надзором МАГАТЭ",
    "restart_split_50_50": "перезапуск и раздел электроэнергии 50 на 50",
}
"""Each option's name, as the agenda and the positions show it."""

PARTIES: Mapping[str, str] = {"US": "США", "Russia": "Россия", "Ukraine": "Украина"}

PEOPLE: Mapping[str, str] = {
    "facilitator": "Д-р Ильзе Марек (фасилитатор)",
    "us-1": "Энн Уитфилд",
    "us-2": "Рэймонд Коул",
    "ru-1": "Павел Орлов",
    "ru-2": "Елена Соколова",
    "observer": "Связной первого трека",
}
"""Each demo account's display name (the user names stay as they are: they are typed)."""

NOTE = "Иллюстративная позиция из прилагаемого примера (оценки не взяты из источников)."

ALIAS = "Делегат"
TREES = ("Ясень", "Берёза", "Кедр", "Вяз", "Дуб", "Тис")
"""Pseudonyms shown to the other side: "Делегат Дуб-42"."""
