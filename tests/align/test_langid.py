"""Language identification: Kazakh vs Russian, Latin-script Kazakh, foreign sentences."""

from align.langid import detect_language, foreign_sentences
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
