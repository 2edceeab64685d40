"""Paragraph and sentence splitting for Kazakh and Russian, with character offsets.

Built on razdel's rule-based segmenter (the strongest measured base for both
languages): every ``. ! ? … ; " » ) …`` is a candidate boundary and an ordered
list of rules decides to join or split. razdel's rules are kept; added are the
things it does not know:

* Kazakh abbreviations (``ж.``, ``жж.``, ``ғ.``, ``қ.``, ``т.б.``, ``т.с.с.``,
  ``б.з.б.`` …) and a few Russian ones (``чел.``, ``род.``, ``тг.`` …);
* years and centuries (``2016 ж.``, ``1995 г.``, ``XIX в.``): Kazakh is
  verb-final, so there they practically never end a sentence; in Russian they
  do, unless they open it (``В 2015 г. Россия …``);
* a closing quote set off by a space (``«Келеміз! » – деді ол``, ``"Верю! ``."``)
  still closes: the decision waits for what follows it;
* ``;`` of an HTML entity (``&quot;``) is not a delimiter, and a plain ``;``
  never ends a sentence, not even before a capital (``… и The Stooges; Карран …``);
* after "etc." and amounts (``и др.``, ``т.б.``, ``тыс.``) an opening quote before a
  capital or digit starts a new sentence (``… и др. «12 злобных зрителей» — …``);
* an abbreviation after a number is a unit and may end a sentence (``10 см.``,
  ``19 км/ч.``), one before a capitalised function word was a word (``… доверять им. По …``);
* a quote set off from the word before and glued to the word after opens a quotation, whatever
  its glyph (``… табылады. ”Әрине …``: Kazakh sites often open with ``”``), and a quote that
  closes a quote ending in ``.!?…`` ends the sentence (``… „Меня укусили!“» Подплыв …``);
* a capital glued to a digit, ``°`` or hyphen is no initial (``+18°C.``, ``Objective-C.``);
* an ellipsis inside a quote still open (``«Армии нет... Мир …»``) does not end the sentence;
* ``***`` separators are sentences of their own, and inline lists
  (``… қойылды: – бірінші; – екінші.``) are split into items.

Paragraphs are lines: news sites put one paragraph per line, so a line break
ends a sentence (headlines without final punctuation included), unless the line
plainly stops mid-sentence and no list item opens the next one: a line ending in a
conjunction always continues; one ending in ``,``, ``:``, ``;`` or a dash (a legal
preamble laid out one clause per line), or in a word before a lower-case word (text
wrapped at a fixed width), continues unless a capital opens the next line (verse,
headings). Chinese and Japanese ``。！？`` end a sentence with or
without a space after them, in any language's rules. Russian
text that lost its line breaks (a headline or list item run into the next
sentence, as in UD GSD's Wikipedia text) is also cut before a capitalised word
that practically only opens a sentence (``… 207 гигабайт Несмотря на …``), except
in verse, where every line is capitalised.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

import click
from razdel.rule import JOIN, SPLIT
from razdel.segmenters.punct import DASHES
from razdel.segmenters.sentenize import (
    DELIMITER,
    QUOTES,
    WORD,
    SentSplit,
    close_bracket,
    close_quote,
    dash_right,
    delimiter_right,
    empty_side,
    inside_pair_sokr,
    is_sokr,
    list_item,
    lower_right,
    no_space_prefix,
)
from razdel.segmenters.sokr import HEAD_PAIR_SOKRS, HEAD_SOKRS, INITIALS, PAIR_SOKRS, SOKRS

from .cliutil import version_option


@dataclass(frozen=True)
class Sentence:
    """One sentence and where it lies in the text given to :func:`split_sentences`."""

    text: str  # == document_text[start:end]
    start: int  # character offsets into the text passed in
    end: int
    paragraph: int  # 0-based paragraph index


def _words(line: str) -> set[str]:
    return set(line.split())


def _pairs(*lines: str) -> set[tuple[str, str]]:
    return {tuple(line.split()) for line in lines}


# Abbreviations written after a number that say "year(s)"/"century": a date.
_YEAR_SOKRS = {"ru": _words("г гг в вв"), "kk": _words("г гг в вв ж жж ғ ғғ")}

# Russian additions to razdel's lists ("род. 21 декабря", "200 чел.").
_RU_TAIL = _words("род реж чел трлн тг тнг")

# Kazakh: the predicate ends the sentence, so an abbreviation is practically
# never the last word (head: always join); pages, volumes and amounts still may
# be ("… 100 тг."), so those join only before a digit, lower case or acronym.
_KK_HEAD = _words("қ обл ауд ауыл көш даңғ шағ сағ проф акад доц")
_KK_TAIL = _words("б бб тт шақ")  # бет, томдар, шақырым; money units are in _RU_TAIL/razdel
_KK_HEAD_PAIRS = _pairs("з б", "з д", "ғ д", "ғ к")  # б.з.б., б.з.д., т.ғ.д., ф.ғ.к.
_KK_TAIL_PAIRS = _pairs("т б", "с с")  # т.б., т.с.с. ("etc.")

# First words of a Russian sentence that starts with a date ("В 2015 г. …").
_DATE_OPENERS = _words(
    "в во с со к до после на за от по около между летом весной осенью зимой уже еще ещё"
)

_NUMBER_SOKR = re.compile(r"(?:\d|\b[IVXLC]+)\s*[-–]?\s*(\w+)\s*$")
_PAIR_SOKR = re.compile(r"(\w)\s*\.\s*(\w)\s*$")
_HTML_ENTITY = re.compile(r"&#?\w+$")
_QUOTE_ENTITY = r"&(?:#39|#34|quot|raquo|rdquo)"
_ENTITY_QUOTE_AFTER_END = re.compile(r"[.!?…](?:" + _QUOTE_ENTITY + ";)*" + _QUOTE_ENTITY + "$")
_SPACED_CLOSING_QUOTE = re.compile(r"^\s+(?:[»”]|[`'\"]+\s*[.,;:)])")
_GLUED_LETTER = re.compile(r"(?:[\d°]|\w-)\w$")
_OPENING_QUOTE = re.compile(r"\s+(?:[«“„\"]|``)(\w)")
_WORD_START = re.compile(r"[^\W_]")
_NESTED_CLOSE = re.compile(r"[.!?…][”“\"’»]+$")
_OPENING_QUOTE_GLUED = re.compile(r"\s+[”“\"]([^\W_])")
_ACRONYM = re.compile(r"^[^\W\d]{2,}$")


class _Rules:
    """The ordered join/split rules for one language (a razdel rule list)."""

    def __init__(self, lang: str):
        kazakh = lang == "kk"
        self.year_sokrs = _YEAR_SOKRS["kk" if kazakh else "ru"]
        self.kazakh = kazakh
        self.head = HEAD_SOKRS | (_KK_HEAD if kazakh else set())
        self.tail = (SOKRS - HEAD_SOKRS) | _RU_TAIL | (_KK_TAIL if kazakh else set())
        self.head_pairs = HEAD_PAIR_SOKRS | (_KK_HEAD_PAIRS if kazakh else set())
        self.pairs = PAIR_SOKRS | self.head_pairs | (_KK_TAIL_PAIRS if kazakh else set())
        self.rules = [
            empty_side,
            no_space_prefix,
            lower_right,
            opening_quote,
            delimiter_right,
            self.html_entity,
            semicolon,
            self.spaced_closing_quote,
            ellipsis_in_quote,
            self.year,
            self.sokr_left,
            inside_pair_sokr,
            initials_left,
            list_item,
            close_quote,
            close_bracket,
            dash_right,
        ]

    def join(self, split: SentSplit) -> bool:
        for rule in self.rules:
            action = rule(split)
            if action:
                return action == JOIN
        return False

    @staticmethod
    def html_entity(split):
        """``&quot;`` in scraped text: its ``;`` ends a sentence only as a quote after ``.!?…``."""
        if split.delimiter == ";" and _HTML_ENTITY.search(split.left):
            capital = (split.right_word or "")[:1].isupper()
            return SPLIT if capital and _ENTITY_QUOTE_AFTER_END.search(split.buffer) else JOIN

    @staticmethod
    def spaced_closing_quote(split):
        """``Келеміз! » – деді ол``: razdel joins a glued quote only; decide after this one too."""
        if split.delimiter in "!?.…" and _SPACED_CLOSING_QUOTE.match(split.right):
            return JOIN

    def year(self, split):
        """``2016 ж.``, ``1995 г.``, ``XIX в.``: ends only a Russian sentence it does not open."""
        if split.delimiter != ".":
            return
        match = _NUMBER_SOKR.search(split.left)
        if not match or match.group(1).lower() not in self.year_sokrs:
            return
        right = split.right_token
        if self.kazakh or not right or not right[0].isupper():
            return JOIN
        # "В 2015 г. Россия …", "С 1 января 2016 г. Казахстан …": the date opens the sentence.
        words = WORD.findall(split.buffer)
        opens = 0 < len(words) <= 5 and words[0].lower() in _DATE_OPENERS
        return JOIN if opens else SPLIT

    def sokr_left(self, split):
        """razdel's abbreviation rule with the extended lists and Kazakh pairs."""
        if split.delimiter != ".":
            return
        match = _PAIR_SOKR.search(split.left)
        if match:
            pair = (match.group(1).lower(), match.group(2).lower())
            if pair in self.head_pairs:
                return JOIN
            if pair in self.pairs:
                return JOIN if _continues(split) else None
        left = split.left_token.lower()
        if left in self.head and not _after_number(split):
            # "им. Ленина", "ул. Мира" - but "доверять им. По результатам …": a capitalised
            # function word is no name, the abbreviation-like word ended the sentence
            return None if _function_word_right(split) else JOIN
        if (left in self.tail or left in self.head) and (_continues(split) or _acronym_right(split)):
            return JOIN


