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
    # teasers, comment sections, loading messages, tags, appeals (lines of real pages)
    ("Baca: Jawaban Soal SMP, Senin 4 Mei 2020, Belajar dari Rumah di TVRI, Kain Batik", "id", "read_more"),
    ("Mire: El cantante Juan Luis Guerra da positivo a COVID-19", "es", "read_more"),
    ("Continue reading the main story", "en", "read_more"), ("More games news:", "en", "read_more"),
    ("Related coverage", "en", "read_more"),
    ("Apoie o 247", "pt", "share_follow"),
    ("＞ 新規会員登録", "ja", "interface"), ("Passwort vergessen?", "de", "interface"),
    ("إضافة تعليق جديد", "ar", "interface"), ("Post a Comment", "en", "interface"),
    ("9 Comments", "en", "comment_count"), ("Aucun commentaire:", "fr", "comment_count"),
    ("Keine Kommentare for “Malaga, die quirlige Metropole in Andalusien”", "de", "comment_count"),
    ("Loading playlists...", "en", "loading"), ("Lade Eingabefeld...", "de", "loading"),
    ("Tags: Dennis Morton, film, kusp film review, Stand Up Guys", "en", "tags"),
    ("Етикети: таблет компютър Хасково", "bg", "tags"),
    ("Please read our comment policy before commenting.", "en", "comment_policy"),
    ("Beachten Sie, dass die Redaktion unpassende, inhaltlose oder beleidigende Kommentare entfernen kann und "
     "wird.", "de", "comment_policy"),
    ("Les pedimos que sean respetuosos y que utilicen un lenguaje apropiado al opinar. Los comentarios que no "
     "respeten nuestra política serán eliminados.", "es", "comment_policy"),
    ("［有料会員限定］ この記事は会員限定です。電子版に登録すると続きをお読みいただけます。", "ja", "paywall"),
    ("Comentar las notas de Clarín es exclusivo para suscriptores.", "es", "paywall"),
    ("If you're on the ABC7 News app, click here to watch live", "en", "click_here"),
    ("Kommentare lesen und schreiben, hier klicken", "de", "click_here"),
    ("CLICK HERE to watch the video", "en", "click_here"), ("This content is for subscribers only", "en", "paywall"),
    ("Inscrivez-vous à notre infolettre", "fr", "newsletter"), ("Recibe nuestro boletín semanal", "es", "newsletter"),
    ("Iezīmējiet tekstu un spiediet Ctrl+Enter, lai nosūtītu labojamo teksta fragmentu redaktoram!", "lv",
     "typo_report"),
])
def test_site_furniture(text, lang, rule):
    assert rule_of(text, lang) == rule


