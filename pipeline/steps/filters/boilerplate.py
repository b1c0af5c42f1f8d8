"""The ``boilerplate`` filter: a paragraph that is site furniture, not content. Lone separators,
advertising labels, "read more" teasers, cookie and consent notices, newsletter sign-ups, share and
follow buttons and appeals for support, the labels of menus, comment forms and logins, comment
counts and comment rules, loading messages, lines of tags, typo-report prompts, pagination, PHP
warnings and placeholder text ("Lorem ipsum ..."), in many languages. Two rules look at the lines
around a paragraph: a consent dialog broken into lines, and the titles listed under a "Related"
label.

Each rule matches the whole paragraph and is kept narrow: a line of content that merely
mentions cookies or sharing ("The EU court ruled on cookie banners on Tuesday.") does not match,
because the rules ask for the words a site uses to address its reader.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...model import Document, Paragraph
from ...registry import FILTERS, option, reason
from ...text.placeholder import is_placeholder
from ...text.substrings import any_of
from .base import Filter, check_rules_off, rules_off_option

BOILERPLATE = reason("boilerplate", "filters", "site furniture: menus, teasers, cookie notices, share buttons, pagination")


@dataclass(frozen=True)
class BoilerplateConfig:
    enabled: bool = option(True)
    max_words: int = option(80, lo=1, doc="longer paragraphs are content, whatever they say")
    blocks: bool = option(True, doc="also consent dialogs cut into lines, titles under a \"Related\" label")
    rules_off: tuple[str, ...] = rules_off_option()

    def check(self, prefix: str) -> None:
        check_rules_off(self.rules_off, RULES, prefix)


def _words(*groups: str) -> str:
    """An alternation of phrases, longest first (so "Read more" wins over "Read"); their first
    words go to ``_FIRST`` (the cheap look before the expression)."""
    items = {w.strip() for g in groups for w in g.split("|") if w.strip()}
    for w in items:
        first = w.split()[0].lower()
        _FIRST.add(first[:2] if first[:1].lower() == first[:1].upper() else first)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(items, key=lambda w: (-len(w), w)))


# The first words of every phrase below (the first two characters of a phrase written without
# spaces): a paragraph that starts with none of them is no teaser, button, label or pager.
_FIRST: set[str] = set()

# Labels of "read more" teasers. Unambiguous ones may be followed by the title directly; a single
# common word ("Read", "Related", "More") needs a colon, an arrow or brackets after it.
_TEASER = _words(
    "Read more|Read also|Also read|See also|Related articles|Related stories|More on this story|Recommended",
    "Lire aussi|À lire aussi|A lire aussi|Voir aussi|Lire la suite|À lire également|Sur le même sujet",
    "Lesen Sie auch|Lesen Sie mehr|Mehr zum Thema|Mehr dazu|Auch interessant|Weiterlesen|"
    "Das könnte Sie auch interessieren|Zum Thema",
    "Leer más|Lea también|Lea aquí|Le puede interesar|Te puede interesar|Ver también|Vea también|"
    "También puede leer|Más información|Noticias relacionadas|Lee también",
    "Leia também|Leia mais|Veja também|Saiba mais|Notícias relacionadas|Leggi anche|Leggi tutto|Vedi anche|"
    "Potrebbe interessarti",
    "Читайте также|Читайте також|Смотрите также|Читать далее|Подробнее|Czytaj też|Czytaj także|Zobacz też|"
    "Zobacz także|Czytaj więcej|Lees ook|Lees meer|Læs også|Läs också|Les også|Lue myös|Devamını oku|"
    "Ayrıca okuyun|相关阅读|延伸阅读|相关新闻|推荐阅读|関連記事|関連URL",
    "Related coverage|Related content|Related links|Related information|Related posts|Related news|"
    "Continue reading|Keep reading|Read next|Up next|Seguir leyendo|Sigue leyendo|Lue seuraavaksi|"
    "Dowiedz się więcej|Baca juga|Pour lire la suite|Lesen Sie weiter")
_TEASER_WORD = _words("Read|Related|More|Plus|Mehr|Más|Mais|Altro|Ещё|Більше|Więcej|Meer|Also|"
                      "Lire|Leia|Lees|Baca|Mire|Video|Im Video|Regardez|Guarda|Смотрите")
# ... and the words that make a label of their own with a colon: "More games news:" (not "Also on
# the agenda:" or "Read the statement:", which introduce content)
_MORE_WORD = "More|Plus|Mehr|Más|Mais|Altro|Ещё|Більше|Więcej|Meer|Related"
_AD = _words("Advertisement|Advertising|Sponsored|Sponsored content|Anzeige|Werbung|Publicité|Publicidad|"
             "Pubblicità|Publicidade|Reklama|Реклама|Advertentie|Annonce|Mainos|Reklam|广告|広告|إعلان")
_SHARE = _words(
    "Share|Share this|Share this article|Share on Facebook|Share on Twitter|Tweet|Pin it|Follow us|Follow us on|"
    "Subscribe|Subscribe to our newsletter|Sign up for our newsletter|Like us on Facebook",
    "Teilen|Artikel teilen|Folgen Sie uns|Folge uns|Abonnieren|Newsletter abonnieren",
    "Partager|Partager sur Facebook|Suivez-nous|Abonnez-vous|S'abonner|S’abonner",
    "Compartir|Compartir en Facebook|Síguenos|Suscríbete|Compartilhar|Compartilhe|Siga-nos|Assine|Condividi|"
    "Seguici|Iscriviti",
    "Поделиться|Подписаться|Подписывайтесь|Udostępnij|Obserwuj nas|Delen|Volg ons|Del|Dela|Jaa|分享|分享到|关注我们|"
    "シェア|ツイート|フォロー",
    # asking the reader for money
    "Support us|Support our journalism|Donate now|Unterstütze uns|Unterstützen Sie uns|Jetzt spenden|Soutenez-nous|"
    "Faire un don|Apóyanos|Apoie o|Apoie a|Wesprzyj nas|Поддержите нас|Підтримайте нас|Sostienici|Steun ons")
_UI = _words(
    "Comment|Comments|Leave a comment|Leave a reply|Reply|Log in|Login|Log out|Sign in|Sign up|Register|"
    "Password|Forgot password|Forgot your password|Search|Menu|Main menu|Home|Homepage|Categories|Tags|Archive|"
    "Archives|Print|Email|E-mail|Submit|Contact|Contact us|Skip to content|Close|Back to top|Cancel reply",
    "Kommentar|Kommentare|Kommentieren|Antworten|Anmelden|Einloggen|Abmelden|Registrieren|Passwort|"
    "Passwort vergessen|Neues Passwort vergeben|Suche|Startseite|Drucken|Kategorien|Schlagwörter|Archiv|Kontakt|"
    "Zum Inhalt springen|Schließen|Nach oben",
    "Commentaire|Commentaires|Répondre|Connexion|Se connecter|Mot de passe|Rechercher|Accueil|Imprimer|Fermer|"
    "Ouvrir le mode avancé|Retour en haut",
    "Comentario|Comentarios|Responder|Iniciar sesión|Contraseña|Buscar|Inicio|Imprimir|Cerrar|Comentários|"
    "Entrar|Senha|Pesquisar|Página inicial|Commento|Commenti|Rispondi|Accedi|Cerca|Chiudi",
    "Комментарии|Комментарий|Ответить|Войти|Выйти|Пароль|Поиск|Главная|Правила комментирования|Коментарі|"
    "Komentarze|Komentarz|Zaloguj|Zaloguj się|Hasło|Szukaj|Reacties|Inloggen|Zoeken|Kommentarer|Logga in|Sök",
    "评论|发表评论|查看评论|登录|注册|密码|搜索|首页|打印|关闭窗口|返回顶部|コメント|ログイン|検索|ホーム|نظر شما|تعليقات",
    # writing a comment
    "Post a comment|Add a comment|Write a comment|Kommentar schreiben|Kommentar hinterlassen|Ihre Meinung|"
    "Laisser un commentaire|Voir les contributions|Deja un comentario|Deixe um comentário|Deixe seu comentário|"
    "Lascia un commento|Dodaj komentarz|Оставить комментарий|Написать комментарий|إضافة تعليق|إضافة تعليق جديد",
    "新規会員登録|会員登録|会員の方はこちら|記事保存|マイページ|お問い合わせ|ページの先頭へ|もっと見る")
_PAGER = _words("Previous|Next|Older posts|Newer posts|Older|Newer|Prev|Previous post|Next post|Next article|"
                "Zurück|Weiter|Vorherige|Nächste|Précédent|Suivant|Anterior|Siguiente|Próximo|Precedente|"
                "Successivo|Назад|Далее|Вперёд|Вперед|Poprzednia|Następna|Vorige|Volgende|上一页|下一页|前へ|次へ")

# Comments counted ("9 Comments", "No comments") and the page's loading messages; a line of tags.
_COMMENT_WORD = (r"(?:comments?|kommentare?|commentaires?|commenti|commento|comentarios?|comentários?|"
                 r"komentarz[ey]?|комментари[йяев]?|коментар[іяів]?)\b")
_NONE = "No|Keine|Kein|Aucun|Sin|Sem|Nessun|Brak|Нет"      # (not first words: tried behind a comment word)
_LOADING = _words("Loading|Working|Please wait|Wird geladen|Lade|Laden|Chargement|Chargement en cours|Cargando|"
                  "Carregando|Caricamento|Загрузка|Ładowanie|読み込み中|加载中|載入中")
_TAGS = _words("Tags|Tagged|Tagged with|Schlagwörter|Schlagworte|Stichwörter|Etiquetas|Étiquettes|Mots-clés|"
               "Теги|Метки|Ключевые слова|Етикети|Tagi|Trefwoorden|Keywords|Palabras clave|Palavras-chave|"
               "Parole chiave|标签|關鍵字|关键字|关键词|タグ|キーワード")

# Each pattern must match the whole paragraph (``fullmatch``); ``\A`` and the possessive
# quantifiers keep them linear under search() as well.
BOILERPLATE_PATTERNS = [
    # no letter and no digit: "-", "+++", "| | |", "⭐️⭐️⭐️⭐️", "* * *"; not code ("}", ");"), a
    # table's rule line ("|---|---|") or lost characters ("| ��� |")
    ("separator", re.compile(r"\A(?![^{}()\[\];\ufffd]*+[{}()\[\];\ufffd])(?!\s*+\|?\s*+:?-{3,})[\W_]++\Z")),
    ("advertising", re.compile(rf"\A[*(\[]?(?:{_AD})[)\]]?[ \t]*+[:.]?", re.I)),
    ("read_more", re.compile(
        rf"\A[\[(]?\s*+(?:(?:(?:{_TEASER})\b\s*+[:：»>\-–—]?|(?:{_TEASER_WORD})\s*+[:：»>]).*"
        # a label alone: "More games news:" (not "Plus de 200 morts : ..." over a headline)
        rf"|(?:{_MORE_WORD})(?:[ \t]++[^\s:：]++){{1,3}}?[ \t]*+[:：]\s*+)", re.I | re.S)),
    ("share_follow", re.compile(rf"\A(?:{_SHARE})\b(?:\s*+\S++){{0,5}}", re.I)),
    ("interface", re.compile(rf"\A[*»>＞\-–]?\s*+(?:{_UI})[ \t]*+(?:\(\d+\))?[ \t]*+[:*?]?", re.I)),
    ("loading", re.compile(rf"\A(?:{_LOADING})(?:[ \t]++[^\s.…]++){{0,2}}[ \t]*+(?:\.\.\.|…)", re.I)),
    ("tags", re.compile(rf"\A(?:{_TAGS})[ \t]*+[:：][^\n]{{0,300}}", re.I)),
    ("pagination", re.compile(
        rf"\A(?:(?:[«‹<←]\s*+)?(?:{_PAGER})(?:\s*+[»›>→])?(?:\s*+[|/·•]\s*+(?:[«‹<←]\s*+)?(?:{_PAGER})(?:\s*+[»›>→])?)*+"
        r"|(?:Page|Seite|Página|Pagina|Страница|Strona|Sida|Side)\s++\d+\s++(?:of|von|de|di|из|z|av|af)\s++\d+"
        r"|\d{1,3}(?:(?:[ \t]*+[|·•,])?[ \t]++\d{1,3}){2,}+(?:[ \t]*+(?:…|\.\.\.)[ \t]*+\d{1,4})?(?:[ \t]*+[»›>→])?)", re.I)),
    ("php_warning", re.compile(
        r"\A(?:Warning|Notice|Deprecated|Fatal error|Parse error|Strict Standards)\s*+:.{0,400}?"
        r"(?:on line \d+|in /\S+\.php)\S*", re.S)),
]
# Cookie and consent notices: the word for cookies, the vocabulary of consent and tracking, and a
# site speaking to its reader ("Bake the cookies until you see them brown" and "The court ruled
# that websites must ask for consent before setting cookies" miss one of them).
_COOKIE = re.compile(r"\b(?:cookies?|traceurs|Cookie-\w+|\w+-Cookies)\b", re.I)
_CONSENT = re.compile(
    r"\b(?:accept\w*|consent\w*|privacy|browser|browsing|tracking|tracker\w*|partners|analytics|personali[sz]\w+|"
    r"settings|website|Datenschutz\w*|Einstellungen|Einwilligung|akzeptier\w*|zustimm\w*|Partner|Webseite\w*|Website\w*|"
    r"navigateur|navigation|confidentialité|paramètres|partenaires|consentement|traceurs|navegación|navegador|"
    r"privacidad|configuración|aceptar|consentimiento|navigazione|consenso|accetta\w*|privacidade|aceitar|"
    r"согласие|конфиденциальност\w+|prywatności|akceptuj\w*)\b", re.I)

# Reported speech: news about cookies ("Websites must now ask you ..., the judges said.")
_REPORTED = re.compile(r"\b(?:said|says|told|sagte|sagt|erklärte|a déclaré|affirme|dijo|afirmó|disse|afirmou|"
                       r"ha detto|заявил\w*|сказал\w*)\b")
_VOICE = re.compile(
    r"\b(?:we|our|you|your|nous|notre|nos|vous|votre|vos|wir|unsere?[nrm]?|Sie|Ihre?[nrm]?|usamos|utilizamos|nuestr[oa]s?|"
    r"usted|utilizziamo|usiamo|nostr[oi]|utilizamos|nosso|nossa|você|мы|наш\w*|вы|ваш\w*|używamy|nasz\w*)\b", re.I)


# Newsletter sign-ups (a line or two): the word for a newsletter and a call to sign up, or a site
# speaking to its reader ("The company launched a newsletter in 2019." has neither).
_NEWSLETTER = any_of("ewsletter", "NEWSLETTER", "nfolettre", "oletín", "oletim", "ассылк", "メールマガジン", "メルマガ",
                     "まとめ読み", "電子報", "订阅")
_SIGN_UP = re.compile(
    r"\A(?:Get|Receive)\b|\b(?:sign\s+up|subscribe|abonnier\w*|anmelden|bestellen|inscri\w+|abonne\w*|suscr[ií]b\w*|"
    r"recib\w+|assin\w+|iscriviti|подпи\w+|zapisz|登録|無料)|登録|無料|订阅", re.I)

# A "related articles" label on a line of its own ("Mehr zum Thema Gesundheit:", "Related
# coverage", "- 関連URL"): the lines under it are the titles it lists. A single common word needs a
# colon ("More games news:"), except "Related", which heads nothing but links. Looked for only on a
# line that is a teaser (``read_more``) or starts with a bullet.
_RELATED_LABEL = re.compile(
    rf"\A[-•*·\s]*+(?:(?:{_TEASER})\b[^.!?。:：\n]{{0,40}}[:：]?|(?:{_MORE_WORD})\b[^.!?。:：\n]{{0,40}}[:：]"
    r"|Related(?:[ \t]++\w++){0,2})[ \t]*+\Z", re.I)
_BULLET = re.compile(r"[-•*·▪►]\s")
# A consent dialog's lines are short, and it tells the reader what to click or set.
_DIALOG_LINE_WORDS = 40
_DIALOG_ACTION = re.compile(
    r"\b(?:click\w*|cliqu\w*|klick\w*|clic|haga clic|clique|clicca\w*|settings|Einstellungen|paramétr\w*|"
    r"paramètres|configuración|configurações|impostazioni|ustawienia|настройк\w*|accept all|alle akzeptieren|"
    r"tout accepter|aceptar todo|aceitar tudo|accetta tutto|OK)\b", re.I)
_RELATED_MAX_TITLES = 12       # a longer run under a label is a section of the page, not a list of links
_TITLE_WORDS = 20

# The rules of a comment section: the word for comments, what a newsroom says of them (opinions,
# responsibility, moderation, registration), in its own voice ("Facebook said it would remove
# comments that break its rules" is news; a quotation is never a rule).
_COMMENT_ANY = re.compile(
    r"\b(?:comments|commenting|comment polic\w+|kommentare|kommentieren|commentaires|commenti|comentarios|"
    r"comentários|komentarze|комментари\w*|коментар\w*|"
    r"(?:a|your|Ihr|Ihre|votre|su|seu|tu|tuo|twój)\s+(?:comment|Kommentar|commentaire|comentario|comentário|"
    r"commento|komentarz))\b|评论|評論|コメント|تعليق", re.I)
# the site speaking to its reader, in the case a sentence gives it ("ihre Kommentare", the users',
# and "nos comentários", in the comments, are not)
_VOICE_CASED = re.compile(
    r"\b(?:[Ww]e|[Oo]ur|[Yy]ou|[Yy]our|[Nn]ous|[Nn]otre|[Vv]ous|[Vv]otre|[Ww]ir|[Uu]nser\w*|Sie|Ihr\w*|usted|"
    r"[Nn]uestr[oa]s?|[Nn]osso|[Nn]ossa|[Vv]ocê|[Mm]ы|[Нн]аш\w*|[Вв]ы|[Вв]аш\w*)\b")
_POLICY = re.compile(
    r"\b(?:opinion\w*|opinião|opinión|Meinung\w*|avis|opinione|мнени\w*|opini\w*|respons[aá]b\w*|responsib\w*|"
    r"Verantwortung|ответственн\w*|moderat\w*|entfern\w*|lösch\w*|freigeschaltet|schaltet|delete\w*|remove\w*|"
    r"supprim\w*|elimin\w*|exclu[ií]d\w*|удал\w*|запрещ\w*|prohib\w*|verboten|interdit\w*|proibid\w*|beleidigend\w*|"
    r"insult\w*|ofensiv\w*|offensive|respetuos\w*|respeit\w*|registr\w*|регистр\w*|Netiquette|"
    r"Nutzungsbedingungen|política|politique|policy|Richtlinien|правил\w*|Veröffentlichung|publica\w*|publish\w*)\b",
    re.I)
_NEWSROOM = re.compile(r"\b(?:Redaktion|redacción|rédaction|redação|redazione|редакци\w*|redakcja)\b", re.I)
# "9 Comments", "Keine Kommentare zu “Malaga, die quirlige Metropole”", "No comments:" (not "No
# comment on the allegations was available")
_COMMENT_COUNT = re.compile(
    rf"\A[\[(]?(?:\d{{1,6}}|{_NONE})[ \t]++{_COMMENT_WORD}(?:[ \t]++(?:zu|for|on|to|sur|a|em|para|на|do)[ \t]++"
    r"[“\"„«‘'][^\n]{0,160})?[ \t]*+[:.)\]]?", re.I)
_QUOTE = re.compile(r"[\"“”„«»]")
# A paywall's notice: the rest of the article is for subscribers.
_PAYWALL = re.compile(
    r"会員限定|有料会員|for subscribers|subscribers only|Subscribe to (?:continue|read)|réservé aux abonnés|"
    r"für Abonnenten|Abonnenten vorbehalten|exclusivo para (?:suscriptores|assinantes)|digitalt abonnement|"
    r"订阅后阅读", re.I)
# Parts of the words for a newsletter or a subscription (one look before the rules above: each
# part costs about as much as a branch of an expression, so they are few)
_SUBSCRIBE = any_of("letter", "LETTER", "lettre", "bscri", "uscri", "bonn", "ssin", "oleti", "oletí", "ассылк", "メ",
                    "まとめ読み", "電子報", "订阅", "会員")
_CLICK = any_of("lick", "LICK", "clic", "Clic", "liqu", "kliknij", "Kliknij", "нажмите", "Нажмите")
_COMMENTS = any_of("omment", "oment", "оммент", "омент", "评论", "評論", "コメント", "تعليق")
# Prompts are short lines.
_PROMPT_CHARS = 240
# A line that points at a link: "If you're on the ABC7 News app, click here to watch live"
_CLICK_HERE = re.compile(r"\b(?:click here|klicken Sie hier|hier klicken|cliquez ici|haga clic aquí|clique aqui|"
                         r"clicca qui|нажмите здесь|kliknij tutaj)\b", re.I)
# "Нашли ошибку? Выделите текст и нажмите Ctrl+Enter": the typo-report prompt of many news sites
_CTRL_ENTER = re.compile(r"Ctrl\s?\+\s?Enter", re.I)

RULES = (*(rule for rule, _ in BOILERPLATE_PATTERNS), "cookie_notice", "newsletter", "paywall", "click_here",
         "typo_report", "comment_count", "comment_policy", "placeholder", "consent_dialog", "related_links")

_PHP = ("Warning", "Notice", "Deprecated", "Fatal error", "Parse error", "Strict Standards")
_PAGE_WORDS = {"page", "seite", "página", "pagina", "страница", "strona", "sida", "side"}


_FIRST_TOKEN = re.compile(r"\A[\[(*»>＞\-–•«‹<←|\s]*+([^\s:：»>＞]++)")


# A teaser's title, a label or a pager is at most this long: longer paragraphs can only be cookie
# notices.
_LONGEST_RULE_WORDS = 40


def _short(text: str, limit: int) -> bool:
    return len(text) <= 30 * limit and len(text.split(None, limit)) <= limit


def _match(text: str, max_words: int) -> str | None:
    """The first rule of ``BOILERPLATE_PATTERNS`` that matches all of ``text``, else the cookie
    rule. Most paragraphs are settled by a cheap look (the first word, a substring) before any
    expression runs or any word is counted."""
    if not text[0].isalnum() and BOILERPLATE_PATTERNS[0][1].fullmatch(text) and _short(text, max_words):
        return "separator"
    m = _FIRST_TOKEN.match(text)
    if m is not None:
        first = m.group(1).lower()
        if not first.isascii() and first[:1].lower() == first[:1].upper():
            first = first[:2]                       # a script without case and without spaces
        if (first in _FIRST or first.isdigit() or first in _PAGE_WORDS) \
                and _short(text, min(max_words, _LONGEST_RULE_WORDS)):
            for rule, rx in BOILERPLATE_PATTERNS[1:-1]:
                if rx.fullmatch(text):
                    return rule
    if text.startswith(_PHP) and BOILERPLATE_PATTERNS[-1][1].fullmatch(text) and _short(text, max_words):
        return "php_warning"
    if ("ookie" in text or "raceur" in text) and _short(text, max_words) and _COOKIE.search(text) \
            and _CONSENT.search(text) and _VOICE.search(text) and not _REPORTED.search(text):
        return "cookie_notice"
    if len(text) <= _PROMPT_CHARS:
        # a short line that asks the reader to act: sign up for a newsletter, subscribe to read on,
        # click a link, report a typo (each substring looked for costs about as much as a branch
        # of an expression, so they are few, and looked for in short lines only)
        if _SUBSCRIBE(text):
            if _NEWSLETTER(text) and (_SIGN_UP.search(text) or _VOICE.search(text)):
                return "newsletter"
            if _PAYWALL.search(text):
                return "paywall"
        if _CLICK(text) and _CLICK_HERE.search(text):
            return "click_here"
        if "trl" in text and _CTRL_ENTER.search(text):
            return "typo_report"
    if _COMMENTS(text) and _short(text, max_words):
        if _COMMENT_COUNT.fullmatch(text):
            return "comment_count"
        if not _QUOTE.search(text) and _COMMENT_ANY.search(text) and _POLICY.search(text) \
                and (_VOICE_CASED.search(text) or _NEWSROOM.search(text)):
            return "comment_policy"
    if is_placeholder(text):
        return "placeholder"
    return None


def _related_titles(paragraphs: list[Paragraph], label: int) -> range:
    """The lines under a "related" label that read as titles: short lines that do not end with a
    full stop, all bulleted if the first is. They end at the first line of prose, and an unbulleted
    line right above that prose is its heading, not a link."""
    end = label + 1
    bulleted = end < len(paragraphs) and _BULLET.match(paragraphs[end].text) is not None
    while end < len(paragraphs) and end - label <= _RELATED_MAX_TITLES:
        t = paragraphs[end].text.rstrip().rstrip("\"'”’»)")
        if not t or t[-1] in ".。" or len(t.split(None, _TITLE_WORDS)) > _TITLE_WORDS or len(t) > 200 \
                or (bulleted and not _BULLET.match(t)) \
                or (end + 1 < len(paragraphs) and paragraphs[end + 1].text[:1].islower()):
            break            # prose, another kind of line, or a piece of a wrapped sentence
        end += 1
    if not bulleted and end < len(paragraphs) and 1 < end - label <= _RELATED_MAX_TITLES:
        end -= 1             # stopped at prose: the title above it is its heading
    return range(label + 1, end)


def _consent_dialog(paragraphs: list[Paragraph], max_words: int) -> range:
    """A consent dialog broken into lines: from the first to the last of at least three lines that
    name cookies, at least half of the lines between them doing so, every line short, the whole
    speaking to the reader about consent (as one cookie notice would), and one line telling the
    reader what to click or set. An article about cookie law has the first parts, not the last."""
    hits = [p.idx for p in paragraphs if _COOKIE.search(p.text)]
    if len(hits) < 3 or 2 * len(hits) < hits[-1] - hits[0] + 1:
        return range(0)
    span = paragraphs[hits[0]:hits[-1] + 1]
    if any(not _short(p.text, min(max_words, _DIALOG_LINE_WORDS)) for p in span):
        return range(0)
    text = "\n".join(p.text for p in span)
    if _CONSENT.search(text) and _VOICE.search(text) and _DIALOG_ACTION.search(text):
        return range(hits[0], hits[-1] + 1)
    return range(0)


@FILTERS.add
class BoilerplateFilter(Filter):
    """A paragraph that is site furniture (see the module's docstring); with ``blocks``, also the
    lines of a consent dialog and the titles listed under a "related" label."""
    name, order, reason, Config = "boilerplate", 20, BOILERPLATE, BoilerplateConfig

    def judge(self, doc, p):
        text = p.text
        # A block is found when the judge reaches its first line (paragraphs are judged in order)
        # and kept in ``self.batch`` for the lines after it: (id(doc), paragraph index) -> rule,
        # and id(doc) -> True once a document was searched for a consent dialog.
        if self.batch:
            rule = self.batch.get((id(doc), p.idx))
            if rule:
                return [(None, rule, {})]
        if len(text) > 15 * _LONGEST_RULE_WORDS and "ookie" not in text and "raceur" not in text \
                and "olor" not in text and "olupt" not in text:
            return []            # long, no cookie notice, no placeholder: content (most paragraphs stop here)
        rule = _match(text, self.cfg.max_words)
        if self.cfg.blocks and (rule == "read_more" or "ookie" in text or "raceur" in text
                                or (rule is None and text[:1] in "-•*·" and len(text) <= 80)):
            self._find_blocks(doc, p, rule)
            rule = rule or self.batch.get((id(doc), p.idx))
        return [(None, rule, {})] if rule else []

    def _find_blocks(self, doc: Document, p: Paragraph, rule: str | None) -> None:
        found: range = range(0)
        if len(p.text) <= 80 and (rule is None or rule == "read_more") and _RELATED_LABEL.match(p.text):
            found, name = _related_titles(doc.paragraphs, p.idx), "related_links"
            if found and rule is None:
                found = range(p.idx, found.stop)    # the label itself (after a bullet, or a long one)
        elif ("ookie" in p.text or "raceur" in p.text) and id(doc) not in self.batch:
            self.batch[id(doc)] = True
            found, name = _consent_dialog(doc.paragraphs, self.cfg.max_words), "consent_dialog"
        for i in found:
            self.batch[(id(doc), i)] = name