def _after_number(split) -> bool:
    """``10 см.``, ``19 км/ч.``, ``100 р.``: a head abbreviation after a number is a unit,
    which may end a sentence (``см.`` "see", ``ч.`` "part", ``р.`` "river" cannot)."""
    return bool(re.search(r"\d\s*(?:[^\W\d_]+/)?" + re.escape(split.left_token) + r"$", split.left))


def _function_word_right(split) -> bool:
    """The next word is a capitalised function word (``По``, ``Это``, ``В`` + space), not an
    initial (``В.``)."""
    word = split.right_word
    return bool(word in _CAPITALISED_FUNCTION_WORDS
                and re.match(r"\s*" + re.escape(word) + r"\s", split.right))


def _continues(split) -> bool:
    """After a tail abbreviation: a lower-case word, digit or punctuation continues the
    sentence, but not an opening quote before a capital or digit
    (``… Хилл и др. «12 злобных зрителей» …``)."""
    if not is_sokr(split.right_token):
        return False
    quoted = _OPENING_QUOTE.match(split.right)
    return not (quoted and (quoted.group(1).isupper() or quoted.group(1).isdigit()))


def opening_quote(split):
    """``… табылады. ”Әрине …``: a quote set off from the word before and glued to the word
    after opens a quotation, whichever glyph it is (Kazakh sites often open with ``”``);
    the sentence ends before it, not after it. A quote closing a quote that ended with
    ``.!?…`` ends the sentence before a capital."""
    if split.delimiter in QUOTES:
        if split.left_space_suffix or not split.left.strip():
            return JOIN if _WORD_START.match(split.right) else None
        if _NESTED_CLOSE.search(split.left) and (split.right_word or "")[:1].isupper():
            return SPLIT  # "… „Меня укусили!“» Подплыв …": the end of a quote in a quote
    elif split.delimiter in "!?.…":
        quoted = _OPENING_QUOTE_GLUED.match(split.right)
        if quoted:
            return SPLIT if quoted.group(1).isupper() or quoted.group(1).isdigit() else None