@pytest.mark.parametrize("text, lang", [
    # content that mentions cookies, sharing, reading or comments
    ("The court ruled that websites must ask for consent before setting cookies.", "en"),
    ("Bake the cookies for twelve minutes, until you see the edges turn brown.", "en"),
    ("Share your work with the world through Facebook, Twitter, and other social networks.", "en"),
    ("Weitere Informationen zum Volksbegehren:", "de"),
    ("Facebook said it would remove comments that break its rules, after pressure from regulators.", "en"),
    ("“We will remove hateful comments from our pages,” the company said on Monday.", "en"),
    ("12 comments were received by the ministry before the deadline.", "en"),
    ("Reading your comments I am stunned! I don't think you know that IFRS is principle based.", "en"),
    ("Loading the ship took three days...", "en"),
    ("The public prosecutor said the police had found no liquid in the car.", "en"),
    ("Plus de 200 morts : un séisme frappe le sud du pays", "fr"),
    ("Mehr als hundert Tote: Erdbeben erschüttert die Türkei", "de"),
    # a speaker's name, comments in the news, a newsroom's request
    ("Lee: We started the company in my garage in 2004, and nobody believed in us.", "en"),
    ("No comment on the allegations was available from Tesla on Monday.", "en"),
    ("10 comments to the draft law were submitted by the public.", "en"),
    ("Meta did not respond to our request for comment about its moderation policy.", "en"),
    ("Die Nutzer können ihre Kommentare jederzeit löschen.", "de"),
    ("Muitos internautas publicaram mensagens de apoio nos comentários da publicação.", "pt"),
    ("Websites must now ask you before setting tracking cookies, the judges said.", "en"),
    ("Apoie a iniciativa dos estudantes e dos professores da escola.", "pt"),
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


def removals(text, lang, **options):
    flt = BoilerplateFilter(BoilerplateConfig(**options))
    return [t for t, _ in judge(text, lang, flt)], flt.counts


BODY_FR = ("Cette semaine, Livo, abstentionniste depuis des années, cherche des arguments pour aller voter "
           "dimanche et interroge ses amis sur le vote blanc.")


def test_a_consent_dialog_broken_into_lines_is_removed_whole():
    """The lines of a real consent dialog: most name cookies, none holds a whole notice. An
    article that mentions cookies in long paragraphs keeps them."""
    dialog = ["Soucieux de la protection de vos données personnelles, nous vous informons que sur le site ARTE RADIO,",
              "ARTE France et des tiers utilisent des cookies et autres traceurs.",
              "En dehors des cookies strictement nécessaires au fonctionnement du site",
              "votre consentement est nécessaire pour les cookies de :",
              "Mesure d’audience : pour établir des statistiques de fréquentation du site.",
              "Partage avec les réseaux sociaux :",
              "En cliquant sur « OK », vous acceptez que ARTE RADIO et les tiers utilisent ces cookies."]
    removed, counts = removals("\n\n".join([BODY_FR, *dialog, BODY_FR]), "fr")
    assert removed == dialog[1:]
    assert counts == {"filter-boilerplate-consent_dialog": 6}
    # line by line, only the one that holds a whole notice (cookies, consent, the reader) goes
    assert removals("\n\n".join([BODY_FR, *dialog, BODY_FR]), "fr", blocks=False)[0] == [dialog[3], dialog[6]]
    article = [("The court ruled on Tuesday that websites must ask their visitors before they set cookies, "
                "a decision that privacy groups had sought for years and that advertisers had fought. ") * 2,
               "Cookies are small files that a website stores in the browser of its visitors.",
               ("Advertisers said the ruling on cookies would cost them revenue, while the regulator said it "
                "would publish guidance for websites and their partners within the next six months, and "
                "that it expected most sites to follow it without delay. ") * 2]
    assert removals("\n\n".join(article), "en")[0] == []
    # short lines of news about cookies: no line tells the reader what to click or set
    news = ["The EU court ruled on cookie banners on Tuesday.",
            "Websites must now ask you before setting tracking cookies, the judges said.",
            "Pre-ticked boxes do not count as consent to cookies.",
            "Cookies help advertisers follow users across sites, the court noted."]
    assert removals("\n\n".join(news), "en")[0] == []


def test_the_titles_under_a_related_label_are_removed_and_the_heading_of_the_next_section_kept():
    """Lists of related articles from real pages: the label, then its titles up to the prose; an
    unbulleted title right above the prose is that prose's heading."""
    de = ["- Mehr zum Thema Gesundheit:",
          "- Augenzucken: Das will dein Körper dir damit sagen",
          "- Das passiert mit der Kopfhaut, wenn du jeden Tag Zopf trägst",
          "- Vitamine gegen Müdigkeit: Diese Lebensmittel enthalten B-Vitamine"]
    body_de = ("Wer ständig müde ist, sollte zuerst seinen Schlaf prüfen und dann mit dem Hausarzt über "
               "Blutwerte sprechen, rät die Ärztin.")
    removed, counts = removals("\n\n".join([body_de, *de, body_de]), "de")
    assert removed == de and counts == {"filter-boilerplate-related_links": 4}
    pl = ["Polecane przepisy", "Tarta z porami i serem", "Pierogi z dynią w sosie szałwiowym",
          "Pierogi to klasyczne danie nie tylko kuchni polskiej – podobne potrawy zjeść można także w innych "
          "regionach świata, a farsz może być słodki albo wytrawny. To naprawdę pyszne danie – przekonaj się?"]
    assert removals("\n\n".join(pl), "pl")[0] == []            # no label: a heading is not a list of links
    removed, _ = removals("\n\n".join(["Czytaj więcej", *pl]), "pl")
    assert removed == ["Czytaj więcej", "Polecane przepisy", "Tarta z porami i serem"]
    # a single common word is a label only with a colon: "More ways to customize" heads content
    mozilla = ["More ways to customize", "Themes", "Make Firefox match your style. Choose from thousands of themes."]
    assert removals("\n\n".join(mozilla), "en")[0] == []
    agenda = ["Also on the agenda:", "- Budget", "- Schools", "- Roads"]
    assert removals("\n\n".join(agenda), "en")[0] == []
