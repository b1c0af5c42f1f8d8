"""The boilerplate filter on site furniture from real pages, and on content that only mentions
the same things."""
import pytest

from pipeline.steps.filters.boilerplate import BoilerplateConfig, BoilerplateFilter
from tests.steps.filters.support import judge


def rule_of(text, lang="en"):
    flt = BoilerplateFilter(BoilerplateConfig())
    removed = judge(text, lang, flt)
    if not removed:
        return None
    assert removed == [(text.strip(), "boilerplate")]
    return next(iter(flt.counts)).removeprefix("filter-boilerplate-")


@pytest.mark.parametrize("text, lang, rule", [
    ("+++", "de", "separator"), ("|  |  |  |", "zh", "separator"), ("* * *", "en", "separator"),
    ("⭐️⭐️⭐️⭐️", "cs", "separator"),
    ("Reklama", "pl", "advertising"), ("Anzeige", "de", "advertising"), ("*Werbung:", "de", "advertising"),
    ("Lire aussi : Les critiques de la CNIL contre le projet de loi sur le renseignement", "fr", "read_more"),
    ("Read more: Offensive signs erected in South Belfast condemned", "en", "read_more"),
    ("[Read: Tunisia sends most foreign fighters to Islamic State in Syria]", "en", "read_more"),
    ("Читайте також Прорив в українському правосудді: чому варто пишатись роботою ВАКС", "uk", "read_more"),
    ("VEA TAMBIÉN: Entre heces y guaricha: Estrella de la educación no brilla", "es", "read_more"),
    ("Mehr zum Thema", "de", "read_more"), ("関連URL", "ja", "read_more"),
    ("Siga-nos no Telegram", "pt", "share_follow"), ("Share this article", "en", "share_follow"),
    ("Folgen Sie uns", "de", "share_follow"),
    ("Kommentare", "de", "interface"), ("Neues Passwort vergeben", "de", "interface"),
    ("Правила комментирования", "ru", "interface"), ("Ouvrir le mode avancé", "fr", "interface"),
    ("« Previous | Next »", "en", "pagination"), ("Seite 2 von 7", "de", "pagination"),
    ("1 2 3 … 12", "en", "pagination"),
    ("Warning: Undefined variable $title in /var/www/html/index.php on line 42", "en", "php_warning"),
    ("We use cookies to give you the best experience. By continuing you accept our privacy policy.", "en",
     "cookie_notice"),
    ("En cliquant sur « OK TOUT ACCEPTER », vous acceptez que ARTE RADIO et ses partenaires utilisent des cookies",
     "fr", "cookie_notice"),
    ("Wir verwenden Cookies, um Ihnen ein optimales Webseiten-Erlebnis zu bieten.", "de", "cookie_notice"),
    # single words outside ASCII in cased scripts
    ("Комментарии", "ru", "interface"), ("Zurück", "de", "pagination"), ("Comentários", "pt", "interface"),
    ("Sign up for our daily newsletter to get the top stories in your inbox.", "en", "newsletter"),
    ("Get Data Sheet, Fortune’s technology newsletter", "en", "newsletter"),
    ("Abonnieren Sie unseren Newsletter und verpassen Sie keine Nachricht mehr.", "de", "newsletter"),
    ("CNET Japanの記事を毎朝メールでまとめ読み（無料）", "ja", "newsletter"),
    ("Dolor ipsam et est cumque. Laboriosam sed delectus rerum sint qui natus tenetur ea.", "de", "placeholder"),
    ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.", "en",
     "placeholder"),
])
def test_site_furniture(text, lang, rule):
    assert rule_of(text, lang) == rule


@pytest.mark.parametrize("text, lang", [
    # content that mentions cookies, sharing, reading or comments
    ("The court ruled that websites must ask for consent before setting cookies.", "en"),
    ("Bake the cookies for twelve minutes, until you see the edges turn brown.", "en"),
    ("Share your work with the world through Facebook, Twitter, and other social networks.", "en"),
    ("Weitere Informationen zum Volksbegehren:", "de"),
    ("Read the instructions carefully before you start the machine.", "en"),
    ("The next step is to fill the tank with water.", "en"),
    ("Kommentare des Ministers sorgten am Montag für Unruhe im Parlament.", "de"),
    ("The company launched a newsletter for its investors in 2019.", "en"),
    ("Der Verein verschickt seinen Newsletter seit zehn Jahren an alle Mitglieder.", "de"),
    # Latin that is not filler
    ("Gallia est omnis divisa in partes tres, quarum unam incolunt Belgae, aliam Aquitani.", "la"),
    ("Pater noster, qui es in caelis, sanctificetur nomen tuum. Adveniat regnum tuum.", "la"),
    # code, table rules and lost characters are not separators
    ("}", "en"), ("|---|---|---|", "de"), ("| \ufffd\ufffd\ufffd |", "zh"),
])
def test_content_is_kept(text, lang):
    assert rule_of(text, lang) is None


def test_long_paragraphs_are_content():
    """Over ``max_words`` nothing is boilerplate; a teaser's title is short, so a long paragraph
    that starts with "Read more:" is content at any limit."""
    notice = "We use cookies and similar tools to improve your experience and for analytics. " * 7
    assert rule_of(notice) is None                                   # 91 words
    flt = BoilerplateFilter(BoilerplateConfig(max_words=200))
    assert [r for _, r in judge(notice, "en", flt)] == ["boilerplate"]
    teaser = "Read more: " + " ".join(["word"] * 45)
    assert judge(teaser, "en", BoilerplateFilter(BoilerplateConfig(max_words=200))) == []