def semicolon(split):
    """``…, SPK и The Stooges; Карран …``: a ``;`` joins clauses and list items, even before
    a capitalised name; only a capitalised function word (``…; Он пришёл``) says the writer
    began a new sentence.

    (Lists of ``;``-separated items introduced by a colon are cut by :func:`_inline_list_cuts`.)
    """
    if split.delimiter == ";":
        return SPLIT if split.right_word in _CAPITALISED_FUNCTION_WORDS else JOIN


def ellipsis_in_quote(split):
    """``Ленин писал: «… а у нас армии нет... Несомненно, мир …»``: an ellipsis inside a quote
    that is still open marks a pause or a cut in the quotation, not its end."""
    if split.delimiter == "…" or (split.delimiter == "." and split.left.endswith("..")):
        if _open_quote(split.buffer):
            return JOIN


def _open_quote(text: str) -> bool:
    """Whether ``text`` opens a quote it does not close (« », „ “, “ ”, `` '', straight ")."""
    if text.count("«") > text.count("»"):
        return True
    if "„" in text:  # „ … “
        if text.count("„") > text.count("“"):
            return True
    elif "”" in text:  # “ … ”
        if text.count("“") > text.count("”"):
            return True
    elif text.count("“") % 2:  # “ … “, as typed on some sites
        return True
    if text.count("``") > text.count("''") + text.count("&#39;&#39;"):
        return True
    return text.count('"') % 2 == 1


def _acronym_right(split) -> bool:
    """``5 млн. АҚШ доллары``, ``3 млн долл. США``: an acronym after an amount is its currency."""
    word = split.right_word
    return bool(word and _ACRONYM.match(word) and word.isupper())


def initials_left(split):
    """razdel's initials rule (``В. Путин``, ``Н.Ә. Назарбаев``), but not ``+18°C.``"""
    if split.delimiter != ".":
        return
    left = split.left_token
    if left.lower() in INITIALS:
        return JOIN
    if left.isupper() and len(left) == 1 and not _GLUED_LETTER.search(split.left):
        return JOIN


_RULES = {"kk": _Rules("kk"), "ru": _Rules("ru")}
_DELIMITER = re.compile(DELIMITER)
_WINDOW = 10
_LINE = re.compile(r"[^\n]+")
# Chinese and Japanese sentence ends, with any closing quotes or brackets after them.
_CJK_END = re.compile(r"[。！？]+[」』”’）》〉】\"'»]*")
_SEPARATOR = re.compile(r"(?<!\S)\*(?:\s?\*){2,}(?!\S)")
# Russian text that lost its line breaks (headlines, list items, captions run into the next
# sentence): a capitalised word that practically only opens a sentence, after a lower-case
# word and before a lower-case word or a number, starts one ("… 207 гигабайт Несмотря на …");
# so does a capitalised reflexive past-tense verb ("… взаимопонимания Учился в …").
# Not "И/А/Но/Я/Вы/Ты" (poetry lines, the polite "Вы"), not before a capital ("Его Величества"),
# not after a noun that names a work or group ("фильм Во все тяжкие").
_RU_OPENERS = (
    "В Во С Со На По После До Для При Из От За Под Над Перед Через Среди Между Около "
    "Он Она Они Оно Это Этот Эта Эти Его Её Их Мы"
)
_RU_ADVERB_OPENERS = (  # may also follow a colon, and a comma may follow them
    "Однако Несмотря Особенно Также Кроме Поэтому Затем Впоследствии Позже Позднее Помимо "
    "Вместе Сначала Потом Наконец Впрочем Зато Тогда Вскоре Впервые"
)
_OPENER_RIGHT = (
    r"(?:(?:" + "|".join(_RU_OPENERS.split()) + r")\s+[a-zа-яё\d]"
    r"|(?:" + "|".join(_RU_ADVERB_OPENERS.split()) + r")(?:\s+[a-zа-яё\d]|,)"
    r"|[А-ЯЁ][а-яё]+(?:лся|лась|лось|лись)\s+[a-zа-яё\d])"  # "… Учился в …", "Родилась 5 мая"
)
_RU_OPENER = re.compile(r"(?<=[a-zа-яё])\s+" + _OPENER_RIGHT)
_RU_COLON_OPENER = re.compile(
    r":(?=\s+(?:" + "|".join(_RU_ADVERB_OPENERS.split()) + r")(?:\s+[a-zа-яё\d]|,))"
)
_RU_CAPITALISED_FUNCTION_WORDS = (
    _RU_OPENERS + " " + _RU_ADVERB_OPENERS + " И А Но Я Ты Вы Как Что Где Когда Не Ни Все Там Так "
    "Пусть Лишь Ведь Вот Да Нет Или Если Хотя Чтобы Передо Ко Без"
).split()
_KK_CAPITALISED_FUNCTION_WORDS = (
    "Ол Бұл Біз Мен Сен Сіз Олар Осы Сол Бірақ Алайда Дегенмен Сондықтан Сонымен Және Ал Енді "
    "Мұнда Онда Кейін Содан Егер Өйткені"
).split()
_CAPITALISED_FUNCTION_WORDS = frozenset(
    _RU_CAPITALISED_FUNCTION_WORDS + _KK_CAPITALISED_FUNCTION_WORDS
)
_VERSE_CAPITAL = re.compile(
    r"[a-zа-яё],?\s+(?:" + "|".join(_RU_CAPITALISED_FUNCTION_WORDS) + r")(?=\s)"
)
_VERSE_WINDOW = 120
_TITLE_NOUN = re.compile(
    r"(?:фильм|книг|роман|песн|альбом|сингл|сериал|спектакл|передач|программ|газет|журнал|пьес"
    r"|стих|повест|рассказ|картин|опер|балет|шоу|групп|клуб|проект|фестивал|конкурс|преми|акци"
    r"|кампани|слоган|лозунг|девиз|названи|назван|титул|рубрик|раздел|глав)[^\W\d_]*$",
    re.IGNORECASE,
)
_ITEM = r"(?:[" + re.escape(DASHES) + r"•]|\d{1,2}[.)]|[^\W\d]\))\s"  # "– ", "2) ", "б) "
_ITEM_START = re.compile(r"[:;]\s+(?=" + _ITEM + ")")


# A line ending in a comma, colon, semicolon or dash stops mid-sentence; one ending in a
# conjunction certainly does.
_CONJUNCTIONS = (
    "и или а но что чтобы как если когда где либо ни зато однако также причём причем "
    "который которая которое которые которого которой которым которых "
    "және мен немесе бірақ әрі не ал яғни өйткені себебі сондықтан егер сондай-ақ деп"
)
_CONJUNCTION_END = re.compile(r"(?<![^\W\d_])(?:" + "|".join(_CONJUNCTIONS.split()) + r")$", re.IGNORECASE)
_PUNCTUATION_END = re.compile(r"[,:;" + re.escape(DASHES) + r"]$")
# A list item or dialogue line: "– ...", "-Привет", "► ...", "2) ...", "2004: ...".
_LIST_ITEM = re.compile(r"[" + re.escape(DASHES) + r"•►▪●◦‣*]|(?:\d{1,4}[.):]|[^\W\d]\))\s")
_OPENING_MARKS = "«“„\"'‘(["


def _runs_on(line: str, next_line: str) -> bool:
    """Whether the sentence at the end of ``line`` goes on in ``next_line`` (both stripped).

    Never before a list item (items are sentences, as in inline lists). Always after a
    conjunction. After a comma, colon, semicolon or dash, and after a word before a
    lower-case word (text wrapped at a fixed width), unless a capital opens the next line,
    quoted or not: verse capitalises every line, and a line without final punctuation
    is a headline."""
    if _LIST_ITEM.match(next_line):
        return False
    if _CONJUNCTION_END.search(line):
        return True
    if next_line.lstrip(_OPENING_MARKS)[:1].isupper():
        return False
    return bool(_PUNCTUATION_END.search(line)) or (line[-1:].isalnum() and next_line[:1].islower())


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of the paragraphs, stripped: every line break ends one, except between a
    line that stops mid-sentence and the line after it (see :func:`_runs_on`); a blank
    line always does."""
    spans: list[tuple[int, int]] = []
    previous_line, previous_end = "", 0
    for match in _LINE.finditer(text):
        line = match.group()
        stripped = line.strip()
        if not stripped:
            previous_line = ""  # a blank line
            continue
        start = match.start() + (len(line) - len(line.lstrip()))
        end = start + len(stripped)
        adjacent = text.count("\n", previous_end, start) == 1
        if previous_line and adjacent and _runs_on(previous_line, stripped):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
        previous_line, previous_end = stripped, end
    return spans


def _cuts(paragraph: str, rules: _Rules) -> list[int]:
    """Offsets (exclusive ends) where ``paragraph`` is cut into sentences."""
    cuts = []
    buffer_start = 0
    for match in _DELIMITER.finditer(paragraph):
        start, stop = match.span()
        split = SentSplit(
            paragraph[max(0, start - _WINDOW):start],
            match.group(1),
            paragraph[stop:stop + _WINDOW],
        )
        split.buffer = paragraph[buffer_start:start]
        if not rules.join(split):
            cuts.append(stop)
            buffer_start = stop
    for match in _SEPARATOR.finditer(paragraph):
        cuts += match.span()
    cuts += [match.end() for match in _CJK_END.finditer(paragraph)]
    cuts += _inline_list_cuts(paragraph)
    if not rules.kazakh:
        cuts += _opener_cuts(paragraph)
    return sorted(set(cuts))


def _inline_list_cuts(paragraph: str) -> list[int]:
    """``… қойылды: – бірінші; – екінші.``: after ``:``/``;`` of items, from the colon on.

    Only a colon-introduced item followed by a ``;``-separated one makes a list,
    so ``Он сказал: — Мы придём.`` stays one sentence.
    """
    marks = [(m.group()[0], m.start() + 1) for m in _ITEM_START.finditer(paragraph)]
    colon = next((i for i, (mark, _) in enumerate(marks) if mark == ":"), None)
    if colon is None or all(mark == ":" for mark, _ in marks[colon + 1:]):
        return []
    return [cut for _, cut in marks[colon:]]


def _opener_cuts(paragraph: str) -> list[int]:
    """Russian: cuts before a sentence-opening word after text without final punctuation.

    Verse capitalises every line, so where another capitalised function word follows a
    lower-case word or a comma nearby (``… мгновенье, Передо мной … Как мимолетное …``)
    the text is taken for poetry and not cut.
    """
    cuts = []
    for match in _RU_OPENER.finditer(paragraph):
        cut = match.start()
        if _TITLE_NOUN.search(paragraph, max(0, cut - 30), cut):
            continue
        window = paragraph[max(0, cut - _VERSE_WINDOW):cut + _VERSE_WINDOW]
        if len(_VERSE_CAPITAL.findall(window)) < 2:
            cuts.append(cut)
    return cuts + [m.end() for m in _RU_COLON_OPENER.finditer(paragraph)]


def split_sentences(text: str, lang: str = "kk") -> list[Sentence]:
    """Sentences of ``text`` with offsets; ``lang`` is "kk" or "ru". Any other language
    gets the Russian rules, whose Russian parts (abbreviations, sentence openers) only
    match Cyrillic: razdel's generic ``.!?…`` rules plus ``。！？``."""
    rules = _RULES["kk"] if lang == "kk" else _RULES["ru"]
    sentences = []
    for index, (p_start, p_end) in enumerate(split_paragraphs(text)):
        paragraph = text[p_start:p_end]
        previous = 0
        for cut in [*_cuts(paragraph, rules), len(paragraph)]:
            piece = paragraph[previous:cut]
            stripped = piece.strip()
            if stripped:
                start = p_start + previous + (len(piece) - len(piece.lstrip()))
                sentences.append(Sentence(stripped, start, start + len(stripped), index))
            previous = cut
    return sentences


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--lang", type=click.Choice(["kk", "ru"]), default="kk", show_default=True,
              help="Language whose abbreviation and punctuation rules apply.")
@version_option
def main(lang: str) -> None:
    """Read text on standard input, print one sentence per line.

    \b
    Example:
      python -m align.split --lang ru < ru.txt > ru.sentences.txt
    """
    for sentence in split_sentences(sys.stdin.read(), lang):
        click.echo(sentence.text)


if __name__ == "__main__":
    main()
